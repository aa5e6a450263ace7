# Benchmarks are built with the project but never run by ctest.
add_executable(engine_bench ${CMAKE_SOURCE_DIR}/bench/engine_bench.c)
target_link_libraries(engine_bench PRIVATE flowhost_core)
add_executable(jobs_bench ${CMAKE_SOURCE_DIR}/bench/jobs_bench.c)
target_link_libraries(jobs_bench PRIVATE flowhost_core)
add_executable(latency_bench ${CMAKE_SOURCE_DIR}/bench/latency_bench.c)
target_link_libraries(latency_bench PRIVATE flowhost_core)
