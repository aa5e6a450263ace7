# Busted specs of the flow DSL and of the core, run in-process through the
# `flowhost` Lua module (the repository root is the working directory, so
# the specs open `flows` and `tests/fixtures/flows`).
add_busted(lua_dsl tests/lua/dsl_spec.lua TIMEOUT 60)
add_busted(lua_nodes tests/lua/nodes_spec.lua TIMEOUT 60)
add_busted(lua_transitions tests/lua/transitions_spec.lua TIMEOUT 60)
add_busted(lua_tokens tests/lua/tokens_spec.lua TIMEOUT 60)
add_busted(lua_errors tests/lua/errors_spec.lua TIMEOUT 120)
add_busted(lua_jobs tests/lua/jobs_spec.lua TIMEOUT 120)
add_busted(lua_visibility tests/lua/visibility_spec.lua TIMEOUT 60)
add_busted(lua_patterns tests/lua/patterns_spec.lua TIMEOUT 60)
add_busted(lua_shipment tests/lua/shipment_spec.lua TIMEOUT 60)
add_busted(lua_migration tests/lua/migration_spec.lua TIMEOUT 60)
add_busted(lua_clock tests/lua/clock_spec.lua TIMEOUT 60)
add_busted(lua_events tests/lua/events_spec.lua TIMEOUT 60)
add_busted(lua_patterns_more tests/lua/patterns_more_spec.lua TIMEOUT 120)
add_busted(lua_compose tests/lua/compose_spec.lua TIMEOUT 120)
add_busted(lua_sandbox tests/lua/sandbox_spec.lua TIMEOUT 180)
add_busted(lua_external tests/lua/external_spec.lua TIMEOUT 60)
add_busted(lua_data tests/lua/data_spec.lua TIMEOUT 60)
add_busted(lua_history tests/lua/history_spec.lua TIMEOUT 60)
add_busted(lua_finished_sort tests/lua/finished_sort_spec.lua TIMEOUT 60)
add_busted(lua_summary_cache tests/lua/summary_cache_spec.lua TIMEOUT 60)
add_busted(lua_big_data tests/lua/big_data_spec.lua TIMEOUT 120)
add_busted(lua_ended tests/lua/ended_spec.lua TIMEOUT 120)
add_busted(lua_groups tests/lua/groups_spec.lua TIMEOUT 120)
set_tests_properties(lua_dsl lua_nodes lua_transitions lua_tokens lua_errors lua_jobs lua_visibility
                     lua_patterns lua_shipment lua_migration lua_clock lua_events lua_patterns_more
                     lua_compose lua_sandbox lua_external lua_data lua_finished_sort lua_summary_cache lua_big_data lua_ended lua_groups PROPERTIES LABELS "lua")
