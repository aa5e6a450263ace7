# Crash safety of the job workers: SIGKILL the host at random moments.
add_test(NAME jobs_kill9 COMMAND ${LUA54} ${CMAKE_SOURCE_DIR}/tests/jobs/crash_test.lua)
set_tests_properties(jobs_kill9 PROPERTIES LABELS "jobs" TIMEOUT 180 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# The same for boundary timers and kept messages (the event model).
add_test(NAME jobs_events_kill9 COMMAND ${LUA54} ${CMAKE_SOURCE_DIR}/tests/jobs/events_crash_test.lua)
set_tests_properties(jobs_events_kill9 PROPERTIES LABELS "jobs" TIMEOUT 180 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# And for subprocesses: parents and children never diverge.
add_test(NAME jobs_compose_kill9 COMMAND ${LUA54} ${CMAKE_SOURCE_DIR}/tests/jobs/compose_crash_test.lua)
set_tests_properties(jobs_compose_kill9 PROPERTIES LABELS "jobs" TIMEOUT 180 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# And for reloads of a pinned flow: processes stay on their version (issue 17).
add_test(NAME jobs_versions_kill9 COMMAND ${LUA54} ${CMAKE_SOURCE_DIR}/tests/jobs/versions_crash_test.lua)
set_tests_properties(jobs_versions_kill9 PROPERTIES LABELS "jobs;reload" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
