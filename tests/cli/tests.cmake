# The CLI end to end: helloworld and shipment to DONE with the CLI alone.
add_test(NAME cli_end_to_end COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/cli_test.sh)
set_tests_properties(cli_end_to_end PROPERTIES LABELS "cli" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# Versions: check --against (text, json, exit codes), pinned processes, migrate, prune-versions.
add_test(NAME cli_versions COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/versions_test.sh)
set_tests_properties(cli_versions PROPERTIES LABELS "cli" TIMEOUT 60 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# Issue 14: usage = README, list options checked like the API, paging, reassign of a NEW
# task, `check` wording and order, a failed first start makes no admin.
add_test(NAME cli_admin COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/cli_admin_test.sh)
set_tests_properties(cli_admin PROPERTIES LABELS "cli" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
# flowhost compact: 4 KiB pages to 2 KiB, whole; refused beside a running server; bad input.
add_test(NAME cli_compact COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/compact_test.sh)
set_tests_properties(cli_compact PROPERTIES LABELS "cli" TIMEOUT 60 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
