/* identity_admin — the identity side of the administration API: users as
 * an administrator sees them (direct grants, groups, effective
 * permissions, active), one write for every change of a user (admin flag,
 * active, password: disabling or a new password ends the user's sessions
 * and tokens), groups and memberships, checked grants and revokes.
 *
 * The last active admin is protected: a change that would leave no active
 * admin is FH_CONFLICT.  Like identity.c, every write is one short
 * transaction; password hashing happens before it.
 */
#ifndef IDENTITY_ADMIN_H
#define IDENTITY_ADMIN_H

#include <jansson.h>

#include "identity.h"

/* What PATCH /api/users/{name} asks; -1 (or NULL) leaves a part as is. */
typedef struct identity_user_change {
  int active;              /* 0 disable, 1 enable */
  int is_admin;            /* 0 demote, 1 promote */
  const char *password;    /* a new password */
  int random_password;     /* 1: a new generated one, copied into password_out */
} identity_user_change;

/* The user (store_admin_users' shape), or every user when username is NULL. */
int identity_admin_users(engine *e, const char *username, json_t **out, fherr *err);
/* Applies a change in one write; password_out (IDENTITY_PASSWORD_LEN) gets
 * a generated password. */
int identity_admin_change(engine *e, const char *username, const identity_user_change *c,
                          char password_out[IDENTITY_PASSWORD_LEN], identity_ended *ended, fherr *err);
/* Checks a group name as a user name is checked (1..63 bytes, no control
 * characters, no leading '@'). */
int identity_admin_check_group(const char *name, fherr *err);
int identity_admin_groups(engine *e, const char *name, json_t **out, fherr *err);
int identity_admin_group_add(engine *e, const char *name, fherr *err);
/* Adds (join 1) or removes the user to/from an existing group; FH_NOT_FOUND
 * for an unknown user or group, or a removal of a non-member. */
int identity_admin_member(engine *e, const char *group, const char *username, int join, fherr *err);
/* Grants or revokes perm of "alice" or "@group" (the subject must exist;
 * a revoke of what is not held is FH_NOT_FOUND). */
int identity_admin_grant(engine *e, const char *subject, const char *perm, int grant, fherr *err);

#endif
