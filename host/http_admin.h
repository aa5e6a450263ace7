/* http_admin — the administration API (users, groups, grants, tokens of a
 * user, known permissions, scheduled work, incidents; docs/http-api.md,
 * Administration) and the answers that depend on the caller's role: flow
 * errors and task errors shown plainly to end users, with the Lua error
 * and traceback to admins and managers.  Private to the http layer.
 */
#ifndef HTTP_ADMIN_H
#define HTTP_ADMIN_H

#include "http_internal.h"

/* Answers the request when its path (segments after /api) is one of the
 * administration routes, and returns 1; 0 leaves it to http_route.c. */
int http_admin_route(http_req *r, const char *const *seg, int nseg);

/* Replies a flow error (422) as the caller's role allows: admins and
 * managers of `flow` get the Lua message, "traceback" and "node"; others
 * a plain message.  The full error is logged either way. */
void http_admin_reply_flow_error(http_req *r, engine *e, const char *flow, fherr *err);
/* Same for a task action: the flow is the task's. */
void http_admin_reply_task_error(http_req *r, engine *e, int64_t task_id, fherr *err);
/* Hides the Lua error of the tasks in an answer ("task", "tasks",
 * "items") from a caller who may not see it. */
void http_admin_redact(http_req *r, json_t *out);

#endif
