# Browser tests of the web UI (issue 4): Playwright (playwright-core, pinned in
# package.json) driving Debian's Chromium against a flowhost server that each test
# file starts on its own. tools/test.sh runs `npm ci` here when node_modules is missing.
find_program(NODE node)
if(NOT NODE)
  message(STATUS "node not found: browser tests skipped")
  return()
endif()

foreach(t helloworld validation permissions shipment keyboard mobile events compose external versions admin data chart ui)
  add_test(NAME browser_${t} COMMAND ${NODE} ${CMAKE_SOURCE_DIR}/tests/browser/${t}.test.mjs)
  set_tests_properties(browser_${t} PROPERTIES LABELS browser ENVIRONMENT "${FLOWHOST_TEST_ENV}" TIMEOUT 180)
endforeach()
# browser_hosts: two hosts on one database serving different versions of a flow (the Flows
# page's hosts line, the other version highlighted, then every host on this version).
add_test(NAME browser_hosts COMMAND ${NODE} ${CMAKE_SOURCE_DIR}/tests/browser/hosts.test.mjs)
set_tests_properties(browser_hosts PROPERTIES LABELS browser ENVIRONMENT "${FLOWHOST_TEST_ENV}" TIMEOUT 180)
