# C unit tests: one executable per unit, one ctest entry per test case.
function(add_c_tests unit)
  add_executable(test_${unit} ${CMAKE_SOURCE_DIR}/tests/c/test_${unit}.c)
  target_link_libraries(test_${unit} PRIVATE flowhost_core PkgConfig::PQ)   # test.h makes test databases
  foreach(name ${ARGN})
    add_test(NAME c_${unit}_${name} COMMAND test_${unit} ${name})
    set_tests_properties(c_${unit}_${name} PROPERTIES LABELS "c" TIMEOUT 60
                         ENVIRONMENT "${FLOWHOST_TEST_ENV}")
  endforeach()
endfunction()

add_c_tests(store schema users_and_permissions process_and_tasks stale_version ids_after_lock token_prefixes join_lookup
            job_lease rollback_and_rename task_lists group_commit deferred_sync combined_writes combined_rerun
            messages list_rows list_owner audit_by_process checkpoints_beside queue_walk due_parts
            process_list_shapes error_list all_few all_few_or_walk all_status inbox_flow archive_flow date_pages
            busy_wait)
add_c_tests(concurrency split_join_race job_workers_race hosts_take_turns hosts_race_unlocked task_lock_order)
add_c_tests(luavm error_location budget memory_limit_steps json_round_trip pool flow_loader)
# Flows loaded into an engine's Lua state on first use (host/engine.c).
add_c_tests(flow_loading on_first_use edit_and_remove)
add_c_tests(short_txn handler_outside_writer)
add_c_tests(auth hash_and_verify old_hashes_verify bounded_parallel)
add_c_tests(login_turn turns threads)
# The host's sign-ins kept in memory (host/identity_cache.c).
add_c_tests(identity_cache serves_while_live change_drops_older_reads ages_out forget_by_database threads
            stamped_by_count stamped_by_database)
# When tokens were last used: noted by sign-ins, written aside (host/token_use.c).
add_c_tests(token_use latest_wins grows threads recorded)
add_c_tests(metrics counters_threads http_routes label_escaping query_plans job_lease_expiry gauge_cache)
add_c_tests(impact unchanged node_renamed node_removed node_changed field_retyped field_required field_removed
            join_changed flow_removed)
add_c_tests(store_versions stamp_and_current running_capped find move_with_map prune)

# The PostgreSQL backend without a server (the server tests: tests/pg/tests.cmake).
add_c_tests(store_pg texts selection sqlstates)
# Statements and round trips counted by the statement shim (GET /metrics).
add_c_tests(db_counts sqlite postgresql begin_deferred sent_ahead reads_sent render)
# What a helloworld process costs the database, action by action (issue 13's budget of 30).
add_c_tests(statements helloworld sent_ahead_fails lock_kept_on_failure)
add_c_tests(jsonw strings structure values object_texts task_rows process_rows)
# The VFS writing one commit's WAL frames with one write (host/store_walbuf.c).
add_c_tests(walbuf concurrent_commits spill_rollback one_write_per_commit write_error run_written_before_calls wal_filled_ahead
            crash_mid_transaction crash_mid_commit_write dbc_open_uses_it env_turns_it_off)
# fhtime_format by hand against the libc formatting it replaced.
add_c_tests(fhtime every_day edges random)
# The log's lines said at most once per period (host/fhlog.c).
add_c_tests(fhlog once_per_period threads)
# The task and process views against the json_pack calls they replaced; the summaries' cache.
add_c_tests(views tasks processes summary_cache read_snapshot)
