# Black-box HTTP tests (issue 3): each spec starts real `flowhost serve` processes on free
# ports with temporary databases (users made with the CLI) and drives them over sockets.
#   http_api      the JSON API: processes as several users, sessions/CSRF/bearer,
#                 permissions and visibility, every error row, listings, graph.svg, races
#   http_robust   422 from raising handlers, a broken flow, static files and traversal,
#                 413/truncated/garbage requests, 503 on a locked database, first admin,
#                 option checking, graceful SIGTERM with a request in flight
#   http_events   messages and signals: delivered, kept then taken, a signal to several
#                 receivers, the message.<name> permission, every 400/405 of the two routes
# The servers run with leak detection on (also in a -DFLOWHOST_SANITIZE=ON build): a
# sanitizer report or a non-zero exit at shutdown fails the spec.
# (not add_busted: its unquoted list expansion loses the escaped ';;' of LUA_PATH)
set(FLOWHOST_HTTP_ENV "${FLOWHOST_TEST_ENV}")
if(FLOWHOST_TEST_ENV_PRELOAD)
  set(FLOWHOST_HTTP_ENV "${FLOWHOST_HTTP_ENV};${FLOWHOST_TEST_ENV_PRELOAD}")
endif()
foreach(spec api robust events compose)
  add_test(NAME http_${spec}
           COMMAND ${LUA54} ${BUSTED} --output=plainTerminal ${CMAKE_SOURCE_DIR}/tests/http/${spec}_spec.lua
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(http_${spec} PROPERTIES LABELS "http" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_HTTP_ENV}")
endforeach()
