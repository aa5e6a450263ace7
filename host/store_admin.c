/* store_admin — SQL of the administration API (see store_admin.h).
 *
 * These statements run rarely (an administrator's screen), so they are
 * prepared per call on the current connection rather than added to the
 * core statement cache of store.c: the core table stays as it is, and a
 * finalized statement holds no lock after the call.  They are written in
 * what SQLite and PostgreSQL both read ("user" quoted): the shim only turns
 * ?N into $N.
 */
#include "store_admin.h"

#include "store_internal.h"

/* A statement's parameter: text, or an integer when text is NULL. */
typedef struct arg {
  const char *text;
  int64_t num;
} arg;

static dbs *prepare(store *st, const char *sql, const arg *args, int nargs, fherr *err) {
  dbs *s = sq_prepare_once(st, sql, "prepare", err);
  if (!s) return NULL;
  for (int i = 0; i < nargs; i++) {
    if (args[i].text) dbs_bind_text(s, i + 1, args[i].text);
    else dbs_bind_int64(s, i + 1, args[i].num);
  }
  return s;
}

static json_t *column_json(dbs *s, int col) {
  switch (dbs_col_type(s, col)) {
  case DB_INTEGER: return json_integer(dbs_col_int64(s, col));
  case DB_NULL: return json_null();
  default: return json_string((const char *)dbs_col_text(s, col));
  }
}

/* Every row as an object keyed by column name (one_column: column 0 only,
 * as an array of values). */
static int rows_of(store *st, const char *sql, const arg *args, int nargs, int one_column, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = prepare(st, sql, args, nargs, err);
  if (!s) return sq_prep_failed(err);
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    if (one_column) {
      json_array_append_new(arr, column_json(s, 0));
      continue;
    }
    json_t *row = json_object();
    for (int i = 0; i < dbs_col_count(s); i++) json_object_set_new(row, dbs_col_name(s, i), column_json(s, i));
    json_array_append_new(arr, row);
  }
  dbs_finalize(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "admin query");
  }
  *out = arr;
  return FH_OK;
}

/* Runs a statement without rows; *changes: rows it changed. */
static int exec_args(store *st, const char *sql, const arg *args, int nargs, int64_t *changes, fherr *err) {
  dbs *s = prepare(st, sql, args, nargs, err);
  if (!s) return sq_prep_failed(err);
  int rc = dbs_step(s);
  dbs_finalize(s);
  if (rc == DB_CONSTRAINT) return fherr_set(err, FH_CONFLICT, "already exists");
  if (rc != DB_DONE) return sq_fail(st, err, rc, "admin write");
  if (changes) *changes = dbc_changes(st->cur->db);
  return FH_OK;
}

/* --- users ------------------------------------------------------------------ */

static void to_bool(json_t *row, const char *from, const char *to) {
  json_t *v = json_object_get(row, from);
  json_t *b = json_boolean(v && json_integer_value(v));
  json_object_del(row, from);
  json_object_set_new(row, to, b);
}

/* The user row's JSON shape: booleans named as the API names them, no id. */
static void user_shape(json_t *row) {
  to_bool(row, "is_admin", "is_admin");
  to_bool(row, "is_active", "active");
  json_object_del(row, "id");
}

/* The (user id, name) rows of sql (its ?1, if any: id), in user order,
 * appended to the `key` array of each user row (by_id: decimal id -> row). */
static int add_names(store *st, const char *sql, const arg *id, json_t *by_id, const char *key, fherr *err) {
  json_t *rows;
  int rc = rows_of(st, sql, id, id ? 1 : 0, 0, &rows, err);
  if (rc) return rc;
  size_t i;
  json_t *r;
  json_array_foreach(rows, i, r) {
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)json_integer_value(json_object_get(r, "user_id")));
    json_t *user = json_object_get(by_id, uid);
    if (user) json_array_append(json_object_get(user, key), json_object_get(r, "name"));
  }
  json_decref(rows);
  return FH_OK;
}

/* A user's groups, grants and effective permissions, in (user, name)
 * order; cond: "" for every user's, or the condition on one (?1). */
#define USER_GROUPS(cond) \
  "SELECT ug.user_id, g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id" cond " ORDER BY ug.user_id, g.name"
#define USER_GRANTS(cond) "SELECT user_id, name FROM user_perm" cond " ORDER BY user_id, name"
#define USER_PERMS(cond, ug_cond)                                                                 \
  "SELECT user_id, name FROM user_perm" cond " UNION SELECT ug.user_id, gp.name FROM grp_perm gp" \
  " JOIN user_grp ug ON ug.grp_id = gp.grp_id" ug_cond " ORDER BY 1, 2"

/* Adds groups, grants and the effective permissions to each user row, in
 * three statements for all of them (one: the only user's details), not
 * three per user: with 10,000 users the list took 0.29 s (bench/README.md
 * section 50). */
static int user_details(store *st, json_t *users, int one, fherr *err) {
  json_t *by_id = json_object();
  size_t i;
  json_t *row;
  json_array_foreach(users, i, row) {
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    json_object_set(by_id, uid, row);
    json_object_set_new(row, "groups", json_array());
    json_object_set_new(row, "grants", json_array());
    json_object_set_new(row, "permissions", json_array());
  }
  arg id = {NULL, one ? json_integer_value(json_object_get(json_array_get(users, 0), "id")) : 0};
  const arg *by = one ? &id : NULL;
  int rc = add_names(st, one ? USER_GROUPS(" WHERE ug.user_id = ?1") : USER_GROUPS(""), by, by_id, "groups", err);
  if (!rc) rc = add_names(st, one ? USER_GRANTS(" WHERE user_id = ?1") : USER_GRANTS(""), by, by_id, "grants", err);
  if (!rc)
    rc = add_names(st, one ? USER_PERMS(" WHERE user_id = ?1", " WHERE ug.user_id = ?1") : USER_PERMS("", ""), by,
                   by_id, "permissions", err);
  json_decref(by_id);
  if (!rc) json_array_foreach(users, i, row) user_shape(row);
  return rc;
}

int store_admin_users(store *st, const char *username, json_t **out, fherr *err) {
  *out = NULL;
  arg a = {username, 0};
  json_t *rows;
  int rc = username ? rows_of(st, "SELECT id, username, is_admin, is_active, created_at FROM \"user\" WHERE username = ?1",
                              &a, 1, 0, &rows, err)
                    : rows_of(st, "SELECT id, username, is_admin, is_active, created_at FROM \"user\" ORDER BY username",
                              NULL, 0, 0, &rows, err);
  if (rc) return rc;
  if (username && json_array_size(rows) == 0) rc = fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", username);
  else rc = user_details(st, rows, username != NULL, err);
  if (!rc) *out = username ? json_incref(json_array_get(rows, 0)) : json_incref(rows);
  json_decref(rows);
  return rc;
}

int store_admin_set_admin(store *st, const char *username, int is_admin, fherr *err) {
  arg a[2] = {{username, 0}, {NULL, is_admin ? 1 : 0}};
  int64_t n = 0;
  int rc = exec_args(st, "UPDATE \"user\" SET is_admin = ?2 WHERE username = ?1", a, 2, &n, err);
  if (!rc && !n) rc = fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", username);
  return rc;
}

int store_admin_count_admins(store *st, int64_t *n, fherr *err) {
  json_t *rows;
  int rc = rows_of(st, "SELECT count(*) FROM \"user\" WHERE is_admin = 1 AND is_active = 1", NULL, 0, 1, &rows, err);
  if (!rc) *n = json_integer_value(json_array_get(rows, 0));
  json_decref(rows);
  return rc;
}

/* --- groups ------------------------------------------------------------------ */

static int group_details(store *st, json_t *row, fherr *err) {
  arg id = {NULL, json_integer_value(json_object_get(row, "id"))};
  json_t *members, *grants;
  int rc = rows_of(st,
                   "SELECT u.username FROM \"user\" u JOIN user_grp ug ON ug.user_id = u.id WHERE ug.grp_id = ?1"
                   " ORDER BY u.username",
                   &id, 1, 1, &members, err);
  if (rc) return rc;
  json_object_set_new(row, "members", members);
  if ((rc = rows_of(st, "SELECT name FROM grp_perm WHERE grp_id = ?1 ORDER BY name", &id, 1, 1, &grants, err)))
    return rc;
  json_object_set_new(row, "grants", grants);
  json_object_del(row, "id");
  return FH_OK;
}

int store_admin_groups(store *st, const char *name, json_t **out, fherr *err) {
  *out = NULL;
  arg a = {name, 0};
  json_t *rows;
  int rc = name ? rows_of(st, "SELECT id, name FROM grp WHERE name = ?1", &a, 1, 0, &rows, err)
                : rows_of(st, "SELECT id, name FROM grp ORDER BY name", NULL, 0, 0, &rows, err);
  if (rc) return rc;
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) if ((rc = group_details(st, row, err))) break;
  if (!rc && name && json_array_size(rows) == 0) rc = fherr_set(err, FH_NOT_FOUND, "unknown group '%s'", name);
  if (!rc) *out = name ? json_incref(json_array_get(rows, 0)) : json_incref(rows);
  json_decref(rows);
  return rc;
}

int store_admin_group_add(store *st, const char *name, fherr *err) {
  arg a = {name, 0};
  int rc = exec_args(st, "INSERT INTO grp(name) VALUES(?1)", &a, 1, NULL, err);
  if (rc == FH_CONFLICT) fherr_set(err, FH_CONFLICT, "group '%s' already exists", name);
  return rc;
}

/* --- checked revokes ------------------------------------------------------------ */

int store_admin_revoke(store *st, const char *subject, const char *perm, fherr *err) {
  int is_group = subject[0] == '@';
  arg a[2] = {{is_group ? subject + 1 : subject, 0}, {perm, 0}};
  int64_t n = 0;
  int rc = exec_args(st,
                     is_group ? "DELETE FROM grp_perm WHERE name = ?2 AND grp_id = (SELECT id FROM grp WHERE name = ?1)"
                              : "DELETE FROM user_perm WHERE name = ?2 AND user_id = (SELECT id FROM \"user\" WHERE username = ?1)",
                     a, 2, &n, err);
  if (!rc && !n) rc = fherr_set(err, FH_NOT_FOUND, "%s holds no grant '%s'", subject, perm);
  return rc;
}

int store_admin_leave(store *st, const char *username, const char *group, fherr *err) {
  arg a[2] = {{username, 0}, {group, 0}};
  int64_t n = 0;
  int rc = exec_args(st,
                     "DELETE FROM user_grp WHERE user_id = (SELECT id FROM \"user\" WHERE username = ?1)"
                     " AND grp_id = (SELECT id FROM grp WHERE name = ?2)",
                     a, 2, &n, err);
  if (!rc && !n) rc = fherr_set(err, FH_NOT_FOUND, "'%s' is not a member of group '%s'", username, group);
  return rc;
}

/* --- scheduled work ------------------------------------------------------------- */

int store_admin_scheduled(store *st, int limit, json_t **out, fherr *err) {
  arg a = {NULL, limit};
  /* the partial index task_due holds exactly the SCHEDULED tasks */
  return rows_of(st,
                 "SELECT id, process_id, flow_task, flow_task_type AS type, due_at, attempts, error_message"
                 " FROM task WHERE status = 'SCHEDULED' ORDER BY due_at, id LIMIT ?1",
                 &a, 1, 0, out, err);
}
