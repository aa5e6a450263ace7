# docs/openapi.json (issue 15): validated with @seriousme/openapi-schema-validator, its routes
# compared with docs/http-api.md's route index and the tables of host/http_route.c and
# host/http_admin.c, and real answers of a running host checked against its schemas (Ajv).
# Its npm packages are pinned in package.json / package-lock.json here; tools/test.sh runs
# `npm ci` when node_modules is missing.
find_program(NODE node)
if(NOT NODE)
  message(STATUS "node not found: the OpenAPI test is skipped")
  return()
endif()
add_test(NAME openapi_spec COMMAND ${NODE} ${CMAKE_SOURCE_DIR}/tests/openapi/openapi.test.mjs)
set_tests_properties(openapi_spec PROPERTIES LABELS openapi ENVIRONMENT "${FLOWHOST_TEST_ENV}" TIMEOUT 120)
