# The PostgreSQL backend (label pg, docs/architecture-pg.md).  Each entry runs
# under a throw-away cluster of tests/pg/pg_cluster.sh (initdb costs seconds,
# so one cluster per entry, not per test case), which hands the tests a
# connection string in FLOWHOST_TEST_PG; every test makes its own database.
#   pg_c_store_pg  every PostgreSQL statement prepares on the server; migrations once
#   pg_c_store     tests/c/test_store.c, the store's unit tests, against PostgreSQL
#   pg_c_concurrency  one Join per split raced by 4 engines; no job run twice by 4 workers;
#                  engines of 4 "hosts" on one process take turns (the advisory process lock);
#                  without the lock, the server refuses their stale writes (flowhost_stale)
#   pg_c_store_versions  the stored flow versions (trigger, current version, moves)
#   pg_c_db_counts statements and round trips counted per request sent to the server
#   pg_c_statements  what each action of a helloworld process costs the server
#   pg_lua_a/b     every busted spec of tests/lua against PostgreSQL
#   pg_http        the HTTP specs against serve on PostgreSQL, and the index upkeep (upkeep_spec)
#   pg_http_drop   serve when PostgreSQL drops its connections (503, then full service)
#   pg_cli         the CLI end to end on PostgreSQL
#   pg_reload      hot reload and flow versions against serve on PostgreSQL
set(PG_CLUSTER ${CMAKE_SOURCE_DIR}/tests/pg/pg_cluster.sh)
foreach(unit store_pg store concurrency store_versions db_counts statements token_use)
  add_test(NAME pg_c_${unit} COMMAND ${PG_CLUSTER} $<TARGET_FILE:test_${unit}>)
  set_tests_properties(pg_c_${unit} PROPERTIES LABELS "pg" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
endforeach()

# Every busted spec of tests/lua passes on PostgreSQL; two entries (two
# clusters) so that -j2 runs them side by side.
function(add_pg_busted name)
  set(specs "")
  foreach(s ${ARGN})
    list(APPEND specs ${CMAKE_SOURCE_DIR}/tests/lua/${s}_spec.lua)
  endforeach()
  add_test(NAME ${name} COMMAND ${PG_CLUSTER} ${LUA54} ${BUSTED} --output=plainTerminal ${specs}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set(env "${FLOWHOST_TEST_ENV}")
  if(FLOWHOST_TEST_ENV_PRELOAD)
    set(env "${env};${FLOWHOST_TEST_ENV_PRELOAD}")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "pg" TIMEOUT 600 ENVIRONMENT "${env}")
endfunction()
add_pg_busted(pg_lua_a clock compose dsl errors events external jobs migration data finished_sort history)
add_pg_busted(pg_lua_b nodes patterns_more patterns sandbox shipment tokens transitions visibility summary_cache big_data ended groups)

# The black-box HTTP specs against `flowhost serve --db postgresql://...` (client.lua
# gives each server its own database); the two tests of SQLite's file lock are
# pending there.  slowloris (a connection-handling load test) stays SQLite-only.
set(specs "")
foreach(s api robust events logins hardening sandbox compose metrics external admin data ui upkeep)
  list(APPEND specs ${CMAKE_SOURCE_DIR}/tests/http/${s}_spec.lua)
endforeach()
add_test(NAME pg_http COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED}
                              --output=plainTerminal ${specs}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set(env "${FLOWHOST_TEST_ENV}")
if(FLOWHOST_TEST_ENV_PRELOAD)
  set(env "${env};${FLOWHOST_TEST_ENV_PRELOAD}")
endif()
set_tests_properties(pg_http PROPERTIES LABELS "pg" TIMEOUT 600 ENVIRONMENT "${env}")

# pg_spec.lua (PostgreSQL only): the server drops every connection of a serving host;
# requests under way reconnect or answer 503, then full service with nothing lost.  An
# entry of its own so that the ThreadSanitizer build runs it (tools/test.sh) without the
# rest of pg_http.
add_test(NAME pg_http_drop COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED}
                                   --output=plainTerminal ${CMAKE_SOURCE_DIR}/tests/http/pg_spec.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(pg_http_drop PROPERTIES LABELS "pg" TIMEOUT 120 ENVIRONMENT "${env}")

# The CLI end to end (tests/cli/cli_test.sh) with its databases on PostgreSQL.
add_test(NAME pg_cli COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/cli/cli_test.sh)
set_tests_properties(pg_cli PROPERTIES LABELS "pg" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")

# Hot reload and flow versions against a running `serve` on PostgreSQL.
add_test(NAME pg_reload COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED}
                                --output=plainTerminal ${CMAKE_SOURCE_DIR}/tests/reload/reload_http_spec.lua
                                ${CMAKE_SOURCE_DIR}/tests/reload/versions_http_spec.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(pg_reload PROPERTIES LABELS "pg" TIMEOUT 400 ENVIRONMENT "${env}")

# Several hosts on one database (tests/http/hosts_spec.lua): the hosts serving each flow with
# their hashes, and a job scheduled through host A run by host B's worker within a second while
# B polls every 60 s (LISTEN/NOTIFY), again after the server dropped B's listening connection.
add_test(NAME pg_hosts COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED}
                               --output=plainTerminal ${CMAKE_SOURCE_DIR}/tests/http/hosts_spec.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
# (no LD_PRELOAD: the spec loads no flowhost.so into lua5.4; pg_cluster.sh keeps it from
# PostgreSQL's own programs anyway)
set_tests_properties(pg_hosts PROPERTIES LABELS "pg" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")

# Three `flowhost serve` on one database (tests/pg/multihost_spec.lua): assigns and executes
# racing across hosts, a split's branches on two hosts, jobs shared by every host's workers,
# one host killed with SIGKILL and restarted; 0 lost, 0 doubled.  Then (pg_down_spec.lua) the
# server itself stopped for a while (FLOWHOST_TEST_PG_CTL): 503 busy at once, health "down",
# full service once it is back, nothing lost.
add_test(NAME pg_multihost COMMAND ${PG_CLUSTER} sh ${CMAKE_SOURCE_DIR}/tests/http/run.sh ${LUA54} ${BUSTED}
                                   --output=plainTerminal ${CMAKE_SOURCE_DIR}/tests/pg/multihost_spec.lua
                                   ${CMAKE_SOURCE_DIR}/tests/pg/pg_down_spec.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
# (no LD_PRELOAD: the specs load no flowhost.so into lua5.4)
set_tests_properties(pg_multihost PROPERTIES LABELS "pg" TIMEOUT 120 ENVIRONMENT "${FLOWHOST_TEST_ENV}")
