/* openapi_doc — docs/openapi.json, embedded into the binary at build time
 * (CMake turns it into a C array: tools/embed.cmake); served as
 * GET /api/openapi.json without looking for any file at run time. */
#ifndef OPENAPI_DOC_H
#define OPENAPI_DOC_H

#include <stddef.h>

extern const unsigned char FLOWHOST_OPENAPI_JSON[];
extern const size_t FLOWHOST_OPENAPI_JSON_LEN;

#endif
