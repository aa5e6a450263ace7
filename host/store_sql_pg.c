/* store_sql_pg — the store's statements in PostgreSQL's dialect.
 *
 * STORE_SQL_PG[q] means what STORE_SQL[q] (store.c) means, for the schema
 * of store_schema_pg.c: $N parameters (with casts where PostgreSQL cannot
 * infer a type), "user" quoted, json_array_elements_text for json_each,
 * ON CONFLICT DO NOTHING for INSERT OR IGNORE, no INDEXED BY, RETURNING id
 * where SQLite's rowid was read, LIMIT NULL for SQLite's LIMIT -1.
 * tests/c/test_store_pg.c prepares every one against a real server.
 */
#include "store_internal.h"

/* the ids of the tasks it came from, "3,4" (a list page reads its rows'
 * first link with them and any others in one statement: list_previous) */
#define TASK_PREV                                                                        \
  "CASE WHEN EXISTS (SELECT 1 FROM task_previous tp WHERE tp.task_id = t.id) THEN "       \
  "(SELECT string_agg(p::text, ',' ORDER BY p) FROM (SELECT previous_id AS p FROM task_previous tp "     \
  "  WHERE tp.task_id = t.id UNION SELECT t.prev_id WHERE t.prev_id IS NOT NULL) prevs) "  \
  "ELSE t.prev_id::text END, "
#define TASK_COLS TASK_COLS_HEAD TASK_PREV TASK_COLS_TAIL
#define TASK_FROM " FROM task t LEFT JOIN \"user\" u ON u.id = t.owner_id "
#define ACTIVE "('NEW','ASSIGNED','STARTED','SCHEDULED','ERROR')"
#define ENDED "('DONE','CANCELED','REVIVED')"
/* An action's open tasks, as store.c's: the open instances of a running
 * group left out, but for the task it acts on (a hashed subplan).  Two
 * parts, so that the tasks of no group are ranges of task_process with no
 * filter: with one, a loop's execute at 10,000 rounds took 3.0 ms instead
 * of 2.4 while its dead versions waited for a vacuum (bench/README.md,
 * section 51). */
#define LIVE_TASKS(pid, acted)                                                                       \
  "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = " pid " AND t.status IN " ACTIVE                 \
  " AND t.group_id IS NULL UNION ALL SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = " pid          \
  " AND t.status IN " ACTIVE " AND t.group_id IS NOT NULL AND (t.id = " acted " OR t.group_id NOT IN"  \
  " (" RUNNING_GROUP_IDS(pid) ")) ORDER BY 1"

/* The task list filters are all optional: a NULL parameter switches its
 * condition off, so one prepared statement serves every combination. */
/* The rows of a task insert (TASK_INSERT_INTO), parameters 23k+1 to 23k+23. */
#define PG_TASK_ROW_1 "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
#define PG_TASK_ROW_2 "($24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46)"
#define PG_TASK_ROW_3 "($47, $48, $49, $50, $51, $52, $53, $54, $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67, $68, $69)"
#define PG_TASK_ROW_4 "($70, $71, $72, $73, $74, $75, $76, $77, $78, $79, $80, $81, $82, $83, $84, $85, $86, $87, $88, $89, $90, $91, $92)"

/* Parameter p (with its type) as the value of an aggregate over a VALUES
 * row, none when it is NULL: a value no plan folds into a constant, so
 * that a prepared statement's plans for the values cost what its plan for
 * all of them does, and PostgreSQL keeps that one (AFTER_ROW below says
 * what went wrong without it) */
#define PARAM_AGG(p, agg, none) "SELECT coalesce(" agg "(a.v), " none ") AS id FROM (VALUES (" p ")) a(v)"
#define PARAM_VALUE(p, agg, none) "(" PARAM_AGG(p, agg, none) ")"
#define MAX_ID "9223372036854775807"

/* the flow's current version, named by every insert of a process (as on
 * SQLite since its schema 15): the BEFORE INSERT trigger that stamped it
 * cost the server ~17 us of PL/pgSQL per process (migration 19 drops it) */
#define CURRENT_VERSION(flow) "(SELECT hash FROM flow_version WHERE flow = " flow " AND is_current <> 0)"
/* a process row with its id (store_write_process) */
#define PROC_INSERT                                                                                            \
  "INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, parent_task_id,"   \
  " parent_id, depth, flow_version) VALUES($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, " CURRENT_VERSION("$2") ")"

const char *const STORE_SQL_PG[Q__COUNT] = {
  [Q_BEGIN] = "BEGIN",
  [Q_COMMIT] = "COMMIT",
  [Q_ROLLBACK] = "ROLLBACK",
  [Q_SAVEPOINT] = "SAVEPOINT node",
  [Q_RELEASE] = "RELEASE node",
  [Q_ROLLBACK_TO] = "ROLLBACK TO node",
  [Q_ACTION_SAVE] = "SAVEPOINT action",
  [Q_ACTION_RELEASE] = "RELEASE action",
  [Q_ACTION_ROLLBACK] = "ROLLBACK TO action",
  [Q_USER_ADD] = "INSERT INTO \"user\"(username, password_hash, is_admin, created_at) VALUES($1, $2, $3, $4) RETURNING id",
  [Q_USER_GET] = "SELECT id, username, is_admin, is_active, password_hash FROM \"user\" WHERE username = $1",
  [Q_USER_GET_ID] = "SELECT id, username, is_admin, is_active, password_hash FROM \"user\" WHERE id = $1",
  [Q_USER_PASSWD] = "UPDATE \"user\" SET password_hash = $2 WHERE username = $1",
  [Q_USER_ADMIN] = "UPDATE \"user\" SET is_admin = $2 WHERE username = $1",
  [Q_USER_COUNT] = "SELECT count(*) FROM \"user\"",
  [Q_USER_LIST] = "SELECT id, username, is_admin, is_active FROM \"user\" ORDER BY username",
  [Q_USER_PERMS] =
      "SELECT name FROM user_perm WHERE user_id = $1 UNION "
      "SELECT gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = $1",
  [Q_USER_GROUPS] = "SELECT g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id WHERE ug.user_id = $1 ORDER BY g.name",
  [Q_GROUP_ENSURE] = "INSERT INTO grp(name) VALUES($1) ON CONFLICT DO NOTHING",
  [Q_GROUP_ID] = "SELECT id FROM grp WHERE name = $1",
  [Q_GRANT_USER] = "INSERT INTO user_perm(user_id, name) VALUES($1, $2) ON CONFLICT DO NOTHING",
  [Q_GRANT_GROUP] = "INSERT INTO grp_perm(grp_id, name) VALUES($1, $2) ON CONFLICT DO NOTHING",
  [Q_REVOKE_USER] = "DELETE FROM user_perm WHERE user_id = $1 AND name = $2",
  [Q_REVOKE_GROUP] = "DELETE FROM grp_perm WHERE grp_id = $1 AND name = $2",
  [Q_JOIN] = "INSERT INTO user_grp(user_id, grp_id) VALUES($1, $2) ON CONFLICT DO NOTHING",
  [Q_LEAVE] = "DELETE FROM user_grp WHERE user_id = $1 AND grp_id = $2",
  [Q_USERS_WITH_PERM] =
      "SELECT username FROM \"user\" WHERE is_admin = 1 OR id IN ("
      " SELECT user_id FROM user_perm WHERE name = $1 UNION"
      " SELECT ug.user_id FROM user_grp ug JOIN grp_perm gp ON gp.grp_id = ug.grp_id WHERE gp.name = $1)"
      " ORDER BY username",
  [Q_SESSION_ADD] = "INSERT INTO session(id_hash, user_id, csrf_token, created_at, expires_at) VALUES($1, $2, $3, $4, $5)",
  [Q_SESSION_GET] = "SELECT user_id, csrf_token, expires_at FROM session WHERE id_hash = $1 AND expires_at > $2",
  [Q_SESSION_DEL] = "DELETE FROM session WHERE id_hash = $1",
  [Q_TOKEN_ADD] = "INSERT INTO api_token(token_hash, user_id, name, created_at) VALUES($1, $2, $3, $4)",
  [Q_TOKEN_GET] = "SELECT user_id FROM api_token WHERE token_hash = $1",
  [Q_TOKEN_USED] = "UPDATE api_token SET last_used_at = $2 WHERE token_hash = $1"
                   " AND (last_used_at IS NULL OR last_used_at < $2)",
  [Q_USER_ACTIVE] = "UPDATE \"user\" SET is_active = $2 WHERE username = $1",
  [Q_SESSION_DEL_USER] = "DELETE FROM session WHERE user_id = $1",
  [Q_TOKEN_DEL_USER] = "DELETE FROM api_token WHERE user_id = $1",
  [Q_TOKEN_LIST] = "SELECT id, name, created_at, last_used_at FROM api_token WHERE user_id = $1 ORDER BY id",
  [Q_TOKEN_FIND] =
      "SELECT t.id, u.username FROM api_token t JOIN \"user\" u ON u.id = t.user_id"
      " WHERE t.id = $1 OR t.token_hash = $2",
  [Q_TOKEN_DEL] = "DELETE FROM api_token WHERE id = $1",
  [Q_SESSION_PURGE] = "DELETE FROM session WHERE expires_at <= $1",
  /* sign-in throttling: failures per (name, address) row; a name's and an
   * address's totals are sums over the rows still inside the window ($3) */
  [Q_LOGIN_PAIR] = "SELECT failures, last_at FROM login_failure WHERE name = $1 AND addr = $2 AND last_at >= $3",
  [Q_LOGIN_NAME] = "SELECT coalesce(sum(failures), 0) FROM login_failure WHERE name = $1 AND last_at >= $2",
  [Q_LOGIN_ADDR] =
      "SELECT coalesce(sum(failures), 0), coalesce(max(last_at), '') FROM login_failure"
      " WHERE addr = $1 AND last_at >= $2",
  [Q_LOGIN_FAIL] =
      "INSERT INTO login_failure(name, addr, failures, last_at) VALUES($1, $2, 1, $3)"
      " ON CONFLICT(name, addr) DO UPDATE SET"
      " failures = CASE WHEN login_failure.last_at < $4 THEN 1 ELSE login_failure.failures + 1 END, last_at = $3",
  [Q_LOGIN_FORGET] = "DELETE FROM login_failure WHERE name = $1 AND addr = $2",
  [Q_LOGIN_PURGE] = "DELETE FROM login_failure WHERE last_at < $1",
  [Q_HEALTH_PROBE] = "INSERT INTO health_probe(id, at) VALUES(1, $1) ON CONFLICT(id) DO UPDATE SET at = $1",
  [Q_PROC_INSERT] = "INSERT INTO process(flow, status, data, created_by, created_at, flow_version)"
                    " VALUES($1, $2, $3, $4, $5, " CURRENT_VERSION("$1") ") RETURNING id",
  /* The page's ids as an array ("[3,4]" -> '{3,4}', once per execution:
   * a subquery, not an expression evaluated again for every row a scan
   * passes): the planner probes the primary keys for them, where a
   * json_array_elements_text it takes for 100 rows made it hash a scan of
   * the whole task table. */
#define PAGE_IDS "((SELECT translate($1, '[]', '{}')::bigint[])::bigint[])"
  [Q_PROC_GET] = PROC_ROW("\"user\"") "WHERE p.id = $1",
  /* a list page's processes whose summaries are not cached (store.c) */
  [Q_PROC_GET_MANY] = PROC_ROW("\"user\"") "WHERE p.id = ANY " PAGE_IDS,
  [Q_PROC_UPDATE] = "UPDATE process SET status = $2, data = $3, finished_at = $4, version = version + 1 WHERE id = $1",
  [Q_PROC_INSERT_ROW] = PROC_INSERT,
  [Q_PROC_INSERT_TOP] = PROC_INSERT,
  /* the short write of an action: only if nobody wrote the process since
   * it was read.  The server itself refuses the write when the row changed
   * (flowhost_stale() raises SQLSTATE FH409, i.e. DB_STALE), so the
   * statement is sent ahead with the rest and nobody waits for its count */
  [Q_PROC_UPDATE_CHECKED] =
      "WITH u AS (UPDATE process SET status = $2, data = $3, finished_at = $4, version = version + 1"
      " WHERE id = $1 AND version = $5 RETURNING id)"
      " SELECT flowhost_stale($1) WHERE NOT EXISTS (SELECT 1 FROM u)",
  [Q_TASK_PROCESS] = "SELECT process_id FROM task WHERE id = $1",
  /* not the largest id but the next ones: store_next_id takes every id of
   * a PostgreSQL store from its sequence, so hosts never collide; an
   * action's task ids in one round trip (as many rows as PG_ID_BLOCK), and
   * a start's process id with them (the first row; CASE runs nextval only
   * there) */
  [Q_MAX_TASK] = "SELECT nextval('task_id_seq') FROM generate_series(1, 8)",
  [Q_TASK_IDS_MORE] = "SELECT nextval('task_id_seq') FROM generate_series(1, $1::int)",
  [Q_MAX_PROCESS] =
      "SELECT CASE WHEN i = 1 THEN nextval('process_id_seq') END, nextval('task_id_seq')"
      " FROM generate_series(1, 8) AS i",
  /* The process list, one statement per shape: store.c's Q_PROC_LIST_*
   * (the reasons there), each planned for its values (store_process_list:
   * a plan for all values cannot tell a flow or status with none from one
   * with all, and walked the wrong index for some).  Every parameter
   * $1..$7 is typed in each (PROC_PARAMS), an absent one NULL.  A page of one flow (parent) is a
   * range of its index's (flow, id), between (flow, 0) and (flow,
   * before), ordered by both, after an equality on the status where the
   * index starts with it: no other index has that order, so the plan for
   * all values walks that one, and the range's first column stops the
   * walk at the flow's end.  With "p.flow = $1" the flow was known
   * constant, the order became the id's alone, and that plan walked the
   * table in id order filtering by flow, for any flow (641 ms at
   * 1,000,000 processes for a flow with none: the statistics knew one
   * flow).  (A range of (status, flow, id) stops only at the status's end:
   * PostgreSQL 15 ends a walk on a row comparison's first column only.) */
#define PROC_PARAMS                                                                                     \
  "($1::text IS NULL OR $2::text IS NULL OR $3::bigint IS NULL OR $4::bigint IS NULL OR $5::bigint IS NULL" \
  " OR $6::text IS NULL OR $7::bigint IS NULL OR TRUE)"
  /* The values of a page's parameters, k PLANNED (each call's plan sees
   * them) or KEPT (subqueries no plan sees into, and the default page size
   * written out: the plan for all values costs what each call's would, and
   * PostgreSQL keeps it; store_process_list prepares those for a page of
   * the default size) */
#define PV(k, name) PV_##name##_##k
#define PV_FLOW_PLANNED "$1::text"
#define PV_FLOW_KEPT "(SELECT $1::text)"
#define PV_STATUS_PLANNED "$2::text"
#define PV_STATUS_KEPT "(SELECT $2::text)"
#define PV_BEFORE_PLANNED "coalesce($3::bigint, 9223372036854775807)"
#define PV_BEFORE_KEPT PARAM_VALUE("$3::bigint", "max", MAX_ID)
#define PV_LIMIT_PLANNED "$4"
#define PV_LIMIT_KEPT SQ_STR(STORE_PAGE_ROWS)
#define PV_USER_PLANNED "$5::bigint"
#define PV_USER_KEPT "(SELECT $5::bigint)"
#define PV_MANAGED_PLANNED "$6::text"
#define PV_MANAGED_KEPT "(SELECT $6::text)"
#define PROC_USER_JOIN " LEFT JOIN \"user\" u ON u.id = p.created_by "
#define PROC_LIST_WHERE PROC_LIST_COLS " FROM process p" PROC_USER_JOIN "WHERE " PROC_PARAMS " AND "
#define PROC_BEFORE_AT(k, a) a "id < " PV(k, BEFORE)
#define PROC_BEFORE(a) PROC_BEFORE_AT(PLANNED, a)
  /* key: the index's columns before the id ("a.flow, "), vals: their values */
#define PROC_RANGE_AT(k, key, a, vals) \
  " (" key a "id) > (" vals "0) AND (" key a "id) < (" vals PV(k, BEFORE) ") "
#define PROC_RANGE(key, a, vals) PROC_RANGE_AT(PLANNED, key, a, vals)
#define PROC_PAGE_AT(k, key) " ORDER BY " key "p.id DESC LIMIT " PV(k, LIMIT)
#define PROC_PAGE_BY(key) PROC_PAGE_AT(PLANNED, key)
#define PROC_PAGE PROC_PAGE_BY("")
  /* a page of ids (w.id), then its rows by key */
#define PROC_OF_IDS_AT(k, ids)                                                                        \
  PROC_LIST_COLS " FROM (" ids " ORDER BY 1 DESC LIMIT " PV(k, LIMIT) ") w JOIN process p ON p.id = w.id" \
  PROC_USER_JOIN PROC_PAGE_AT(k, "")
  /* the newest of each flow of `flows` (naming its flow f.flow), from
   * process_flow or, after cond "q.status = ... AND", process_status */
#define PROC_PER_FLOW_AT(k, flows, cond)                                                                      \
  "SELECT k.id FROM " flows " CROSS JOIN LATERAL (SELECT q.id FROM process q WHERE " cond                      \
  PROC_RANGE_AT(k, "q.flow, ", "q.", "f.flow, ") "ORDER BY q.flow DESC, q.id DESC LIMIT " PV(k, LIMIT) ") k"
#define BY_STATUS(k) "q.status = " PV(k, STATUS) " AND"
#define PROC_LIST_PLANNED PROC_LIST_WHERE PROC_BEFORE("p.") PROC_PAGE
  /* Prepared: the pages of the default size of every process (an
   * administrator's) and of a user's without a flow or a status (the
   * Processes page as it opens), written apart: the page key comes from an
   * aggregate (PARAM_VALUE), the user is a subquery (USER_VALUE's reason),
   * the limit is written out, and the flow and status tests are left out.
   * The pages of one flow without a status (an administrator's, a user's,
   * a user's of a flow of few processes) are prepared in their KEPT form
   * for a page of the default size.  Planned at every execution, a page spent ~0.8 ms of
   * its ~1.2 in parsing and planning (a log of counts_bench's processes);
   * every other page runs its PLANNED twin unnamed
   * (store_pg_list_filtered). */
#define PROC_KEPT_BEFORE PV(KEPT, BEFORE)
#define PROC_KEPT_USER PV(KEPT, USER)
#define PROC_KEPT_LIMIT " LIMIT " SQ_STR(STORE_PAGE_ROWS)
  [Q_PROC_LIST] = PROC_LIST_WHERE "p.id < " PROC_KEPT_BEFORE " ORDER BY p.id DESC" PROC_KEPT_LIMIT,
#define PROC_FLOW_LIST(k, cond) \
  PROC_LIST_WHERE cond PROC_RANGE_AT(k, "p.flow, ", "p.", PV(k, FLOW) ", ") PROC_PAGE_AT(k, "p.flow DESC, ")
#define PROC_STATUS_LIST(k)                                                                                        \
  PROC_OF_IDS_AT(k, PROC_PER_FLOW_AT(k,                                                                            \
      "(WITH RECURSIVE fl(flow) AS (SELECT min(flow) FROM process WHERE status = " PV(k, STATUS) " UNION ALL"       \
      " SELECT (SELECT min(g.flow) FROM process g WHERE g.status = " PV(k, STATUS) " AND g.flow > fl.flow) FROM fl" \
      " WHERE fl.flow IS NOT NULL) SELECT flow FROM fl WHERE flow IS NOT NULL AND " PROC_PARAMS ") f",              \
      BY_STATUS(k)))
  [Q_PROC_LIST_FLOW] = PROC_FLOW_LIST(KEPT, ""),
  /* (with a status, planned at each call: a plan for all values walked
   * the flow's range of process_flow for a status none of its processes
   * had, 350 ms at 1,000,000, where the status's range of process_status
   * was empty) */
  [Q_PROC_LIST_FLOW_STATUS] = PROC_FLOW_LIST(PLANNED, "p.status = " PV(PLANNED, STATUS) " AND"),
  [Q_PROC_LIST_STATUS] = PROC_STATUS_LIST(PLANNED),
  /* (each process checked by key as its participant row comes: as a join,
   * a merge of participant_user with the table walked the table from its
   * end down to the page, 59 ms for bob's page after 500,000 at 1,000,000) */
#define PROC_TAKEN_PART(k)                                                                                          \
  "(SELECT x.process_id AS id FROM participant x WHERE x.user_id = " PV(k, USER) " AND "                          \
  PROC_BEFORE_AT(k, "x.process_") " AND (SELECT (" PV(k, FLOW) " IS NULL OR q.flow = " PV(k, FLOW) ") AND ("       \
  PV(k, STATUS) " IS NULL OR q.status = " PV(k, STATUS) ") FROM process q WHERE q.id = x.process_id) AND "        \
  PROC_PARAMS " ORDER BY x.process_id DESC LIMIT " PV(k, LIMIT) ")"
#define PROC_MANAGED(k)                                                                                        \
  "(SELECT value AS flow FROM json_array_elements_text(coalesce(" PV(k, MANAGED) ", '[]')::json) WHERE "        \
  PV(k, FLOW) " IS NULL OR value = " PV(k, FLOW) ") f"
  /* UNION: a process taken part in may be of a managed flow too */
#define PROC_USER_LIST(k, by) \
  PROC_OF_IDS_AT(k, "SELECT id FROM (" PROC_TAKEN_PART(k) " UNION (" PROC_PER_FLOW_AT(k, PROC_MANAGED(k), by) ")) a")
#define PROC_LIST_USER_PLANNED PROC_USER_LIST(PLANNED, "")
  /* (the user's processes and her managed flows' newest, as the twin's) */
#define PROC_TAKEN_KEPT                                                                                        \
  "(SELECT x.process_id AS id FROM participant x WHERE x.user_id = " PROC_KEPT_USER " AND x.process_id < "    \
  PROC_KEPT_BEFORE " AND " PROC_PARAMS " ORDER BY x.process_id DESC" PROC_KEPT_LIMIT ")"
#define PROC_MANAGED_KEPT "(SELECT value AS flow FROM json_array_elements_text(coalesce($6::text, '[]')::json)) f"
#define PROC_PER_FLOW_KEPT                                                                                      \
  "SELECT k.id FROM " PROC_MANAGED_KEPT " CROSS JOIN LATERAL (SELECT q.id FROM process q WHERE (q.flow, q.id) >" \
  " (f.flow, 0) AND (q.flow, q.id) < (f.flow, " PROC_KEPT_BEFORE ") ORDER BY q.flow DESC, q.id DESC"             \
  PROC_KEPT_LIMIT ") k"
  [Q_PROC_LIST_USER] = PROC_LIST_COLS " FROM (SELECT id FROM (" PROC_TAKEN_KEPT " UNION (" PROC_PER_FLOW_KEPT
                       ")) a ORDER BY 1 DESC" PROC_KEPT_LIMIT ") w JOIN process p ON p.id = w.id" PROC_USER_JOIN
                       " ORDER BY p.id DESC" PROC_KEPT_LIMIT,
  /* a user's page of one flow (or with the flow and a status) */
  [Q_PROC_LIST_USER_FLOW] = PROC_USER_LIST(KEPT, ""),
  [Q_PROC_LIST_USER_STATUS] = PROC_USER_LIST(PLANNED, BY_STATUS(PLANNED)),
  /* A user's page of a status (and maybe a flow) where she manages no
   * flow: the processes she took part in alone, prepared.  It has one way
   * to go whatever the values (her entries of participant_user, newest
   * first, each process's flow and status read by key), so the plan for
   * all values is each call's; with managed flows, a kept plan could walk
   * a flow's range of process_flow for a status few of them have
   * (Q_PROC_LIST_FLOW_STATUS's reason), so that page is planned.  The
   * twin is Q_PROC_LIST_USER_STATUS's text: no managed flow, the same. */
  [Q_PROC_LIST_OWN_STATUS] = PROC_OF_IDS_AT(KEPT, "SELECT id FROM " PROC_TAKEN_PART(KEPT) " a"),
  /* (of one status: the flow after it is no value, so ordering by it
   * takes process_status) */
#define PROC_COUNT(cond, order) \
  "SELECT count(*) FROM (SELECT 1 FROM process q WHERE " cond " AND " PROC_PARAMS " ORDER BY " order \
  " LIMIT " SQ_STR(PROC_FEW) ") c"
  [Q_PROC_COUNT_FLOW] = PROC_COUNT(PROC_RANGE("q.flow, ", "q.", "$1::text, "), "q.flow, q.id"),
  [Q_PROC_COUNT_STATUS] = PROC_COUNT("q.status = $2", "q.status, q.flow, q.id"),
  /* a user's page of the fewer than PROC_FEW processes of a flow or status
   * (four times as many read at most, newest first: some may have come
   * since they were counted) */
#define PROC_VISIBLE(k)                                                                                       \
  " AND (EXISTS (SELECT 1 FROM participant x WHERE x.process_id = q.id AND x.user_id = " PV(k, USER) ")"      \
  " OR q.flow IN (SELECT json_array_elements_text(coalesce(" PV(k, MANAGED) ", '[]')::json)))"
#define PROC_FEW_OF(k, cond, order)                                                                               \
  PROC_OF_IDS_AT(k, "SELECT q.id FROM (SELECT q.id, q.flow FROM process q WHERE " cond " AND " PROC_PARAMS         \
                 " ORDER BY " order "q.id DESC LIMIT 4 * " SQ_STR(PROC_FEW) ") q WHERE TRUE" PROC_VISIBLE(k))
  /* (the page key bounds the flow's range of process_flow alone: said
   * also as "q.id < key", a range of the primary key, it made the plan for
   * all values walk the whole primary key testing each process's flow
   * where the table is small, 1.6 ms a page at 10,000 processes for a
   * flow with none, against 0.3 at 100,000; bench/README.md, section 46) */
#define PROC_FEW_FLOW(k)                                                                                        \
  PROC_FEW_OF(k, PROC_RANGE_AT(k, "q.flow, ", "q.", PV(k, FLOW) ", ") "AND (" PV(k, STATUS) " IS NULL OR q.status" \
              " = " PV(k, STATUS) ")", "q.flow DESC, ")
#define PROC_FEW_STATUS(k)                                                                                     \
  PROC_FEW_OF(k, "q.status = " PV(k, STATUS) " AND (" PV(k, FLOW) " IS NULL OR q.flow = " PV(k, FLOW) ") AND "    \
              PROC_BEFORE_AT(k, "q."), "q.status DESC, q.flow DESC, ")
  [Q_PROC_LIST_FEW_FLOW] = PROC_FEW_FLOW(KEPT),
  [Q_PROC_LIST_FEW_STATUS] = PROC_FEW_STATUS(PLANNED),
  /* (the index holds the processes with a parent: said, for the plan) */
  [Q_PROC_LIST_PARENT] = PROC_LIST_WHERE "p.parent_id IS NOT NULL AND" PROC_RANGE("p.parent_id, ", "p.", "$7::bigint, ")
      "AND ($1::text IS NULL OR p.flow = $1) AND ($2::text IS NULL OR p.status = $2)"
      " AND ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM participant x WHERE x.process_id = p.id AND x.user_id = $5)"
      " OR p.flow IN (SELECT json_array_elements_text(coalesce($6::text, '[]')::json)))"
      PROC_PAGE_BY("p.parent_id DESC, "),
  [Q_VERSION_LISTS] = VERSION_LISTS("json_array_elements_text(CAST($1 AS json))"),
  [Q_VERSION_OLDER] = VERSION_OLDER("json_array_elements_text(CAST($1 AS json)) AS f(value)"),
  [Q_PROC_INVOLVES] = "SELECT EXISTS (SELECT 1 FROM participant WHERE process_id = $1 AND user_id = $2)",
  [Q_PARTICIPANT_ADD] = "INSERT INTO participant(process_id, user_id) VALUES($1, $2) ON CONFLICT DO NOTHING",
  [Q_TASK_INSERT] =
      TASK_INSERT_INTO " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, coalesce($17::bigint, nextval('task_id_seq')), $18, $19, $20, $21, $22, $23) RETURNING id",
  /* two to four rows with their ids (store.c) */
  [Q_TASK_INSERT_2] = TASK_INSERT_INTO " VALUES" PG_TASK_ROW_1 ", " PG_TASK_ROW_2,
  [Q_TASK_INSERT_3] = TASK_INSERT_INTO " VALUES" PG_TASK_ROW_1 ", " PG_TASK_ROW_2 ", " PG_TASK_ROW_3,
  [Q_TASK_INSERT_4] =
      TASK_INSERT_INTO " VALUES" PG_TASK_ROW_1 ", " PG_TASK_ROW_2 ", " PG_TASK_ROW_3 ", " PG_TASK_ROW_4,
  [Q_TASK_GET] = "SELECT " TASK_COLS TASK_FROM "WHERE t.id = $1",
  [Q_TASK_UPDATE] =
      "UPDATE task SET flow_task = $2, status = $3, owner_id = $4, data = $5, error_message = $6,"
      " error_traceback = $7, assigned_at = $8, started_at = $9, finished_at = $10, due_at = $11,"
      " lease_until = $12, attempts = $13, lease_owner = CASE WHEN $12::text IS NULL THEN NULL ELSE lease_owner END,"
      " child_id = $14, event_name = $15, event_key = $16 WHERE id = $1",
  /* a finished child wakes its Subprocess task (a job then continues the
   * parent), and raises the parent's version so that a write of the
   * parent read before this one starts over */
  [Q_TASK_WAKE] =
      "UPDATE task SET status = 'SCHEDULED', due_at = $2, lease_until = NULL, lease_owner = NULL"
      " WHERE id = $1 AND status = 'STARTED'",
  [Q_PROC_BUMP] = "UPDATE process SET version = version + 1 WHERE id = (SELECT process_id FROM task WHERE id = $1)",
  [Q_PROC_CHILDREN] =
      "SELECT id, flow, status, coalesce(parent_task_id, 0) FROM process WHERE parent_id = $1 ORDER BY id",
  [Q_PROC_ORPHAN] =
      "SELECT p.id FROM process p JOIN task t ON t.id = p.parent_task_id WHERE p.id > $1"
      " AND p.status IN ('NEW','STARTED') AND t.status NOT IN ('STARTED','SCHEDULED') ORDER BY p.id LIMIT 1",
  [Q_TASK_PREV_ADD] = "INSERT INTO task_previous(task_id, previous_id) VALUES($1, $2) ON CONFLICT DO NOTHING",
  [Q_TASK_PREV_ADD_2] =
      "INSERT INTO task_previous(task_id, previous_id) VALUES($1, $2), ($3, $4) ON CONFLICT DO NOTHING",
  [Q_TASK_PREV_ADD_3] =
      "INSERT INTO task_previous(task_id, previous_id) VALUES($1, $2), ($3, $4), ($5, $6) ON CONFLICT DO NOTHING",
  [Q_TASK_PREV_ADD_4] = "INSERT INTO task_previous(task_id, previous_id) VALUES($1, $2), ($3, $4), ($5, $6), ($7, $8)"
                        " ON CONFLICT DO NOTHING",
  /* $1: a JSON array of [task id, previous id] pairs */
  [Q_TASK_PREV_ADD_MANY] =
      "INSERT INTO task_previous(task_id, previous_id)"
      " SELECT (value->>0)::bigint, (value->>1)::bigint FROM json_array_elements($1::json) ON CONFLICT DO NOTHING",
  [Q_TASK_NEXT_STATUS] =
      "SELECT t.status FROM task p JOIN task t ON t.process_id = p.process_id WHERE p.id = $1 AND (t.prev_id = p.id"
      " OR EXISTS (SELECT 1 FROM task_previous tp WHERE tp.task_id = t.id AND tp.previous_id = p.id))",
  [Q_TASK_ACTIVE] = "SELECT count(*) FROM task WHERE process_id = $1 AND id <> $2 AND status IN " ACTIVE,
  [Q_TASK_ACTIVE_PREFIX] =
      "SELECT count(*) FROM task WHERE process_id = $1 AND id <> $3 AND status IN " ACTIVE
      " AND left(token, length($2::text)) = $2::text",
  [Q_TASK_FIND_JOIN] =
      "SELECT id, status = 'STARTED' FROM task WHERE process_id = $1 AND flow_task = $2 AND join_of = $3"
      " ORDER BY id DESC LIMIT 1",
  [Q_TASK_WAITING_JOINS] =
      "SELECT id FROM task WHERE process_id = $1 AND status = 'STARTED' AND join_of IS NOT NULL ORDER BY id",
  [Q_TASK_LATEST_OWNER] =
      "SELECT coalesce(owner_id, 0) FROM task WHERE process_id = $1 AND flow_task = $2 AND status = 'DONE'"
      " ORDER BY finished_at DESC, id DESC LIMIT 1",
  [Q_HOSTS_SEEN] = HOSTS_SEEN("$1"),
  [Q_VERSION_REPORTS] = VERSION_REPORTS,
  /* never run: PostgreSQL's hosts hear of identity changes (flowhost_identity) */
  [Q_IDENTITY_STAMP] = "SELECT 0::bigint",
  /* never run: PostgreSQL's queue goes node by node whatever their number
   * (its plan of the node list is kept: QUEUE_NODES) */
  [Q_QUEUED_NODES_TWO] = "SELECT NULL::text WHERE false",
  [Q_LIST_QUEUE_ONE] = "SELECT NULL::text WHERE false",
  /* (SQLite's: PostgreSQL reads NEW's page from task_open, Q_LIST_ALL_STATUS) */
  [Q_LIST_ALL_NEW_NODES] = "SELECT NULL::text WHERE false",
  [Q_LIST_ALL_NEW_NODES_ASC] = "SELECT NULL::text WHERE false",
  [Q_LIST_QUEUE_ONE_ASC] = "SELECT NULL::text WHERE false",
  [Q_LIST_QUEUE_ONE_FILTERED] = "SELECT NULL::text WHERE false",
  [Q_LIST_QUEUE_ONE_FILTERED_ASC] = "SELECT NULL::text WHERE false",
  [Q_TASK_DONE_TYPE] =
      "SELECT count(*) FROM task WHERE process_id = $1 AND flow_task_type = $2 AND status = 'DONE'",
  [Q_TASK_OF_PROCESS] = "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = $1 ORDER BY t.id",
  [Q_TASK_LIVE_OF_PROCESS] = LIVE_TASKS("$1", "0"),
  [Q_TASK_ENDED_OF_PROCESS] = "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = $1 AND t.status IN " ENDED " ORDER BY t.id",
  [Q_TASK_OPEN_MEMBERS] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = $1 AND t.status IN " ACTIVE " AND t.group_id IS NOT NULL"
      " ORDER BY t.id",
  [Q_TASK_OPEN_MEMBER] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.id = $2 AND t.process_id = $1 AND t.status IN " ACTIVE
      " AND t.group_id IS NOT NULL",
  [Q_TASK_GROUP_COUNT] =
      "SELECT (SELECT count(*) FROM task WHERE process_id = $1 AND status IN " ACTIVE " AND group_id = $2),"
      " (SELECT count(*) FROM task WHERE process_id = $1 AND status = 'DONE' AND group_id = $2)",
  /* One statement per view and order, so that SQLite can walk an index in
   * id order and stop at LIMIT instead of sorting every matching row. */
#define VIEW_INBOX "t.owner_id = $2 AND t.status = 'ASSIGNED'"
  /* The user ($2) as a value, a subquery, in the prepared statements of
   * the user's pages: their plan for all values must not depend on who
   * asks.  The plans for bob's id read his share of the tasks from the
   * statistics, the plan for all values guessed an even share of the
   * owned tasks, and where one other user (alice) had finished many, that
   * looked dearer, and PostgreSQL planned the page at every execution: the
   * inbox's pages after one and by due date from 10,000 processes (2.0 of
   * the 5.9 million instructions of a page after one), its first page
   * from 100,000 (1.1 of 4.5 million; bench/pg_stmt_cost.sh; list_plans
   * has such an alice).  The unprepared twins, planned for their values
   * anyway, keep "owner_id = $2". */
#define USER_VALUE "(SELECT $2::bigint)"
#define OWNER_VALUE(a) a "owner_id = " USER_VALUE
#define INBOX_OWNER OWNER_VALUE("t.") " AND t.status = 'ASSIGNED'"
#define VIEW_QUEUE TASK_QUEUED("t.") " AND t.flow_task IN (SELECT value FROM json_array_elements_text(($3)::json))"
#define VIEW_ARCHIVE "t.owner_id = $2 AND t.status IN ('DONE','CANCELED')"
  /* a manager's tasks: the task name's part before its dot is the flow
   * (store.c's VIEW_ALL), one of the manager's flows ($4, a JSON array of
   * flow names, [a-z][a-z0-9_]*) read as a text array.  Planned for its
   * values, the array is a constant the task_flow_of statistics weigh
   * (migration 15); as a subquery (IN (SELECT json_array_elements_text(...)))
   * the planner guessed half of the tasks and sorted every NEW task for a
   * page of them (mature_manager_all_new) */
#define VIEW_ALL_ON(a) "($4 IS NULL OR split_part(" a "flow_task, '.', 1) = ANY (translate($4, '[]', '{}')::text[]))"
#define VIEW_ALL VIEW_ALL_ON("t.")
  /* the caller's name and each row's user (store_internal.h's OWNER_, JOINS_) */
#define OWNER_INBOX "$1::text"
#define USER_JOIN "LEFT JOIN \"user\" u ON u.id = t.owner_id "
/* PostgreSQL wants a type for every parameter $1..$N, also those a view
 * does not use (the caller's name $1 outside the inbox and the archive):
 * typed here, in a condition that is always true and that the planner
 * folds away. */
#define LIST_PARAMS                                                                        \
  "($1::text IS NULL OR $2::bigint IS NULL OR $3::text IS NULL OR $4::text IS NULL OR"     \
  " $5::text IS NULL OR $6::bigint IS NULL OR $7::text IS NULL OR $8::text IS NULL OR"    \
  " $9::text IS NULL OR $10::bigint IS NULL OR $11::bigint IS NULL OR TRUE) AND "
#define LIST_FILTERS_ON(a)                                                              \
  " AND ($5 IS NULL OR split_part(" a "flow_task, '.', 1) = $5)"                         \
  " AND ($6 IS NULL OR " a "process_id = $6) AND ($7 IS NULL OR " a "status = $7)"    \
  " AND ($8 IS NULL OR " a "created_at >= $8) AND ($9 IS NULL OR " a "created_at < $9)" \
  " AND ($12::text IS NULL OR " a "finished_at >= $12) AND ($13::text IS NULL OR " a "finished_at < $13)"
#define LIST_FILTERS LIST_FILTERS_ON("t.")
  /* the process's status and version with each row (store.c's LIST_PROC) */
#define LIST_PROC ", p.status, p.version "
  /* a row's first link with it (store.c's LIST_COLS) */
#define LIST_COLS(v) TASK_COLS_ID OWNER_##v ", " TASK_COLS_REST "t.prev_id::text, " TASK_COLS_TAIL LIST_PROC
  /* v: INBOX, QUEUE, ARCHIVE or ALL (VIEW_v, OWNER_v, JOINS_v) */
#define LIST_HEAD_WHERE(v, view) "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE " LIST_CONDS LIST_PARAMS view
#define LIST_HEAD(v) LIST_HEAD_WHERE(v, VIEW_##v)
  /* The statements prepared once are the first page of the default size
   * and say so (LIMIT 51: 50 and one more; no "after" condition; $10 and
   * $11 are bound all the same), so that the plan PostgreSQL makes for unknown parameters
   * costs what the plans for each execution do, and it keeps it.  With
   * "LIMIT $11" and "($10 IS NULL OR t.id < $10)" that plan assumed a
   * tenth of a third of the rows, never looked as cheap as a plan for the
   * values, and the queue page was planned again at every execution (0.5
   * ms of its 0.8 ms); making the limit unknown to every plan instead (a
   * subquery) made the queue's plan a scan of every task and a sort.  A
   * page after another or of another size runs its twin of LIST_FILTERED,
   * planned for its parameters (store.c). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define LIMIT_PREPARED " LIMIT " STR(STORE_PAGE_ROWS)
#define LIMIT_PLANNED " LIMIT NULLIF($11::bigint, -1)"
#define LIST(v, rest, order, limit) LIST_HEAD(v) rest " ORDER BY t.id " order limit
  /* the page after the task $10 */
#define AFTER_ID(cmp) " AND ($10 IS NULL OR t.id " cmp " $10)"
#define LIST_INBOX_KEPT(order) LIST_HEAD_WHERE(INBOX, INBOX_OWNER) " ORDER BY t.id " order LIMIT_PREPARED
  [Q_LIST_INBOX] = LIST_INBOX_KEPT("DESC"),
  [Q_LIST_INBOX_ASC] = LIST_INBOX_KEPT("ASC"),
  [Q_LIST_QUEUE] = LIST(QUEUE, "", "DESC", LIMIT_PREPARED),
  [Q_LIST_QUEUE_ASC] = LIST(QUEUE, "", "ASC", LIMIT_PREPARED),
  /* The queue in id order node by node, as on SQLite (store.c): the
   * newest (oldest) tasks of each of the user's nodes, read in id order
   * from task_queue_node (migration 8), merged.  The walk of every queued
   * task in id order (task_queue) passed every task of the nodes the user
   * may not take: alice's empty queue took 360 ms at 100,000 processes
   * whose approve tasks she may not take, growing with them.  Filters
   * apply inside each node's range, so each still yields its newest
   * matching tasks; the page after $10 starts there too.  The page's ids
   * are picked from the index alone, then its rows read by key. */
/* (the user's nodes that hold queued tasks: store_internal.h) */
#define USER_QUEUED_NODES USER_QUEUED_NODES_OF("", "strpos($3::text, ", AS_IS)
#define QUEUE_NODES_AT(bound, rest, order, limit)                                                              \
  "SELECT " LIST_COLS(QUEUE) " FROM (SELECT k.id FROM " bound USER_QUEUED_NODES " CROSS JOIN LATERAL (SELECT q.id" \
  " FROM task q WHERE " LIST_PARAMS TASK_QUEUED("q.") " AND q.flow_task = n.value" rest " ORDER BY q.id " order   \
  limit ") k ORDER BY k.id " order limit ") w JOIN task t ON t.id = w.id " JOINS_QUEUE "ORDER BY t.id " order limit
#define QUEUE_NODES(rest, order, limit) QUEUE_NODES_AT("", rest, order, limit)
#define AFTER_ID_ON(a, cmp) " AND ($10 IS NULL OR " a "id " cmp " $10)"
  /* The page after $10 as a row b that each node's range starts from (no
   * page: past every id): an aggregate, so that no plan folds it into a
   * constant, and every plan, for the values or for all of them, sees a
   * bound from another row and costs the same: the plan for all values is
   * kept for the first page and the pages after it alike.  ("q.id <
   * coalesce($10, ...)" made each plan for the values look cheaper, so the
   * statement was planned at every execution; the pages after one ran
   * unprepared, planned each time: 1.7-1.9 of their 2 ms at 100,000 and
   * 1,000,000 processes.)  The bound compares the index's whole key as a
   * row, so that it is a range of task_queue_node and of no other index:
   * "q.id < b.id" is also a range of the primary key, which the plan for
   * all values took for a walk of every task in the tests' table (whose
   * queued tasks are all one node's).  "q.id < b.id" is said as well: the
   * b-tree starts a scan from an equality on the node and a bound on the
   * id, not from a row comparison, which only filtered; a page deep in a
   * queue of 900,000 read from the node's newest to its key, 18-29 ms at
   * 1,000,000 processes, now 0.5.  (The inbox's pages after one have
   * a statement of their own, INBOX_IDS below: with such a bound in its
   * first page's, the third of the rows estimated made the plan for all
   * values sort the page after a hash join of every process.) */
#define AFTER_AGG(agg, none) PARAM_AGG("$10::bigint", agg, none)
#define AFTER_ROW(agg, none) "(" AFTER_AGG(agg, none) ") b CROSS JOIN "
#define AFTER_LAST AFTER_ROW("max", MAX_ID)
#define AFTER_FIRST AFTER_ROW("min", "0")
  /* prepared: the pages of the default size without filters */
  [Q_LIST_QUEUE_NODES] = QUEUE_NODES_AT(AFTER_LAST, " AND (q.flow_task, q.id) < (n.value, b.id) AND q.id < b.id",
                                        "DESC", LIMIT_PREPARED),
  [Q_LIST_QUEUE_NODES_ASC] = QUEUE_NODES_AT(AFTER_FIRST, " AND (q.flow_task, q.id) > (n.value, b.id) AND q.id > b.id",
                                            "ASC", LIMIT_PREPARED),
  /* SQLite's filtered twins; here a filtered page runs its LIST_FILTERED
   * twin (store.c), so these say the same and are not used */
  [Q_LIST_QUEUE_NODES_FILTERED] = QUEUE_NODES(LIST_FILTERS_ON("q.") AFTER_ID_ON("q.", "<"), "DESC", LIMIT_PLANNED),
  [Q_LIST_QUEUE_NODES_FILTERED_ASC] = QUEUE_NODES(LIST_FILTERS_ON("q.") AFTER_ID_ON("q.", ">"), "ASC", LIMIT_PLANNED),
  /* (the archive's pages in id order without filters, of the default
   * size, are ARCHIVE_PARTS below; these are not prepared: a page with
   * filters or of another size runs its LIST_FILTERED twin) */
  [Q_LIST_ARCHIVE] = LIST(ARCHIVE, "", "DESC", LIMIT_PREPARED),
  [Q_LIST_ARCHIVE_ASC] = LIST(ARCHIVE, "", "ASC", LIMIT_PREPARED),
  /* (the page key as a value: a subquery run once per execution) */
#define AFTER_VALUE(agg, none) PARAM_VALUE("$10::bigint", agg, none)
#define PAGE_OF_IDS(v, ids, order) \
  "SELECT " LIST_COLS(v) " FROM (" ids LIMIT_PREPARED ") w JOIN task t ON t.id = w.id " JOINS_##v "ORDER BY t.id " order LIMIT_PREPARED
#define INBOX_IDS(cmp, after, order) \
  "SELECT t.id FROM task t WHERE " LIST_PARAMS INBOX_OWNER " AND t.id " cmp " " after " ORDER BY t.id " order
  /* The inbox's pages after one, prepared apart from the first page's:
   * the page's ids first, from the user's tasks after the
   * page key (a subquery run once per execution, an aggregate no plan can
   * fold into a constant, so that the plans for the values cost what the
   * plan for all of them does and that plan is kept), then their rows.
   * With the bound in the first page's statement, the third of the rows it
   * is estimated to leave made the plan for all values hash-join every
   * process and sort the page (list_plans' table); inside, the ids can
   * only come in the index's order, and the rows joined to them are the
   * page's 51 at most.  Unprepared, a page after one was planned at every
   * execution: 1-2 ms of it. */
  [Q_LIST_INBOX_NEXT] = PAGE_OF_IDS(INBOX, INBOX_IDS("<", AFTER_VALUE("max", MAX_ID), "DESC"), "DESC"),
  [Q_LIST_INBOX_NEXT_ASC] = PAGE_OF_IDS(INBOX, INBOX_IDS(">", AFTER_VALUE("min", "0"), "ASC"), "ASC"),
  /* The archive in id order in two parts, one per finished status, each
   * the user's range of task_owner_status in id order after the page key
   * (AFTER_VALUE: the first page and the pages after it alike), merged.
   * With "status IN ('DONE','CANCELED')" no index gave the id order but
   * the primary key, and the plans (for all values, and for bob's) walked
   * it: the statistics, taking owner and status apart, expected bob's
   * 100,000 inbox tasks to hold thousands of finished ones; he had none
   * and it read every task (bob's empty archive: 4.2 ms at 100,000
   * processes, 42 ms at 1,000,000).
   * Each part says its status as a range of one value and is ordered by
   * it, then by id: said as an equality, PostgreSQL drops the ordering by
   * a column held equal, and the plan for all values (guessing a share of
   * the user's tasks finished) walked the primary key backwards filtered
   * by user and status, or task_rare filtered by user for CANCELED; the
   * order (status, id) under the user's id is task_owner_status's alone,
   * and a range proves no partial index's condition.  The status bounds
   * the range of the index both ways (the owner before it is an
   * equality), so a user with no finished task reads nothing. */
#define ARCHIVE_PART(a, status, cmp, after, order)                                                        \
  "(SELECT " a ".id FROM task " a " WHERE " a ".owner_id = $2 AND " a ".status >= '" status "' AND " a  \
  ".status <= '" status "' AND " a ".id " cmp " " after " ORDER BY " a ".status " order ", " a ".id " order \
  LIMIT_PREPARED ")"
#define ARCHIVE_PARTS(cmp, after, order)                                                                           \
  "SELECT " LIST_COLS(ARCHIVE) " FROM (SELECT k.id FROM (" ARCHIVE_PART("d", "DONE", cmp, after, order)           \
  " UNION ALL " ARCHIVE_PART("c", "CANCELED", cmp, after, order) ") k ORDER BY k.id " order LIMIT_PREPARED ") w" \
  " JOIN task t ON t.id = w.id " JOINS_ARCHIVE "WHERE " LIST_PARAMS "TRUE ORDER BY t.id " order LIMIT_PREPARED
  [Q_LIST_ARCHIVE_PARTS] = ARCHIVE_PARTS("<", AFTER_VALUE("max", MAX_ID), "DESC"),
  [Q_LIST_ARCHIVE_PARTS_ASC] = ARCHIVE_PARTS(">", AFTER_VALUE("min", "0"), "ASC"),
  [Q_LIST_ALL] = LIST(ALL, "", "DESC", LIMIT_PREPARED),
  [Q_LIST_ALL_ASC] = LIST(ALL, "", "ASC", LIMIT_PREPARED),
  /* SQLite's walk of task_rare; here a page of one status is filtered and
   * runs its twin, planned for that status, which takes task_rare itself
   * (so these are the same as Q_LIST_ALL's and not used) */
  [Q_LIST_ALL_RARE] = LIST(ALL, "", "DESC", LIMIT_PREPARED),
  [Q_LIST_ALL_RARE_ASC] = LIST(ALL, "", "ASC", LIMIT_PREPARED),
  /* store.c's Q_LIST_ALL_FEW: all tasks of the flows in $14, which have
   * few processes, through those processes, each flow's read in
   * process_flow's order (as Q_PROC_COUNT_FLOWS), each process's tasks by
   * task_process (OFFSET 0 keeps that subquery apart: joined, a flow
   * filter made the planner guess few matching tasks and hash all of
   * them, 430 ms).  Prepared for a page of the default size (its rows took
   * 20 us, parsing and planning it 0.9 ms at 1,000,000 processes): the
   * filters' values come from one row no plan sees into (FEW_VALUES), so
   * that a plan for the values costs what the plan for all of them does
   * and that one is kept (knowing a status, each plan for the values
   * looked a fifth cheaper, and no plan was kept); other sizes run it
   * unnamed with LIMIT $11 (a plan for an unknown limit, a tenth of the
   * 800,000 rows guessed, merged the ids with a walk of every task). */
#define FEW_VALUES                                                                                               \
  "(SELECT max(a.f4) AS f4, max(a.f5) AS f5, max(a.f6) AS f6, max(a.f7) AS f7, max(a.f8) AS f8, max(a.f9) AS f9,"   \
  " max(a.f10) AS f10, max(a.f12) AS f12, max(a.f13) AS f13 FROM (VALUES ($4::text, $5::text, $6::bigint,"         \
  " $7::text, $8::text, $9::text, $10::bigint, $12::text, $13::text)) a(f4, f5, f6, f7, f8, f9, f10, f12, f13)) v"
#define FEW_FILTERS(cmp)                                                                                          \
  "(v.f4 IS NULL OR split_part(t2.flow_task, '.', 1) = ANY (translate(v.f4, '[]', '{}')::text[]))"                 \
  " AND (v.f5 IS NULL OR split_part(t2.flow_task, '.', 1) = v.f5) AND (v.f6 IS NULL OR t2.process_id = v.f6)"      \
  " AND (v.f7 IS NULL OR t2.status = v.f7) AND (v.f8 IS NULL OR t2.created_at >= v.f8) AND (v.f9 IS NULL OR"       \
  " t2.created_at < v.f9) AND (v.f12 IS NULL OR t2.finished_at >= v.f12) AND (v.f13 IS NULL OR t2.finished_at <"   \
  " v.f13) AND (v.f10 IS NULL OR t2.id " cmp " v.f10)"
#define ALL_FEW_IDS(cmp, order, limit)                                                                           \
  "SELECT x.id FROM " FEW_VALUES " CROSS JOIN json_array_elements_text(($14)::json) f(flow) CROSS JOIN LATERAL"    \
  " (SELECT p.id FROM process p WHERE p.flow = f.flow ORDER BY p.flow, p.id DESC LIMIT " SQ_STR(ALL_FEW_READ)      \
  ") p2 CROSS JOIN LATERAL (SELECT t2.id FROM task t2 WHERE t2.process_id = p2.id AND " FEW_FILTERS(cmp)           \
  " OFFSET 0) x ORDER BY x.id " order limit
  /* (a page whose ids a subquery picks, sorted there, then its rows) */
#define IDS_PAGE_AT(v, ids, order, limit) \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE " LIST_PARAMS "t.id IN (" ids ") ORDER BY t.id " order limit
#define IDS_PAGE(v, ids, order) IDS_PAGE_AT(v, ids, order, " LIMIT $11")
#define ALL_FEW_LIST(cmp, order, limit) IDS_PAGE_AT(ALL, ALL_FEW_IDS(cmp, order, limit), order, limit)
  [Q_LIST_ALL_FEW] = ALL_FEW_LIST("<", "DESC", LIMIT_PREPARED),
  [Q_LIST_ALL_FEW_ASC] = ALL_FEW_LIST(">", "ASC", LIMIT_PREPARED),
  /* (each flow's processes read in the order of process_flow, newest
   * first: the planner, guessing the flow common, took a scan of every
   * process with a limit, 500 ms for a flow of 20 at 1M) */
  [Q_PROC_COUNT_FLOWS] = "SELECT count(*), (SELECT max(id) FROM task) FROM (SELECT 1 FROM"
                         " json_array_elements_text(($1)::json) f(flow)"
                         " CROSS JOIN LATERAL (SELECT 1 FROM process p WHERE p.flow = f.flow ORDER BY p.flow, p.id DESC"
                         " LIMIT " SQ_STR(ALL_FEW) ") q LIMIT " SQ_STR(ALL_FEW) ") c",
  /* store.c's Q_LIST_*_DATE: the inbox, the queue and the archive with a
   * date filter whose range holds few tasks of people (store.c's
   * range_is_few), run unnamed: the range's tasks from task_created, the
   * view and the other filters tested on them, the page's ids sorted from
   * those, then their rows.  The range is a subquery of its own (OFFSET 0:
   * no condition of the view is pushed into it), so the view's indexes
   * cannot be mixed in: left to choose, the planner guessed bob's inbox at
   * 5% of its size and the range at a tenth of its, and read his 100,000
   * entries of an owner index beside the range's 1,800 to AND them (41 ms
   * at 1,000,000 processes, against 0.8 for the walk it replaced).  The
   * range's columns are those the views and the filters test. */
  /* (a range of task r as a subquery t with the columns the views and
   * the filters test; the ids of a page of view v from it) */
#define RANGE_OF(cond)                                                                                             \
  "(SELECT r.id, r.owner_id, r.status, r.flow_task, r.process_id, r.created_at, r.finished_at FROM task r WHERE " \
  cond " OFFSET 0) t"
#define RANGE_IDS(range, v, cmp, order)                                                                             \
  "SELECT t.id FROM " range " WHERE " VIEW_##v LIST_FILTERS " AND ($10 IS NULL OR t.id " cmp " $10) ORDER BY t.id " \
  order " LIMIT $11"
#define DATE_RANGE \
  RANGE_OF(TASK_OF_PEOPLE("r.") " AND ($8::text IS NULL OR r.created_at >= $8) AND ($9::text IS NULL OR r.created_at < $9)")
#define DATE_LIST_PLANNED(v, cmp, order) IDS_PAGE(v, RANGE_IDS(DATE_RANGE, v, cmp, order), order)
  /* Prepared: a page of the default size whose only filter is the date
   * range; other pages run DATE_LIST_PLANNED unnamed
   * (store_pg_list_filtered).  As the pages of one flow (NODES_PAGE_KEPT):
   * the range's bounds and the page key come from aggregates, the user is
   * USER_VALUE, the limit is written out and the absent filters are left
   * out, so that the plans for the values cost what the plan for all of
   * them does and that one is kept.  Unnamed, bob's inbox since a date
   * spent ~1.2 ms of its ~3.8 in parsing and planning (the server's
   * statement log of counts_bench's inbox_since), as much as in running. */
#define DATE_BOUND(p, none) PARAM_VALUE(p "::text", "min", none)
#define DATE_RANGE_KEPT                                                                                   \
  RANGE_OF(TASK_OF_PEOPLE("r.") " AND r.created_at >= " DATE_BOUND("$8", TIME_FIRST) " AND r.created_at < " \
           DATE_BOUND("$9", TIME_LAST))
#define KEPT_VIEW_INBOX INBOX_OWNER
#define KEPT_VIEW_QUEUE VIEW_QUEUE
#define KEPT_VIEW_ARCHIVE OWNER_VALUE("t.") " AND t.status IN ('DONE','CANCELED')"
#define KEPT_AFTER(cmp) AFTER_VALUE("min", "CASE WHEN '" cmp "' = '<' THEN " MAX_ID " ELSE 0 END")
#define RANGE_LIST_KEPT(range, v, cmp, order)                                                                    \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE " LIST_PARAMS "t.id IN (SELECT t.id FROM " range      \
  " WHERE " KEPT_VIEW_##v " AND t.id " cmp " " KEPT_AFTER(cmp) " ORDER BY t.id " order LIMIT_PREPARED          \
  ") ORDER BY t.id " order LIMIT_PREPARED
#define DATE_LIST(v, cmp, order) RANGE_LIST_KEPT(DATE_RANGE_KEPT, v, cmp, order)
  DATE_LIST_ENTRIES,
  /* store.c's Q_LIST_*_FRONT: the front of the inbox or the archive
   * (FRONT_ROWS of the user's tasks from the page key on, newest or oldest
   * first) tested for the date range; prepared and kept as DATE_LIST
   * (the user, the bounds and the key as values).  The range's read at
   * 100,000 processes (bob's inbox since the newest 900 processes): 1.8k
   * rows, 1.3 ms; the front: 51 rows, 0.1 ms. */
#define FRONT_AT(v, rows, order, range)                                                                            \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE " LIST_PARAMS "t.id IN (SELECT w.id FROM (SELECT u.id,"   \
  " u.created_at, u.finished_at FROM (" rows ") u ORDER BY u.id " order " LIMIT " SQ_STR(FRONT_ROWS) ") w WHERE "   \
  range " ORDER BY w.id " order LIMIT_PREPARED ") ORDER BY t.id " order LIMIT_PREPARED
#define FRONT_CREATED(a) \
  a "created_at >= " DATE_BOUND("$8", TIME_FIRST) " AND " a "created_at < " DATE_BOUND("$9", TIME_LAST)
  /* (finished_at in byte order, as task_owner_finished and FINISHED_RANGE) */
#define FRONT_FINISHED(a)                                                                              \
  a "finished_at COLLATE \"C\" >= " DATE_BOUND("$12", TIME_FIRST) " AND " a "finished_at COLLATE \"C\" < " \
  DATE_BOUND("$13", TIME_LAST)
#define FRONT(v, rows, order) FRONT_AT(v, rows, order, FRONT_CREATED("w."))
  /* (the user's first FRONT_ROWS tasks of a status from the page key on,
   * as (id, created_at); the archive's, of each of its two statuses from
   * task_owner_status, as ARCHIVE_PARTS: planned for all users, "status
   * IN (...)" walked the primary key testing each task's owner, all
   * 21,000 of the tests' tasks for a user who has 80, and the two
   * statuses without a limit each were read whole and sorted) */
#define FRONT_PART(status, cmp, order)                                                                         \
  "(SELECT f.id, f.created_at, f.finished_at FROM task f WHERE " OWNER_VALUE("f.") " AND f.status = '" status "' AND f.id " cmp \
  " " KEPT_AFTER(cmp) " ORDER BY f.id " order " LIMIT " SQ_STR(FRONT_ROWS) ")"
#define FRONT_INBOX(cmp, order) FRONT_PART("ASSIGNED", cmp, order)
#define FRONT_ARCHIVE(cmp, order) FRONT_PART("DONE", cmp, order) " UNION ALL " FRONT_PART("CANCELED", cmp, order)
  [Q_LIST_INBOX_FRONT] = FRONT(INBOX, FRONT_INBOX("<", "DESC"), "DESC"),
  [Q_LIST_INBOX_FRONT_ASC] = FRONT(INBOX, FRONT_INBOX(">", "ASC"), "ASC"),
  [Q_LIST_ARCHIVE_FRONT] = FRONT(ARCHIVE, FRONT_ARCHIVE("<", "DESC"), "DESC"),
  [Q_LIST_ARCHIVE_FRONT_ASC] = FRONT(ARCHIVE, FRONT_ARCHIVE(">", "ASC"), "ASC"),
  [Q_LIST_ARCHIVE_FRONT_FIN] = FRONT_AT(ARCHIVE, FRONT_ARCHIVE("<", "DESC"), "DESC", FRONT_FINISHED("w.")),
  [Q_LIST_ARCHIVE_FRONT_FIN_ASC] = FRONT_AT(ARCHIVE, FRONT_ARCHIVE(">", "ASC"), "ASC", FRONT_FINISHED("w.")),
  /* The queue's front: the first FRONT_ROWS of its tasks from the page key
   * on, node by node as Q_LIST_QUEUE_NODES and merged, then tested for the
   * range (not each node's first tested apart: a node's task further on
   * could come before another node's match).  The range's read at
   * 1,000,000 processes (bob's queue since the newest 900 processes): 3.1
   * ms a page.  A node's estimate (a third of its tasks for each bound on
   * the page key) stays under FRONT_ROWS where nodes are small, and then
   * the plan for all values read the node's whole range and sorted it (at
   * 10,000 processes, 9,000 queued tasks: 2.7-3.5 ms a page against 0.5 at
   * 100,000; bench/README.md, section 46).  So each node's part has a limit
   * no plan sees into, (SELECT FRONT_ROWS), for which the planner counts
   * on a tenth of the rows and takes the walk in id order; it reads ids
   * alone (task_queue_node, index only), and the merged FRONT_ROWS read
   * their creation times by key, behind OFFSET 0 so that no plan turns
   * that into a join with a walk of the primary key. */
#define QUEUE_FRONT(bound, rest, order)                                                                              \
  "SELECT " LIST_COLS(QUEUE) " FROM (SELECT g.id FROM (SELECT k.id FROM " bound USER_QUEUED_NODES                    \
  " CROSS JOIN LATERAL (SELECT q.id FROM task q WHERE " LIST_PARAMS TASK_QUEUED("q.")                                \
  " AND q.flow_task = n.value" rest " ORDER BY q.id " order " LIMIT (SELECT " SQ_STR(FRONT_ROWS) ")) k ORDER BY k.id " \
  order " LIMIT " SQ_STR(FRONT_ROWS) ") g CROSS JOIN LATERAL (SELECT c.created_at FROM task c WHERE c.id = g.id OFFSET 0) c" \
  " WHERE c.created_at >= " DATE_BOUND("$8", TIME_FIRST) " AND c.created_at < " DATE_BOUND("$9", TIME_LAST)          \
  " ORDER BY g.id " order LIMIT_PREPARED ") w JOIN task t ON t.id = w.id " JOINS_QUEUE "ORDER BY t.id " order        \
  LIMIT_PREPARED
  [Q_LIST_QUEUE_FRONT] = QUEUE_FRONT(AFTER_LAST, " AND (q.flow_task, q.id) < (n.value, b.id) AND q.id < b.id", "DESC"),
  [Q_LIST_QUEUE_FRONT_ASC] = QUEUE_FRONT(AFTER_FIRST, " AND (q.flow_task, q.id) > (n.value, b.id) AND q.id > b.id", "ASC"),
  /* (the range's tasks up to CREATED_FEW, from the index alone; the
   * bounds are values no plan sees (DATE_BOUND), so the plan for all values,
   * that same walk of task_created, is kept: seen, each call's plan cost
   * less on paper and the server planned the count again at every call,
   * ~0.4 ms of a date page's) */
#define COUNT_CREATED(cap)                                                                                     \
  "SELECT count(*) FROM (SELECT 1 FROM task WHERE created_at >= " DATE_BOUND("$1", TIME_FIRST) " AND created_at < " \
  DATE_BOUND("$2", TIME_LAST) " AND " TASK_OF_PEOPLE("") " LIMIT " cap ") c"
  [Q_TASK_COUNT_CREATED] = COUNT_CREATED(SQ_STR(CREATED_FEW)),
  [Q_TASK_PAGE_CREATED] = COUNT_CREATED(SQ_STR(STORE_PAGE_ROWS)),
  /* store.c's Q_LIST_ARCHIVE_FINISHED: the archive with finished_since or
   * finished_until whose range holds few of the user's finished tasks, the
   * same way from the user's range of task_owner_finished (whose
   * finished_at is in byte order, COLLATE "C") */
#define FINISHED_RANGE                                                                                        \
  RANGE_OF("r.owner_id = $2 AND r.status IN ('DONE', 'CANCELED') AND ($12::text IS NULL OR r.finished_at COLLATE" \
           " \"C\" >= $12) AND ($13::text IS NULL OR r.finished_at COLLATE \"C\" < $13)")
#define FINISHED_LIST(cmp, order) IDS_PAGE(ARCHIVE, RANGE_IDS(FINISHED_RANGE, ARCHIVE, cmp, order), order)
  /* prepared when the finished range is the only filter (as DATE_LIST);
   * else FINISHED_LIST unnamed */
#define FINISHED_RANGE_KEPT                                                                                      \
  RANGE_OF("r.owner_id = " USER_VALUE " AND r.status IN ('DONE', 'CANCELED') AND r.finished_at COLLATE \"C\" >= " \
           DATE_BOUND("$12", TIME_FIRST) " AND r.finished_at COLLATE \"C\" < " DATE_BOUND("$13", TIME_LAST))
  [Q_LIST_ARCHIVE_FINISHED] = RANGE_LIST_KEPT(FINISHED_RANGE_KEPT, ARCHIVE, "<", "DESC"),
  [Q_LIST_ARCHIVE_FINISHED_ASC] = RANGE_LIST_KEPT(FINISHED_RANGE_KEPT, ARCHIVE, ">", "ASC"),
  /* (the user's finished tasks in the range up to CREATED_FEW from
   * task_owner_finished alone, every value hidden as COUNT_CREATED's) */
#define COUNT_FINISHED(cap)                                                                                      \
  "SELECT count(*) FROM (SELECT 1 FROM task WHERE owner_id = (SELECT $1::bigint) AND status IN ('DONE', 'CANCELED')" \
  " AND finished_at COLLATE \"C\" >= " DATE_BOUND("$2", TIME_FIRST) " AND finished_at COLLATE \"C\" < "           \
  DATE_BOUND("$3", TIME_LAST) " LIMIT " cap ") c"
  [Q_TASK_COUNT_FINISHED] = COUNT_FINISHED(SQ_STR(CREATED_FEW)),
  [Q_TASK_PAGE_FINISHED] = COUNT_FINISHED(SQ_STR(STORE_PAGE_ROWS)),
  /* store.c's Q_LIST_ALL_STATUS: all tasks of NEW or ASSIGNED, maybe of
   * some flows (the one asked for, a manager's), prepared: the page's ids
   * found one at a time in task_open (migration 15), each the status's
   * next entry after the one before that passes the flow tests, then their
   * rows.  Asked for the page at once ("ORDER BY t2.id LIMIT $11"), the
   * planner took task_open for dear: where most tasks finished at once and
   * a few stayed open, it holds a leaf page per entry, and it read the
   * status's whole range of task_status and sorted it instead (1.4 ms for
   * the 666 ASSIGNED tasks at 1,000,000 processes, 25 ms for 6,667 NEW of
   * a flow), planned at every execution (0.5-0.7 ms).  One entry at a time
   * ("LIMIT 1") is a step into task_open in the plan for all values: the
   * 51 steps read ~4 pages each.  The status is a value no plan sees
   * (PARAM_VALUE): a plan for 'NEW' counted it twice (with the IN of
   * task_open's predicate), guessed 27 entries, and read all 6,667 in
   * task_status at each step, 300 ms a page for the first five pages. */
#define OPEN_STEP(cmp, bound, order)                                                                          \
  "(SELECT t2.id FROM task t2 WHERE t2.status IN ('NEW', 'ASSIGNED') AND t2.status = " PARAM_VALUE("$7::text", "max", \
  "''") " AND t2.id " cmp " " bound                                                                                  \
  " AND " VIEW_ALL_ON("t2.") " AND ($5 IS NULL OR split_part(t2.flow_task, '.', 1) = $5) ORDER BY t2.id " order     \
  " LIMIT 1)"
#define STATUS_IDS(cmp, none, order)                                                                          \
  "WITH RECURSIVE w(id, n) AS (SELECT " OPEN_STEP(cmp, "coalesce($10, " none ")", order) ", 1 UNION ALL SELECT " \
  OPEN_STEP(cmp, "w.id", order) ", w.n + 1 FROM w WHERE w.id IS NOT NULL AND w.n < $11) SELECT w.id FROM w"      \
  " WHERE w.id IS NOT NULL"
#define STATUS_LIST(cmp, none, order) IDS_PAGE(ALL, STATUS_IDS(cmp, none, order), order)
  [Q_LIST_ALL_STATUS] = STATUS_LIST("<", MAX_ID, "DESC"),
  [Q_LIST_ALL_STATUS_ASC] = STATUS_LIST(">", "0", "ASC"),
/* The nodes of a flow ($5) that hold tasks of an index's: a loose scan of
 * column col (a node name) where in(a) holds (said with its " AND "),
 * within the flow's names, "flow." to "flow/" */
#define FLOW_NODES_IN(in, col, lo, hi)                                                                          \
  "(WITH RECURSIVE f(node) AS (SELECT (SELECT min(a." col ") FROM task a WHERE " in("a.") "a." col " > " lo       \
  " AND a." col " < " hi ") UNION ALL SELECT (SELECT min(a." col ") FROM task a WHERE " in("a.") "a." col         \
  " > f.node AND a." col " < " hi ") FROM f WHERE f.node IS NOT NULL) SELECT f.node FROM f WHERE f.node IS NOT" \
  " NULL) n"
#define FLOW_NODES(in, col) FLOW_NODES_IN(in, col, "$5 || '.'", "$5 || '/'")
/* The same with the flow's bounds from an aggregate (PARAM_VALUE) */
#define FLOW_BOUND(end) PARAM_VALUE("$5::text", "min", "NULL") " || '" end "'"
#define FLOW_NODES_KEPT(in, col) FLOW_NODES_IN(in, col, FLOW_BOUND("."), FLOW_BOUND("/"))
#define ASSIGNED_AND(a) a "status = 'ASSIGNED' AND "
/* A page of view v node by node: the nodes (a table n(node)), in each the
 * range that range says (of q, n.node), its newest (oldest) $11 after $10
 * that pass the filters, merged; then the page's rows by key. */
#define NODES_PAGE(v, nodes, range, cmp, order)                                                                  \
  "SELECT " LIST_COLS(v) " FROM (SELECT k.id FROM " nodes " CROSS JOIN LATERAL (SELECT q.id FROM task q WHERE "   \
  LIST_PARAMS range LIST_FILTERS_ON("q.") " AND ($10 IS NULL OR q.id " cmp " $10) ORDER BY q.id " order " LIMIT $11)" \
  " k ORDER BY k.id " order " LIMIT $11) w JOIN task t ON t.id = w.id " JOINS_##v "ORDER BY t.id " order " LIMIT $11"
  /* store.c's Q_LIST_INBOX_FLOW: the inbox of one flow ($5) node by node,
   * as the queue: the flow's nodes that hold assigned tasks (a loose index
   * scan of task_status within the flow's names), in each the user's range
   * of task_status (in id order: it ends in the id), merged.  Planned
   * whole, the twin walked the user's inbox reading each task's row to
   * test its flow. */
#define INBOX_FLOW_RANGE(user) "q.status = 'ASSIGNED' AND q.flow_task = n.node AND q.owner_id = " user
#define INBOX_FLOW(cmp, order) \
  NODES_PAGE(INBOX, FLOW_NODES(ASSIGNED_AND, "flow_task"), INBOX_FLOW_RANGE("$2"), cmp, order)
  /* Prepared: a page of the default size with no filter but the flow.  The
   * flow's bounds (FLOW_BOUND) and the page key (AFTER_ROW's b) come from
   * aggregates, the user is USER_VALUE, the limit is written out, and the
   * other filters are left out (a node of the flow is in the flow), so
   * that the plans for the values and the plan for all of them cost the
   * same and the last is kept: planned at every execution, a page spent ~1 ms of its ~2 in the
   * planner (counts_bench's inbox_flow and alice_archive_flow).  Other
   * pages run INBOX_FLOW (ARCHIVE_FLOW) unnamed (store_pg_list_filtered). */
#define NODES_PAGE_KEPT(v, nodes, range, bound, cmp, order)                                                      \
  "SELECT " LIST_COLS(v) " FROM (SELECT k.id FROM " bound nodes " CROSS JOIN LATERAL (SELECT q.id FROM task q"    \
  " WHERE " LIST_PARAMS range " AND q.id " cmp " b.id ORDER BY q.id " order LIMIT_PREPARED ") k ORDER BY k.id "   \
  order LIMIT_PREPARED ") w JOIN task t ON t.id = w.id " JOINS_##v "ORDER BY t.id " order LIMIT_PREPARED
#define INBOX_FLOW_KEPT(bound, cmp, order) \
  NODES_PAGE_KEPT(INBOX, FLOW_NODES_KEPT(ASSIGNED_AND, "flow_task"), INBOX_FLOW_RANGE(USER_VALUE), bound, cmp, order)
  [Q_LIST_INBOX_FLOW] = INBOX_FLOW_KEPT(AFTER_LAST, "<", "DESC"),
  [Q_LIST_INBOX_FLOW_ASC] = INBOX_FLOW_KEPT(AFTER_FIRST, ">", "ASC"),
  /* store.c's Q_LIST_ARCHIVE_FLOW: the archive of one flow ($5) node by
   * node, from task_owner_flow (migration 17), the same way: the user's
   * nodes of the flow that hold finished tasks, a loose scan of her range
   * of it within the flow's names (compared in byte order, as the index
   * keeps them), then each node's range, merged. */
#define FLOW_C "flow_task COLLATE \"C\""
#define OWNER_FINISHED_OF(a, user) OWNED_FINISHED(a) " AND " a "owner_id = " user " AND "
#define OWNER_FINISHED_IN(a) OWNER_FINISHED_OF(a, "$2")
#define OWNER_FINISHED_KEPT(a) OWNER_FINISHED_OF(a, USER_VALUE)
#define ARCHIVE_FLOW_RANGE(user) OWNER_FINISHED_OF("q.", user) "q." FLOW_C " = n.node"
#define ARCHIVE_FLOW(cmp, order) \
  NODES_PAGE(ARCHIVE, FLOW_NODES(OWNER_FINISHED_IN, FLOW_C), ARCHIVE_FLOW_RANGE("$2"), cmp, order)
#define ARCHIVE_FLOW_KEPT(bound, cmp, order) \
  NODES_PAGE_KEPT(ARCHIVE, FLOW_NODES_KEPT(OWNER_FINISHED_KEPT, FLOW_C), ARCHIVE_FLOW_RANGE(USER_VALUE), bound, cmp, \
                  order)
  [Q_LIST_ARCHIVE_FLOW] = ARCHIVE_FLOW_KEPT(AFTER_LAST, "<", "DESC"),
  [Q_LIST_ARCHIVE_FLOW_ASC] = ARCHIVE_FLOW_KEPT(AFTER_FIRST, ">", "ASC"),
  /* (not used: PostgreSQL's planner tells a rare status from a common one) */
  [Q_TASK_COUNT_STATUS] = "SELECT (SELECT count(*) FROM (SELECT 1 FROM task WHERE status = $1 LIMIT " SQ_STR(STATUS_FEW)
                          ") c), (SELECT max(id) FROM task)",
  /* By due date, earliest first, tasks without one last; the page key is
   * still the last task's id, whose (due, id) the next page starts after.
   * COLLATE "C": '~' (and '' below) must sort after (before) every ISO
   * time, which holds in byte order, not in a language collation such as
   * en_US that a database may have been created with. */
#define DUE_KEY "(coalesce(t.due_at, '~') COLLATE \"C\", t.id)"
#define LIST_DUE(v, rest, limit) \
  LIST_HEAD(v) rest " ORDER BY coalesce(t.due_at, '~') COLLATE \"C\", t.id" limit
#define AFTER_DUE " AND ($10 IS NULL OR " DUE_KEY " > (SELECT coalesce(due_at, '~') COLLATE \"C\", id FROM task WHERE id = $10))"
  /* ... in two parts, as on SQLite (store.c's DUE_PARTS), from the indexes
   * of migration 9.  The bounds after $10 are subqueries, which no plan
   * knows ahead: the plan for all values costs what each one would, and is
   * kept for the pages after one as well. */
/* (the key's row by "id = (SELECT $10)", a value no plan knows either: on
 * the first page, "id = $10" with $10 NULL folded to nothing in each
 * plan for the values, which then looked cheaper by those two lookups
 * than the plan for all values, and the inbox by due date was planned at
 * every execution: 7.9 against 4.7 million instructions at 10,000
 * processes, bench/pg_stmt_cost.sh) */
#define KEY_ROW "id = (SELECT $10::bigint)"
#define AFTER_DUE_SET(a)                                                                                         \
  " AND (" a "due_at COLLATE \"C\", " a "id) > (SELECT coalesce(max(coalesce(due_at, '~')), '') COLLATE \"C\","  \
  " coalesce(max(id), 0) FROM task WHERE " KEY_ROW ")"
#define AFTER_DUE_UNSET(a) " AND " a "id > coalesce((SELECT id FROM task WHERE " KEY_ROW " AND due_at IS NULL), 0)"
#define DUE_SET(a, rest, limit) \
  a "due_at IS NOT NULL" AFTER_DUE_SET(a) rest " ORDER BY " a "due_at COLLATE \"C\", " a "id" limit
/* (ordered by (due_at, id), all NULL: id order, and the index's) */
#define DUE_UNSET(a, rest, limit) \
  a "due_at IS NULL" AFTER_DUE_UNSET(a) rest " ORDER BY " a "due_at COLLATE \"C\", " a "id" limit
#define DUE_PARTS_HEAD(v) "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE " LIST_PARAMS "t.id IN "
#define DUE_ORDER(due, id) " ORDER BY coalesce(" due ", '~') COLLATE \"C\", " id
#define INBOX_DUE_PARTS(rest, limit)                                                                              \
  DUE_PARTS_HEAD(INBOX) "(SELECT k.id FROM ((SELECT d.id, d.due_at AS due FROM task d WHERE " OWNER_VALUE("d.")   \
  " AND d.status = 'ASSIGNED' AND " DUE_SET("d.", rest("d."), limit) ") UNION ALL (SELECT u.id, NULL FROM task u" \
  " WHERE " OWNER_VALUE("u.") " AND u.status = 'ASSIGNED' AND " DUE_UNSET("u.", rest("u."), limit) ")) k"        \
  DUE_ORDER("k.due", "k.id") limit ")" DUE_ORDER("t.due_at", "t.id") limit
/* the queue's bounds once, as a row joined to every node's range: as a
 * subquery inside each node's they were costed per node, and the plan for
 * all values looked dearer than one for each (planned at every execution).
 * The part without a due date is ordered by (due_at, id) like DUE_UNSET,
 * all NULL, which is the index's order: ordered by id alone, PostgreSQL
 * (to which "due_at IS NULL" fixes no order) read every queued task of
 * the node and sorted them (9,000 for bob at 10,000 processes: 17.0
 * million instructions a page, bench/pg_stmt_cost.sh). */
#define BOUND_SET "(SELECT coalesce(max(coalesce(due_at, '~')), '') AS due, coalesce(max(id), 0) AS id FROM task WHERE " KEY_ROW ")"
#define BOUND_UNSET "(SELECT coalesce(max(id) FILTER (WHERE due_at IS NULL), 0) AS id FROM task WHERE " KEY_ROW ")"
#define QUEUE_DUE_PARTS(rest, limit)                                                                              \
  DUE_PARTS_HEAD(QUEUE) "(SELECT k.id FROM (SELECT d.id, d.due_at AS due FROM " BOUND_SET " b"                   \
  " CROSS JOIN " USER_QUEUED_NODES " CROSS JOIN LATERAL (SELECT d.id, d.due_at FROM task d WHERE " \
  TASK_QUEUED("d.") " AND d.flow_task = n.value AND d.due_at IS NOT NULL AND (d.due_at COLLATE \"C\", d.id) >"    \
  " (b.due COLLATE \"C\", b.id)" rest("d.") " ORDER BY d.due_at COLLATE \"C\", d.id" limit ") d UNION ALL"        \
  " SELECT u.id, NULL FROM " BOUND_UNSET " b CROSS JOIN " USER_QUEUED_NODES " CROSS JOIN LATERAL" \
  " (SELECT u.id FROM task u WHERE " TASK_QUEUED("u.") " AND u.flow_task = n.value AND u.due_at IS NULL"           \
  " AND u.id > b.id" rest("u.") " ORDER BY u.due_at COLLATE \"C\", u.id" limit ") u) k"                           \
  DUE_ORDER("k.due", "k.id") limit ")"                                                                            \
  DUE_ORDER("t.due_at", "t.id") limit
#define NO_FILTERS(a) ""
  /* the archive by finished_at in two parts (store.c's ARCHIVE_FIN_PARTS);
   * the tasks without a time ordered by (finished_at, id) too, all NULL,
   * which is id order and the index's: ordered by id alone, the planner
   * took task_owner_id and read every task of the user (18 ms at 100,000) */
#define ARCHIVE_FIN_PARTS(rest, limit, cmp, order, none, top, top_id)                                 \
  DUE_PARTS_HEAD(ARCHIVE) "(SELECT k.id FROM ((SELECT f.id, f.finished_at AS fin FROM task f WHERE"               \
  " " OWNER_VALUE("f.") " AND f.status IN ('DONE','CANCELED') AND f.finished_at IS NOT NULL AND"               \
  " (f.finished_at COLLATE \"C\", f.id) " cmp " (SELECT coalesce(max(coalesce(finished_at, '" none "')),"  \
  " '" top "') COLLATE \"C\", coalesce(max(id), " top_id ") FROM task WHERE " KEY_ROW ")" rest("f.")               \
  " ORDER BY f.finished_at COLLATE \"C\" " order ", f.id " order limit ") UNION ALL (SELECT u.id, NULL"         \
  " FROM task u WHERE " OWNER_VALUE("u.") " AND u.status IN ('DONE','CANCELED') AND u.finished_at IS NULL AND u.id " \
  cmp " coalesce((SELECT id FROM task WHERE " KEY_ROW " AND finished_at IS NULL), " top_id ")" rest("u.")          \
  " ORDER BY u.finished_at COLLATE \"C\" " order ", u.id " order limit ")) k ORDER BY coalesce(k.fin, '" none "') COLLATE \"C\" " order ", k.id " order \
  limit ") ORDER BY coalesce(t.finished_at, '" none "') COLLATE \"C\" " order ", t.id " order limit
  [Q_LIST_ARCHIVE_FIN_PARTS] =
      ARCHIVE_FIN_PARTS(NO_FILTERS, LIMIT_PREPARED, "<", "DESC", "", "~", "9223372036854775807"),
  [Q_LIST_ARCHIVE_FIN_PARTS_ASC] = ARCHIVE_FIN_PARTS(NO_FILTERS, LIMIT_PREPARED, ">", "ASC", "~", "", "0"),
  [Q_LIST_INBOX_DUE_PARTS] = INBOX_DUE_PARTS(NO_FILTERS, LIMIT_PREPARED),
  [Q_LIST_QUEUE_DUE_PARTS] = QUEUE_DUE_PARTS(NO_FILTERS, LIMIT_PREPARED),
  [Q_LIST_INBOX_DUE] = LIST_DUE(INBOX, "", LIMIT_PREPARED),
  [Q_LIST_QUEUE_DUE] = LIST_DUE(QUEUE, "", LIMIT_PREPARED),
  [Q_LIST_ARCHIVE_DUE] = LIST_DUE(ARCHIVE, "", LIMIT_PREPARED),
  [Q_LIST_ALL_DUE] = LIST_DUE(ALL, "", LIMIT_PREPARED),
  /* By finished_at (the archive's "Finished" column), unfinished tasks last
   * either way; paged like the due order, by the last task's id. */
#define FIN_KEY(none) "(coalesce(t.finished_at, '" none "') COLLATE \"C\", t.id)"
#define LIST_FIN(v, rest, none, order, limit) \
  LIST_HEAD(v) rest \
  " ORDER BY coalesce(t.finished_at, '" none "') COLLATE \"C\" " order ", t.id " order limit
#define AFTER_FIN(none, cmp) " AND ($10 IS NULL OR " FIN_KEY(none) " " cmp \
  " (SELECT coalesce(finished_at, '" none "') COLLATE \"C\", id FROM task WHERE id = $10))"
  [Q_LIST_INBOX_FIN] = LIST_FIN(INBOX, "", "", "DESC", LIMIT_PREPARED),
  [Q_LIST_QUEUE_FIN] = LIST_FIN(QUEUE, "", "", "DESC", LIMIT_PREPARED),
  [Q_LIST_ARCHIVE_FIN] = LIST_FIN(ARCHIVE, "", "", "DESC", LIMIT_PREPARED),
  [Q_LIST_ALL_FIN] = LIST_FIN(ALL, "", "", "DESC", LIMIT_PREPARED),
  [Q_LIST_INBOX_FIN_ASC] = LIST_FIN(INBOX, "", "~", "ASC", LIMIT_PREPARED),
  [Q_LIST_QUEUE_FIN_ASC] = LIST_FIN(QUEUE, "", "~", "ASC", LIMIT_PREPARED),
  [Q_LIST_ARCHIVE_FIN_ASC] = LIST_FIN(ARCHIVE, "", "~", "ASC", LIMIT_PREPARED),
  [Q_LIST_ALL_FIN_ASC] = LIST_FIN(ALL, "", "~", "ASC", LIMIT_PREPARED),
  /* Counted up to a cap ($11, -1: none): a range of the index the view
   * walks (task_owner_status, task_status), never every matching row. */
  [Q_READ_BEGIN] = "BEGIN",
  [Q_LIST_PREVIOUS] =
      "SELECT task_id, previous_id FROM task_previous WHERE task_id = ANY " PAGE_IDS
      " UNION SELECT id, prev_id FROM task WHERE id = ANY " PAGE_IDS " AND prev_id IS NOT NULL"
      " ORDER BY 1, 2",
#define ACTOR_COLS                                                                              \
  "SELECT u.id, u.username, u.is_admin, u.is_active, u.password_hash,"                          \
  " (SELECT coalesce(json_agg(name), '[]') FROM (SELECT name FROM user_perm WHERE user_id = u.id UNION" \
  "  SELECT gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = u.id) p)," \
  " (SELECT coalesce(json_agg(g.name ORDER BY g.name), '[]') FROM grp g JOIN user_grp ug ON ug.grp_id = g.id" \
  "  WHERE ug.user_id = u.id) "
  [Q_TOKEN_USER] = ACTOR_COLS "FROM api_token t JOIN \"user\" u ON u.id = t.user_id WHERE t.token_hash = $1",
  [Q_USER_ACTOR_ID] = ACTOR_COLS "FROM \"user\" u WHERE u.id = $1",
  [Q_USER_ACTOR] = ACTOR_COLS "FROM \"user\" u WHERE u.username = $1",
  [Q_USER_PERMS_GROUPS] =
      "SELECT 0, name FROM user_perm WHERE user_id = $1 UNION "
      "SELECT 0, gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = $1 UNION ALL "
      "SELECT 1, g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id WHERE ug.user_id = $1 ORDER BY 1, 2",
#define LIMIT_CAP " LIMIT (SELECT NULLIF($11::bigint, -1))"
  /* the user and the cap as values no plan knows (OWNER_VALUE, LIMIT_CAP):
   * with "owner_id = $2", each execution's plan for alice (who holds no
   * task, at 1,000,000 processes) looked cheaper than the plan for all
   * values, and her count was planned at every execution */
  [Q_COUNT_INBOX] = "SELECT count(*) FROM (SELECT 1 FROM task t WHERE " LIST_PARAMS INBOX_OWNER LIMIT_CAP ") AS c",
  /* node by node (task_queue_node), each node's range stopping at the cap.
   * The cap a value no plan knows (a subquery): as "LIMIT $11", each
   * execution's plan knew it (1,000) and looked three times cheaper than
   * the plan for all values (which guesses a tenth of the rows), so from
   * 100,000 processes the count was planned at every execution (5.2
   * against 1.9 million instructions, bench/pg_stmt_cost.sh). */
  [Q_COUNT_QUEUE] =
      "SELECT count(*) FROM (SELECT 1 FROM " USER_QUEUED_NODES " CROSS JOIN LATERAL"
      " (SELECT 1 FROM task q WHERE " TASK_QUEUED("q.") " AND q.flow_task = n.value" LIMIT_CAP ") k"
      " WHERE " LIST_PARAMS "TRUE" LIMIT_CAP ") AS c",
  /* INDEXED BY: without statistics SQLite would walk every SCHEDULED row,
   * external tasks waiting for workers outside included, and sort them */
  /* The claims lock the row they pick and skip rows another worker (of
   * this host or another) holds: the claim's transaction then leases it,
   * so exactly one worker gets each job. */
  [Q_TASK_CLAIM] =
      "SELECT " TASK_COLS " FROM task t LEFT JOIN \"user\" u ON u.id = t.owner_id "
      "WHERE t.status = 'SCHEDULED' AND coalesce(t.due_at, '') <= $1 AND t.flow_task_type <> 'external'"
      " AND (t.lease_until IS NULL OR t.lease_until < $1) ORDER BY t.due_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
  [Q_TASK_LEASE] = "UPDATE task SET lease_owner = $2, lease_until = $3 WHERE id = $1",
  [Q_TASK_CLAIM_ID] =
      "SELECT " TASK_COLS TASK_FROM
      "WHERE t.id = $2 AND t.status = 'SCHEDULED' AND coalesce(t.due_at, '') <= $1 AND t.flow_task_type <> 'external'"
      " AND (t.lease_until IS NULL OR t.lease_until < $1) FOR UPDATE OF t SKIP LOCKED",
  /* external tasks wait for the workers outside (store_external.c), never
   * for the host's own; the earliest first (NULL first, as '' was) */
  [Q_TASK_NEXT_DUE] =
      "SELECT coalesce(due_at, '') FROM task"
      " WHERE status = 'SCHEDULED' AND flow_task_type <> 'external' ORDER BY due_at LIMIT 1",
  /* external tasks: the free, due tasks of one topic in the order of the
   * index (an external task always has a due_at), locked for a worker;
   * lease_until on the right of SET is the old one */
  [Q_EXT_FETCH] =
      "SELECT id, process_id, flow_task, event_name, attempts, due_at, lease_until IS NOT NULL"
      " FROM task"
      " WHERE status = 'SCHEDULED' AND flow_task_type = 'external' AND event_name = $1 AND due_at <= $2"
      " AND (lease_until IS NULL OR lease_until < $2) AND flow_task IN (SELECT value FROM json_array_elements_text(($4)::json))"
      " ORDER BY due_at, id LIMIT NULLIF($3::bigint, -1) FOR UPDATE SKIP LOCKED",
  [Q_EXT_LOCK] =
      "UPDATE task SET lease_owner = $2, lease_until = $3,"
      " lease_expiries = lease_expiries + (lease_until IS NOT NULL)::int WHERE id = $1",
  [Q_EXT_EXTEND] =
      "UPDATE task SET lease_until = $3 WHERE id = $1 AND status = 'SCHEDULED' AND flow_task_type = 'external'"
      " AND lease_owner = $2 AND lease_until >= $4",
  [Q_EXT_EXPIRIES] = "SELECT coalesce(sum(lease_expiries), 0) FROM task WHERE flow_task_type = 'external'",
  [Q_PROC_LOCK] = "SELECT pg_advisory_lock($1::bigint)",
  [Q_PROC_UNLOCK] = "SELECT pg_advisory_unlock($1::bigint)",
  /* the task's process and, if free, its lock, in one round trip: the
   * target list runs only for the one row the primary key finds */
  [Q_TASK_PROCESS_LOCK] = "SELECT process_id, pg_try_advisory_lock(process_id)::int FROM task WHERE id = $1",
  /* sent right behind it, so the server runs them once it has tried the
   * lock: the action's reads in the lock's round trip (store_lock.c) */
  [Q_PROC_GET_BY_TASK] = PROC_ROW("\"user\"") "WHERE p.id = (SELECT process_id FROM task WHERE id = $1)",
  [Q_TASK_LIVE_OF_PROCESS_BY_TASK] = LIVE_TASKS("(SELECT process_id FROM task WHERE id = $1)", "$1"),
  /* the COMMIT sent ahead of the process lock's release (store_lock_commit) */
  [Q_COMMIT_AHEAD] = "COMMIT",
  [Q_RENAME] = "UPDATE task SET flow_task = $2 WHERE flow_task = $1",
  [Q_RECEIVER_NEXT] =
      "SELECT id, process_id FROM task WHERE status = 'STARTED' AND flow_task_type = 'receive'"
      " AND event_name = $1 AND event_key IS NOT DISTINCT FROM $2::text AND id > $3 ORDER BY id LIMIT 1",
  [Q_MSG_KEEP] =
      "INSERT INTO message(name, key, data, created_at, expires_at) SELECT $1, $2, $3, $4, $5"
      " WHERE NOT EXISTS (SELECT 1 FROM task WHERE status = 'STARTED' AND flow_task_type = 'receive'"
      "  AND event_name = $1 AND event_key = $2) RETURNING id",
  [Q_MSG_INSERT] =
      "INSERT INTO message(name, key, data, created_at, expires_at, pending) VALUES($1, $2, $3, $4, $5, 1) RETURNING id",
  [Q_MSG_OFFERED] = "UPDATE message SET pending = 0 WHERE id = $1",
  [Q_MSG_EXISTS] = "SELECT count(*) FROM message WHERE id = $1",
  [Q_MSG_UNDELIVERED] =
      "SELECT m.id, m.name, m.key, m.data FROM message m WHERE m.id > $2 AND m.pending <> 0 AND m.expires_at > $1 AND EXISTS"
      " (SELECT 1 FROM task t WHERE t.status = 'STARTED' AND t.flow_task_type = 'receive'"
      "  AND t.event_name = m.name AND t.event_key = m.key AND t.created_at <= m.created_at) ORDER BY m.id LIMIT 1",
  [Q_MSG_FIND] =
      "SELECT id, data FROM message WHERE name = $1 AND key = $2 AND expires_at > $3 AND id > $4"
      " ORDER BY id LIMIT 1",
  [Q_MSG_DELETE] = "DELETE FROM message WHERE id = $1",
  [Q_MSG_EXPIRE] = "DELETE FROM message WHERE expires_at <= $1",
  [Q_MSG_NEXT_EXPIRY] = "SELECT min(expires_at) FROM message",
  [Q_MSG_KEPT_FOR] =
      "SELECT EXISTS (SELECT 1 FROM message WHERE name = $1 AND key = $2 AND id > $3 AND expires_at > $4)",
  [Q_MSG_LAST_ID] = "SELECT coalesce(max(id), 0) FROM message",
  [Q_RENAME_BUMP] = "UPDATE process SET version = version + 1 WHERE id IN (SELECT process_id FROM task WHERE flow_task = $1)",
};

/* The list pages with their optional filters, for a page that has one
 * (store.c runs it unnamed: planned for its parameters).  STORE_SQL_PG
 * holds the pages without them, prepared once: in a plan made for unknown
 * parameters every optional condition ("$6 IS NULL OR t.process_id = $6")
 * counts as selective, seven of them left one row of a thousand-task
 * inbox expected, and the planner sorted every row of the view for the
 * first 50 instead of walking task_owner_status in id order (5 ms at
 * 1,000 tasks, growing with them; 0.2 ms walking).  Planning a page for
 * its parameters each time instead cost more than the walk. */
static const char *const LIST_FILTERED[Q_LIST_ALL_FIN_ASC - Q_LIST_INBOX + 1] = {
  [Q_LIST_INBOX - Q_LIST_INBOX] = LIST(INBOX, LIST_FILTERS AFTER_ID("<"), "DESC", LIMIT_PLANNED),
  [Q_LIST_INBOX_ASC - Q_LIST_INBOX] = LIST(INBOX, LIST_FILTERS AFTER_ID(">"), "ASC", LIMIT_PLANNED),
  [Q_LIST_QUEUE - Q_LIST_INBOX] = LIST(QUEUE, LIST_FILTERS AFTER_ID("<"), "DESC", LIMIT_PLANNED),
  [Q_LIST_QUEUE_ASC - Q_LIST_INBOX] = LIST(QUEUE, LIST_FILTERS AFTER_ID(">"), "ASC", LIMIT_PLANNED),
  [Q_LIST_ARCHIVE - Q_LIST_INBOX] = LIST(ARCHIVE, LIST_FILTERS AFTER_ID("<"), "DESC", LIMIT_PLANNED),
  [Q_LIST_ARCHIVE_ASC - Q_LIST_INBOX] = LIST(ARCHIVE, LIST_FILTERS AFTER_ID(">"), "ASC", LIMIT_PLANNED),
  [Q_LIST_ALL - Q_LIST_INBOX] = LIST(ALL, LIST_FILTERS AFTER_ID("<"), "DESC", LIMIT_PLANNED),
  [Q_LIST_ALL_ASC - Q_LIST_INBOX] = LIST(ALL, LIST_FILTERS AFTER_ID(">"), "ASC", LIMIT_PLANNED),
  [Q_LIST_INBOX_DUE - Q_LIST_INBOX] = LIST_DUE(INBOX, LIST_FILTERS AFTER_DUE, LIMIT_PLANNED),
  [Q_LIST_QUEUE_DUE - Q_LIST_INBOX] = LIST_DUE(QUEUE, LIST_FILTERS AFTER_DUE, LIMIT_PLANNED),
  [Q_LIST_ARCHIVE_DUE - Q_LIST_INBOX] = LIST_DUE(ARCHIVE, LIST_FILTERS AFTER_DUE, LIMIT_PLANNED),
  [Q_LIST_ALL_DUE - Q_LIST_INBOX] = LIST_DUE(ALL, LIST_FILTERS AFTER_DUE, LIMIT_PLANNED),
  [Q_LIST_INBOX_FIN - Q_LIST_INBOX] = LIST_FIN(INBOX, LIST_FILTERS AFTER_FIN("", "<"), "", "DESC", LIMIT_PLANNED),
  [Q_LIST_QUEUE_FIN - Q_LIST_INBOX] = LIST_FIN(QUEUE, LIST_FILTERS AFTER_FIN("", "<"), "", "DESC", LIMIT_PLANNED),
  [Q_LIST_ARCHIVE_FIN - Q_LIST_INBOX] = LIST_FIN(ARCHIVE, LIST_FILTERS AFTER_FIN("", "<"), "", "DESC", LIMIT_PLANNED),
  [Q_LIST_ALL_FIN - Q_LIST_INBOX] = LIST_FIN(ALL, LIST_FILTERS AFTER_FIN("", "<"), "", "DESC", LIMIT_PLANNED),
  [Q_LIST_INBOX_FIN_ASC - Q_LIST_INBOX] = LIST_FIN(INBOX, LIST_FILTERS AFTER_FIN("~", ">"), "~", "ASC", LIMIT_PLANNED),
  [Q_LIST_QUEUE_FIN_ASC - Q_LIST_INBOX] = LIST_FIN(QUEUE, LIST_FILTERS AFTER_FIN("~", ">"), "~", "ASC", LIMIT_PLANNED),
  [Q_LIST_ARCHIVE_FIN_ASC - Q_LIST_INBOX] = LIST_FIN(ARCHIVE, LIST_FILTERS AFTER_FIN("~", ">"), "~", "ASC", LIMIT_PLANNED),
  [Q_LIST_ALL_FIN_ASC - Q_LIST_INBOX] = LIST_FIN(ALL, LIST_FILTERS AFTER_FIN("~", ">"), "~", "ASC", LIMIT_PLANNED),
};

/* the queue node by node with its filters, and the page after $10, inside each node */
#define QUEUE_NODES_FILTERED(cmp, order) \
  QUEUE_NODES(LIST_FILTERS_ON("q.") AFTER_ID_ON("q.", cmp), order, LIMIT_PLANNED)
static const char *const QUEUE_NODES_FILTERED_SQL[2] = {QUEUE_NODES_FILTERED("<", "DESC"),
                                                       QUEUE_NODES_FILTERED(">", "ASC")};

static const char *const DUE_PARTS_FILTERED_SQL[4] = {
    INBOX_DUE_PARTS(LIST_FILTERS_ON, LIMIT_PLANNED), QUEUE_DUE_PARTS(LIST_FILTERS_ON, LIMIT_PLANNED),
    ARCHIVE_FIN_PARTS(LIST_FILTERS_ON, LIMIT_PLANNED, "<", "DESC", "", "~", "9223372036854775807"),
    ARCHIVE_FIN_PARTS(LIST_FILTERS_ON, LIMIT_PLANNED, ">", "ASC", "~", "", "0")};

/* The twins planned for their values of the statements prepared only for
 * a page of the default size with one filter (the process list, the pages
 * of one flow and of a date range): a table of every statement's place,
 * those filled */
#undef DATE_LIST
#define DATE_LIST DATE_LIST_PLANNED
static const char *const PLANNED_TWIN_SQL[Q__COUNT] = {
    [Q_PROC_LIST] = PROC_LIST_PLANNED,
    [Q_PROC_LIST_USER] = PROC_LIST_USER_PLANNED,
    [Q_PROC_LIST_USER_FLOW] = PROC_LIST_USER_PLANNED,
    [Q_PROC_LIST_FLOW] = PROC_FLOW_LIST(PLANNED, ""),
    [Q_PROC_LIST_FEW_FLOW] = PROC_FEW_FLOW(PLANNED),
    [Q_PROC_LIST_OWN_STATUS] = PROC_USER_LIST(PLANNED, BY_STATUS(PLANNED)),
    [Q_LIST_INBOX_FLOW] = INBOX_FLOW("<", "DESC"),
    [Q_LIST_INBOX_FLOW_ASC] = INBOX_FLOW(">", "ASC"),
    [Q_LIST_ARCHIVE_FLOW] = ARCHIVE_FLOW("<", "DESC"),
    [Q_LIST_ARCHIVE_FLOW_ASC] = ARCHIVE_FLOW(">", "ASC"),
    [Q_LIST_ARCHIVE_FINISHED] = FINISHED_LIST("<", "DESC"),
    [Q_LIST_ARCHIVE_FINISHED_ASC] = FINISHED_LIST(">", "ASC"),
    [Q_LIST_ALL_FEW] = ALL_FEW_LIST("<", "DESC", " LIMIT $11"),
    [Q_LIST_ALL_FEW_ASC] = ALL_FEW_LIST(">", "ASC", " LIMIT $11"),
    DATE_LIST_ENTRIES};

const char *store_pg_list_filtered(int q) {
  if (q >= 0 && q < Q__COUNT && PLANNED_TWIN_SQL[q]) return PLANNED_TWIN_SQL[q];
  if (q == Q_LIST_QUEUE_NODES || q == Q_LIST_QUEUE_NODES_ASC) return QUEUE_NODES_FILTERED_SQL[q == Q_LIST_QUEUE_NODES_ASC];
  if (q == Q_LIST_INBOX_DUE_PARTS) return DUE_PARTS_FILTERED_SQL[0];
  if (q == Q_LIST_QUEUE_DUE_PARTS) return DUE_PARTS_FILTERED_SQL[1];
  if (q == Q_LIST_ARCHIVE_FIN_PARTS) return DUE_PARTS_FILTERED_SQL[2];
  if (q == Q_LIST_ARCHIVE_FIN_PARTS_ASC) return DUE_PARTS_FILTERED_SQL[3];
  return q >= Q_LIST_INBOX && q <= Q_LIST_ALL_FIN_ASC ? LIST_FILTERED[q - Q_LIST_INBOX] : NULL;
}

/* The writes whose callers read nothing of their execution but success
 * (no rows, no count, no id): on PostgreSQL they are sent ahead inside a
 * transaction (store_pg.c).  Keep a statement off this list when any
 * caller reads its count, its id or a constraint error of its own. */
int store_pg_deferrable(int q) {
  switch (q) {
  case Q_TASK_INSERT_2: case Q_TASK_INSERT_3: case Q_TASK_INSERT_4:   /* ids given (insert_tasks) */
  case Q_TASK_UPDATE:   /* store_task_update: a write's changed tasks, its count unread */
  case Q_TASK_PREV_ADD: case Q_TASK_PREV_ADD_2: case Q_TASK_PREV_ADD_3: case Q_TASK_PREV_ADD_4:
  case Q_TASK_PREV_ADD_MANY: case Q_PARTICIPANT_ADD:
  case Q_DATA_AUDIT_ADD: case Q_DATA_AUDIT_FIRST: case Q_DATA_SEARCH_INSERT: case Q_DATA_SEARCH_DELETE:
  /* a new process that is nobody's child: its id comes from the sequence,
   * so only a broken row could fail it (the COMMIT then reports that); a
   * child's insert (Q_PROC_INSERT_ROW) waits for its answer, since its
   * Subprocess task's unique index failing there means "started already",
   * which the engine retries (FH_STALE) */
  case Q_PROC_INSERT_TOP:
  case Q_PROC_UPDATE_CHECKED:   /* a changed row fails it on the server (DB_STALE) */
  case Q_COMMIT_AHEAD:   /* its answer comes with the unlock's, which fails if it failed */
    return 1;
  default:
    return 0;
  }
}
