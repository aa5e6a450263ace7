# Test registration: every area keeps its own list, so the C unit tests,
# busted specs, HTTP tests and browser tests can grow independently.
#
# Tests that load flowhost.so into the stock lua5.4 interpreter need the
# sanitizer runtime preloaded in a sanitizer build: FLOWHOST_TEST_ENV has it.
set(FLOWHOST_TEST_ENV "FLOWHOST_BIN=$<TARGET_FILE:flowhost>"
    "LUA_CPATH=$<TARGET_FILE_DIR:flowhost_lua>/?.so\\;\\;"
    "LUA_PATH=${CMAKE_SOURCE_DIR}/lua/?.lua\\;${CMAKE_SOURCE_DIR}/tests/lua/?.lua\\;\\;"
    "FLOWHOST_SOURCE=${CMAKE_SOURCE_DIR}"
    # tests/pg/pg_cluster.sh's throw-away clusters in memory, where there is room
    "PG_CLUSTER_PARENT=/dev/shm")
if(FLOWHOST_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE FLOWHOST_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                  OUTPUT_VARIABLE FLOWHOST_LIBUBSAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  # lua5.4 itself is not instrumented: leak reports from it are noise.
  list(APPEND FLOWHOST_TEST_ENV_PRELOAD "LD_PRELOAD=${FLOWHOST_LIBASAN}:${FLOWHOST_LIBUBSAN}"
       "ASAN_OPTIONS=detect_leaks=0")
endif()
list(APPEND FLOWHOST_TEST_ENV "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
     "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0"
     "TSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/tsan.supp:halt_on_error=1:exitcode=66")

find_program(LUA54 lua5.4 REQUIRED)
find_program(BUSTED busted PATHS /usr/bin REQUIRED)

# add_busted(NAME SPEC [TIMEOUT s]) runs one spec file with lua5.4 + busted.
function(add_busted name spec)
  cmake_parse_arguments(B "" "TIMEOUT" "" ${ARGN})
  add_test(NAME ${name}
           COMMAND ${LUA54} ${BUSTED} --output=plainTerminal ${spec}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  # Quoted: an unquoted expansion would lose the escaped ';;' of LUA_PATH.
  set(env "${FLOWHOST_TEST_ENV}")
  if(FLOWHOST_TEST_ENV_PRELOAD)
    set(env "${env};${FLOWHOST_TEST_ENV_PRELOAD}")
  endif()
  if(NOT B_TIMEOUT)
    set(B_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${env}" TIMEOUT ${B_TIMEOUT})
endfunction()

include(${CMAKE_SOURCE_DIR}/tests/c/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/lua/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/cli/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/pg/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/http/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/jobs/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/browser/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/openapi/tests.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/reload/tests.cmake OPTIONAL)
