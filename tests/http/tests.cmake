# Black-box HTTP tests (issue 3): each spec starts real `flowhost serve` processes on free
# ports with temporary databases (users made with the CLI) and drives them over sockets.
#   http_api      the JSON API: processes as several users, sessions/CSRF/bearer,
#                 permissions and visibility, every error row, listings, graph.svg, races
#   http_robust   422 from raising handlers, a broken flow, static files and traversal,
#                 413/truncated/garbage requests, 503 on a locked database, first admin,
#                 option checking, graceful SIGTERM with a request in flight
#   http_events   messages and signals: delivered, kept then taken, a signal to several
#                 receivers, the message.<name> permission, every 400/405 of the two routes
#   http_slowloris 1,280 trickling connections from ten addresses; a normal client is still
#                 served within 2 s; the request deadline closes a trickler (run.sh lifts the
#                 descriptor limit); a host out of descriptors waits instead of spinning on
#                 accept, logs it, and serves again once clients let go
#   http_logins   sign-in throttling (429 + Retry-After, per name and per address, no lock-out
#                 of the owner), revocation by passwd/disable/token revoke, user name limits
#   http_hardening the database locked by another program (fresh threads answer at once;
#                 /api/health says "locked"), a full disk (503 busy, health "full"; needs
#                 root for a small tmpfs, else pending), calendar dates, chunked bodies
#   http_sandbox  a flow's os.execute refused (422) and --lua-unsafe, a runaway pattern
#                 answered within its budget beside other requests, SIGTERM during a stuck
#                 callback (exit within 10 s)
#   http_metrics  GET /metrics: 401/403 for non-admins, --metrics-listen; traffic moves exact
#                 counters (actions, HTTP by route pattern, jobs done/retried/failed, task
#                 gauges); `promtool check metrics` accepts the answer
#   http_external the external task routes: shapes, every 400/401/403/404/405/409, racing
#                 fetches, lease expiry, retries/ERROR/revive; runs examples/pdf_worker.py
# The servers run with leak detection on (also in a -DFLOWHOST_SANITIZE=ON build): a
# sanitizer report or a non-zero exit at shutdown fails the spec.
# (not add_busted: its unquoted list expansion loses the escaped ';;' of LUA_PATH)
set(FLOWHOST_HTTP_ENV "${FLOWHOST_TEST_ENV}")
if(FLOWHOST_TEST_ENV_PRELOAD)
  set(FLOWHOST_HTTP_ENV "${FLOWHOST_HTTP_ENV};${FLOWHOST_TEST_ENV_PRELOAD}")
endif()
foreach(spec api robust events slowloris logins hardening sandbox compose metrics external admin data ui)
  add_test(NAME http_${spec}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED} --output=plainTerminal
                   ${CMAKE_SOURCE_DIR}/tests/http/${spec}_spec.lua
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(http_${spec} PROPERTIES LABELS "http" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_HTTP_ENV}")
endforeach()
# http_hosts: several `serve` hosts on one database: GET /api/flows lists the hosts serving each
# flow and their hashes (two versions of one file, a reload, a stop, --name); on PostgreSQL (the
# pg_hosts entry) a job made through one host is run by another's worker within a second.
add_test(NAME http_hosts
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED} --output=plainTerminal
                 ${CMAKE_SOURCE_DIR}/tests/http/hosts_spec.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(http_hosts PROPERTIES LABELS "http" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_HTTP_ENV}")
