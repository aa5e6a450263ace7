# Fuzzing: libFuzzer harnesses for the parsers, and their regression replay.
#
# Every build (gcc or clang, plain or sanitized) gets one replay program per
# harness, fuzz_replay_<name>: fuzz/replay.c calls the harness's
# LLVMFuzzerTestOneInput on every file of fuzz/regression/<name>/ (crashers
# kept next to their fix) and of the harness's seed corpus.  ctest runs them
# under the label "fuzz".
#
# With -DFLOWHOST_FUZZ=ON and clang, the real fuzzers fuzz_<name> are built
# too (libFuzzer + ASan + UBSan, flowhost_core instrumented for coverage):
#   CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFLOWHOST_FUZZ=ON
#   cmake --build build-fuzz -j2 --target fuzz_flowfile fuzz_form fuzz_http fuzz_login fuzz_auth \
#         fuzz_route fuzz_query fuzz_body fuzz_job
# See fuzz/README.md for how to run them.
option(FLOWHOST_FUZZ "Build the libFuzzer harnesses in fuzz/ (needs clang)" OFF)

set(FLOWHOST_FUZZ_DIR ${CMAKE_SOURCE_DIR}/fuzz)

# name -> folders replayed besides fuzz/regression/<name>
set(FUZZ_SEEDS_flowfile ${CMAKE_SOURCE_DIR}/flows ${CMAKE_SOURCE_DIR}/flows/patterns
    ${CMAKE_SOURCE_DIR}/tests/fixtures/broken)
set(FUZZ_SEEDS_form ${FLOWHOST_FUZZ_DIR}/seeds/form)
set(FUZZ_SEEDS_http ${FLOWHOST_FUZZ_DIR}/seeds/http)
# The request harnesses drive an embedded server (fuzz_http_lib.c); fuzz_job runs fuzz/flows.
set(FUZZ_REQUEST_HARNESSES login auth route query body)
foreach(name ${FUZZ_REQUEST_HARNESSES} job)
  set(FUZZ_SEEDS_${name} ${FLOWHOST_FUZZ_DIR}/seeds/${name})
endforeach()
foreach(name ${FUZZ_REQUEST_HARNESSES})
  set(FUZZ_EXTRA_${name} ${FLOWHOST_FUZZ_DIR}/fuzz_http_lib.c)
endforeach()
set(FLOWHOST_FUZZ_HARNESSES flowfile form http ${FUZZ_REQUEST_HARNESSES} job)

foreach(name ${FLOWHOST_FUZZ_HARNESSES})
  add_executable(fuzz_replay_${name} ${FLOWHOST_FUZZ_DIR}/replay.c ${FLOWHOST_FUZZ_DIR}/fuzz_${name}.c
                 ${FUZZ_EXTRA_${name}})
  target_link_libraries(fuzz_replay_${name} PRIVATE flowhost_core)
  target_compile_definitions(fuzz_replay_${name} PRIVATE FLOWHOST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME fuzz_${name}
           COMMAND fuzz_replay_${name} ${FLOWHOST_FUZZ_DIR}/regression/${name} ${FUZZ_SEEDS_${name}})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS "fuzz" TIMEOUT 120
                       ENVIRONMENT "${FLOWHOST_TEST_ENV}")
endforeach()

if(FLOWHOST_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FLOWHOST_FUZZ needs clang (libFuzzer): configure with CC=clang")
  endif()
  set(FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # Coverage for the code under test; the sanitizers reach every program
  # that links flowhost_core (unless FLOWHOST_SANITIZE already did it).
  target_compile_options(flowhost_core PRIVATE -fsanitize=fuzzer-no-link)
  if(NOT FLOWHOST_SANITIZE)
    target_compile_options(flowhost_core PUBLIC ${FUZZ_SANITIZERS})
    target_link_options(flowhost_core INTERFACE -fsanitize=address,undefined)
  endif()
  foreach(name ${FLOWHOST_FUZZ_HARNESSES})
    add_executable(fuzz_${name} ${FLOWHOST_FUZZ_DIR}/fuzz_${name}.c ${FUZZ_EXTRA_${name}})
    target_link_libraries(fuzz_${name} PRIVATE flowhost_core)
    target_compile_definitions(fuzz_${name} PRIVATE FLOWHOST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
  # Lua line coverage as libFuzzer extra counters (see fuzz_flowfile.c).
  target_compile_definitions(fuzz_flowfile PRIVATE FUZZ_LUA_COVERAGE)
  target_link_libraries(fuzz_flowfile PRIVATE ${CMAKE_DL_LIBS})
endif()
