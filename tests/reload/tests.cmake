# Hot reload and flow migration (issue 5).
#   reload_spec       flowreg_reload_path semantics through the Lua module, no server
#   reload_<case>     the inotify watcher on a temp folder, reload races, 50-reload leak check (C)
#   reload_http_spec  black-box against `flowhost serve` (tests/http/client.lua)
add_busted(reload_spec ${CMAKE_SOURCE_DIR}/tests/reload/reload_spec.lua TIMEOUT 120)
add_busted(reload_http_spec ${CMAKE_SOURCE_DIR}/tests/reload/reload_http_spec.lua TIMEOUT 300)
set_tests_properties(reload_spec PROPERTIES LABELS "reload")
set_tests_properties(reload_http_spec PROPERTIES LABELS "reload;http")

add_executable(test_reload ${CMAKE_SOURCE_DIR}/tests/reload/test_reload.c)
target_include_directories(test_reload PRIVATE ${CMAKE_SOURCE_DIR}/tests/c)
target_link_libraries(test_reload PRIVATE flowhost_core PkgConfig::PQ)
foreach(name watch_edits watch_files watch_folders watch_stop reload_race)
  add_test(NAME reload_${name} COMMAND test_reload ${name})
  set_tests_properties(reload_${name} PROPERTIES LABELS "reload" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
endforeach()
# Versions (issue 17): the HTTP view, pinned processes across a restart, kill -9 mid-reload.
add_busted(versions_http_spec ${CMAKE_SOURCE_DIR}/tests/reload/versions_http_spec.lua TIMEOUT 120)
set_tests_properties(versions_http_spec PROPERTIES LABELS "reload;http")
