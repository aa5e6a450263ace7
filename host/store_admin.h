/* store_admin — the rows the administration API reads and writes that the
 * core store (store.h) has no statement for: users with their direct
 * grants, groups with members and grants, the admin flag, checked revokes
 * and leaves (FH_NOT_FOUND when nothing was held), and the scheduled work
 * (jobs and timers waiting for their time).  Reads run outside a
 * transaction; the writes run inside the caller's store_begin..commit.
 */
#ifndef STORE_ADMIN_H
#define STORE_ADMIN_H

#include <jansson.h>
#include <stdint.h>

#include "fherr.h"
#include "store.h"

/* [{"username","is_admin","active","created_at","groups","grants","permissions"}]
 * by user name; username non-NULL: that user alone (the object, not an
 * array), FH_NOT_FOUND when unknown. */
int store_admin_users(store *st, const char *username, json_t **out, fherr *err);
/* [{"name","members":[...],"grants":[...]}] by name; name non-NULL: that
 * group alone (the object), FH_NOT_FOUND when unknown. */
int store_admin_groups(store *st, const char *name, json_t **out, fherr *err);
/* A new empty group; FH_CONFLICT when it exists. */
int store_admin_group_add(store *st, const char *name, fherr *err);
int store_admin_set_admin(store *st, const char *username, int is_admin, fherr *err);
/* Users that are both admins and active. */
int store_admin_count_admins(store *st, int64_t *n, fherr *err);
/* Revokes perm of "alice" or "@group"; FH_NOT_FOUND when it was not held. */
int store_admin_revoke(store *st, const char *subject, const char *perm, fherr *err);
/* Takes the user out of the group; FH_NOT_FOUND when not a member. */
int store_admin_leave(store *st, const char *username, const char *group, fherr *err);
/* SCHEDULED tasks (jobs, timers, boundary timers) by due time, at most
 * limit: [{"id","process_id","flow_task","type","due_at","attempts",
 * "error_message"}] (error_message: the last failed attempt's, or null). */
int store_admin_scheduled(store *st, int limit, json_t **out, fherr *err);

#endif
