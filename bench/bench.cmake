# Benchmarks are built with the project but never run by ctest.
add_executable(engine_bench ${CMAKE_SOURCE_DIR}/bench/engine_bench.c ${CMAKE_SOURCE_DIR}/bench/rows_alone.c)
target_link_libraries(engine_bench PRIVATE flowhost_core)
add_executable(jobs_bench ${CMAKE_SOURCE_DIR}/bench/jobs_bench.c)
target_link_libraries(jobs_bench PRIVATE flowhost_core)
add_executable(latency_bench ${CMAKE_SOURCE_DIR}/bench/latency_bench.c)
target_link_libraries(latency_bench PRIVATE flowhost_core)
add_executable(counts_bench ${CMAKE_SOURCE_DIR}/bench/counts_bench.c)
target_link_libraries(counts_bench PRIVATE flowhost_core)
add_executable(sql_count_bench ${CMAKE_SOURCE_DIR}/bench/sql_count_bench.c)
target_link_libraries(sql_count_bench PRIVATE flowhost_core ${CMAKE_DL_LIBS})
add_executable(pg_engine_bench ${CMAKE_SOURCE_DIR}/bench/pg_engine_bench.c ${CMAKE_SOURCE_DIR}/bench/pg_rows_alone.c
               ${CMAKE_SOURCE_DIR}/bench/rows_alone.c)
target_link_libraries(pg_engine_bench PRIVATE flowhost_core PkgConfig::PQ)
