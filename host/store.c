/* store — the SQL of flowhost's rows: the statement table and every row
 * function (users, groups, sessions, tokens, processes, tasks, task lists,
 * claims, leases, renames, and an action's short write store_write_process).
 *
 * It calls SQLite through the helpers defined here and declared in
 * store_internal.h, and store_writer.c's store_begin/store_commit for the
 * writes that are transactions of their own.  It never opens a connection,
 * nor knows how writes are batched: that is store_writer.c, kept apart the
 * way SQLite keeps pager.c apart from wal.c, so that the rows can be read
 * without the locking and the locking without the rows.
 */
#include <sys/statvfs.h>

#include "metrics.h"
#include "store_internal.h"

/* the ids of the tasks it came from, "3,4" (a list page reads its rows'
 * first link with them and any others in one statement: list_previous).
 * Most tasks have one link, prev_id, and no row in task_previous: a probe
 * of its key tells, and the union's sorted temporary table is built only
 * for the others (it was ~1.6 us a row, half of reading a process of
 * 1,500 tasks for each action on it) */
#define TASK_PREV                                                                          \
  "CASE WHEN EXISTS (SELECT 1 FROM task_previous tp WHERE tp.task_id = t.id) THEN "         \
  "(SELECT group_concat(p) FROM (SELECT previous_id AS p FROM task_previous tp "            \
  "  WHERE tp.task_id = t.id UNION SELECT t.prev_id WHERE t.prev_id IS NOT NULL ORDER BY 1)) " \
  "ELSE t.prev_id END, "
#define TASK_COLS TASK_COLS_HEAD TASK_PREV TASK_COLS_TAIL
#define TASK_FROM " FROM task t LEFT JOIN user u ON u.id = t.owner_id "
#define ACTIVE "('NEW','ASSIGNED','STARTED','SCHEDULED','ERROR')"
#define ENDED "('DONE','CANCELED','REVIVED')"
/* The open instances of a group that still runs (its controller STARTED)
 * are left out of an action's read, but for the task it acts on: the
 * controller stands for them (engine_state.c, pstate_load_live). */
#define NOT_LEFT_OUT(pid, acted)                                                                    \
  " AND (t.group_id IS NULL OR t.id = " acted " OR t.group_id NOT IN (" RUNNING_GROUP_IDS(pid) "))"

/* The task list filters are all optional: a NULL parameter switches its
 * condition off, so one prepared statement serves every combination. */
/* One row of plain ? parameters for TASK_INSERT_INTO (SQLite numbers them
 * in order: row k binds 23k+1 to 23k+23). */
#define TASK_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* a process row with its id (store_write_process) */
#define PROC_INSERT                                                                                            \
  "INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, parent_task_id,"   \
  " parent_id, depth, flow_version) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, " CURRENT_VERSION("?2") ")"

const char *const STORE_SQL[Q__COUNT] = {
  [Q_BEGIN] = "BEGIN IMMEDIATE",
  [Q_COMMIT] = "COMMIT",
  [Q_ROLLBACK] = "ROLLBACK",
  [Q_SAVEPOINT] = "SAVEPOINT node",
  [Q_RELEASE] = "RELEASE node",
  [Q_ROLLBACK_TO] = "ROLLBACK TO node",
  [Q_ACTION_SAVE] = "SAVEPOINT action",
  [Q_ACTION_RELEASE] = "RELEASE action",
  [Q_ACTION_ROLLBACK] = "ROLLBACK TO action",
  [Q_USER_ADD] = "INSERT INTO user(username, password_hash, is_admin, created_at) VALUES(?1, ?2, ?3, ?4)",
  [Q_USER_GET] = "SELECT id, username, is_admin, is_active, password_hash FROM user WHERE username = ?1",
  [Q_USER_GET_ID] = "SELECT id, username, is_admin, is_active, password_hash FROM user WHERE id = ?1",
  [Q_USER_PASSWD] = "UPDATE user SET password_hash = ?2 WHERE username = ?1",
  [Q_USER_ADMIN] = "UPDATE user SET is_admin = ?2 WHERE username = ?1",
  [Q_USER_COUNT] = "SELECT count(*) FROM user",
  [Q_USER_LIST] = "SELECT id, username, is_admin, is_active FROM user ORDER BY username",
  [Q_USER_PERMS] =
      "SELECT name FROM user_perm WHERE user_id = ?1 UNION "
      "SELECT gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = ?1",
  [Q_USER_GROUPS] = "SELECT g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id WHERE ug.user_id = ?1 ORDER BY g.name",
  [Q_GROUP_ENSURE] = "INSERT OR IGNORE INTO grp(name) VALUES(?1)",
  [Q_GROUP_ID] = "SELECT id FROM grp WHERE name = ?1",
  [Q_GRANT_USER] = "INSERT OR IGNORE INTO user_perm(user_id, name) VALUES(?1, ?2)",
  [Q_GRANT_GROUP] = "INSERT OR IGNORE INTO grp_perm(grp_id, name) VALUES(?1, ?2)",
  [Q_REVOKE_USER] = "DELETE FROM user_perm WHERE user_id = ?1 AND name = ?2",
  [Q_REVOKE_GROUP] = "DELETE FROM grp_perm WHERE grp_id = ?1 AND name = ?2",
  [Q_JOIN] = "INSERT OR IGNORE INTO user_grp(user_id, grp_id) VALUES(?1, ?2)",
  [Q_LEAVE] = "DELETE FROM user_grp WHERE user_id = ?1 AND grp_id = ?2",
  [Q_USERS_WITH_PERM] =
      "SELECT username FROM user WHERE is_admin = 1 OR id IN ("
      " SELECT user_id FROM user_perm WHERE name = ?1 UNION"
      " SELECT ug.user_id FROM user_grp ug JOIN grp_perm gp ON gp.grp_id = ug.grp_id WHERE gp.name = ?1)"
      " ORDER BY username",
  [Q_SESSION_ADD] = "INSERT INTO session(id_hash, user_id, csrf_token, created_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5)",
  [Q_SESSION_GET] = "SELECT user_id, csrf_token, expires_at FROM session WHERE id_hash = ?1 AND expires_at > ?2",
  [Q_SESSION_DEL] = "DELETE FROM session WHERE id_hash = ?1",
  [Q_TOKEN_ADD] = "INSERT INTO api_token(token_hash, user_id, name, created_at) VALUES(?1, ?2, ?3, ?4)",
  [Q_TOKEN_GET] = "SELECT user_id FROM api_token WHERE token_hash = ?1",
  [Q_TOKEN_USED] = "UPDATE api_token SET last_used_at = ?2 WHERE token_hash = ?1"
                   " AND (last_used_at IS NULL OR last_used_at < ?2)",
  [Q_USER_ACTIVE] = "UPDATE user SET is_active = ?2 WHERE username = ?1",
  [Q_SESSION_DEL_USER] = "DELETE FROM session WHERE user_id = ?1",
  [Q_TOKEN_DEL_USER] = "DELETE FROM api_token WHERE user_id = ?1",
  [Q_TOKEN_LIST] = "SELECT id, name, created_at, last_used_at FROM api_token WHERE user_id = ?1 ORDER BY id",
  [Q_TOKEN_FIND] =
      "SELECT t.id, u.username FROM api_token t JOIN user u ON u.id = t.user_id"
      " WHERE t.id = ?1 OR t.token_hash = ?2",
  [Q_TOKEN_DEL] = "DELETE FROM api_token WHERE id = ?1",
  [Q_SESSION_PURGE] = "DELETE FROM session WHERE expires_at <= ?1",
  /* sign-in throttling: failures per (name, address) row; a name's and an
   * address's totals are sums over the rows still inside the window (?3) */
  [Q_LOGIN_PAIR] = "SELECT failures, last_at FROM login_failure WHERE name = ?1 AND addr = ?2 AND last_at >= ?3",
  [Q_LOGIN_NAME] = "SELECT coalesce(sum(failures), 0) FROM login_failure WHERE name = ?1 AND last_at >= ?2",
  [Q_LOGIN_ADDR] =
      "SELECT coalesce(sum(failures), 0), coalesce(max(last_at), '') FROM login_failure"
      " WHERE addr = ?1 AND last_at >= ?2",
  [Q_LOGIN_FAIL] =
      "INSERT INTO login_failure(name, addr, failures, last_at) VALUES(?1, ?2, 1, ?3)"
      " ON CONFLICT(name, addr) DO UPDATE SET"
      " failures = CASE WHEN last_at < ?4 THEN 1 ELSE failures + 1 END, last_at = ?3",
  [Q_LOGIN_FORGET] = "DELETE FROM login_failure WHERE name = ?1 AND addr = ?2",
  [Q_LOGIN_PURGE] = "DELETE FROM login_failure WHERE last_at < ?1",
  [Q_HEALTH_PROBE] = "INSERT INTO health_probe(id, at) VALUES(1, ?1) ON CONFLICT(id) DO UPDATE SET at = ?1",
  /* the flow's current version named here: every insert of a process
   * names it (the trigger that stamped it after the insert, updating the
   * row and its index entry again, is gone since schema 15) */
#define CURRENT_VERSION(flow) "(SELECT hash FROM flow_version WHERE flow = " flow " AND is_current)"
  [Q_PROC_INSERT] = "INSERT INTO process(flow, status, data, created_by, created_at, flow_version)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, " CURRENT_VERSION("?1") ")",
  [Q_PROC_GET] = PROC_ROW("user") "WHERE p.id = ?1",
  /* a list page's processes whose summaries are not cached, in one statement (?1: a JSON array of ids) */
  [Q_PROC_GET_MANY] = PROC_ROW("user") "WHERE p.id IN (SELECT value FROM json_each(?1))",
  [Q_PROC_UPDATE] = "UPDATE process SET status = ?2, data = ?3, finished_at = ?4, version = version + 1 WHERE id = ?1",
  [Q_PROC_INSERT_ROW] = PROC_INSERT,
  [Q_PROC_INSERT_TOP] = PROC_INSERT,   /* a process that is nobody's child (PostgreSQL: sent ahead) */
  /* the short write of an action: only if nobody wrote the process since it was read */
  [Q_PROC_UPDATE_CHECKED] =
      "UPDATE process SET status = ?2, data = ?3, finished_at = ?4, version = version + 1"
      " WHERE id = ?1 AND version = ?5",
  [Q_TASK_PROCESS] = "SELECT process_id FROM task WHERE id = ?1",
  [Q_MAX_TASK] = "SELECT coalesce(max(id), 0) FROM task",
  [Q_MAX_PROCESS] = "SELECT coalesce(max(id), 0) FROM process",
  [Q_TASK_IDS_MORE] = "SELECT ?1",   /* PostgreSQL's larger blocks of task ids; never run here */
  /* The process list, one statement per shape (store_process_list), each
   * walking an index in id order and stopping at the page's end, so that a
   * page costs the same at 10,000 processes as at 1,000,000.  The one
   * statement with every filter a condition that was there before scanned
   * the table for any status (155 ms at 1,000,000 for a status nobody had)
   * and built the user's whole set of processes taken part in for each
   * page (15 ms for bob's 100,000).  ?1 flow, ?2 status, ?3 before this
   * id, ?4 limit, ?5 the user who may see (none: all), ?6 the flows that
   * user manages (JSON array), ?7 parent. */
#define PROC_LIST_FROM(index) PROC_LIST_COLS " FROM process p " index " LEFT JOIN user u ON u.id = p.created_by "
#define PROC_BEFORE(a) a "id < coalesce(?3, 9223372036854775807)"
#define PROC_PAGE " ORDER BY p.id DESC LIMIT ?4"
  /* a page of ids (w.id), then its rows by key: the ids first, whatever
   * the statistics say (as "p.id IN (ids)" the table was scanned for them
   * at 100,000 processes, 33 ms) */
#define PROC_OF_IDS(ids) \
  PROC_LIST_COLS " FROM (" ids ") w CROSS JOIN process p ON p.id = w.id LEFT JOIN user u ON u.id = p.created_by" PROC_PAGE
  /* The newest ?4 ids of each flow in `flows` (a FROM item naming its flow
   * f.flow) before ?3, read from `index`, whose entries of one flow (and
   * status) are in id order: the ?4th one found first as a bound.
   * status(a): the condition on the status, or none. */
#define BY_STATUS(a) a "status = ?2 AND "
#define ANY_STATUS(a) ""
#define PROC_PER_FLOW(flows, index, status)                                                                   \
  "SELECT q.id FROM " flows " CROSS JOIN process q INDEXED BY " index " ON " status("q.") "q.flow = f.flow WHERE "     \
  PROC_BEFORE("q.") " AND q.id >= coalesce((SELECT q2.id FROM process q2 INDEXED BY " index " WHERE " status("q2.") \
  "q2.flow = f.flow AND " PROC_BEFORE("q2.") " ORDER BY q2.id DESC LIMIT 1 OFFSET ?4 - 1), 0)"
  [Q_PROC_LIST] = PROC_LIST_FROM("") "WHERE " PROC_BEFORE("p.") PROC_PAGE,
  [Q_PROC_LIST_FLOW] = PROC_LIST_FROM("INDEXED BY process_flow") "WHERE p.flow = ?1 AND " PROC_BEFORE("p.") PROC_PAGE,
  [Q_PROC_LIST_FLOW_STATUS] =
      PROC_LIST_FROM("INDEXED BY process_status") "WHERE p.status = ?2 AND p.flow = ?1 AND " PROC_BEFORE("p.") PROC_PAGE,
  /* one status of every flow: the flows that have processes in it, each
   * found with one descent of process_status (the next flow after the
   * last), and each one's newest of them.  The LIMIT (far above any number
   * of flows) tells the planner the flows are few: taking them for many,
   * it built a Bloom filter of the status's every entry first (31 ms at
   * 100,000 processes, 3.3 at 10,000). */
  [Q_PROC_LIST_STATUS] =
      "WITH RECURSIVE fl(flow) AS (SELECT (SELECT min(flow) FROM process INDEXED BY process_status WHERE status = ?2)"
      " UNION ALL SELECT (SELECT min(g.flow) FROM process g INDEXED BY process_status WHERE g.status = ?2"
      " AND g.flow > fl.flow) FROM fl WHERE fl.flow IS NOT NULL) "
      PROC_OF_IDS(PROC_PER_FLOW("(SELECT flow FROM fl WHERE flow IS NOT NULL LIMIT 10000) f", "process_status", BY_STATUS)),
  /* What a user who is not an admin sees: the processes taken part in,
   * newest first from participant_user (flow and status checked on the
   * way: a user with many processes looking for a rare status reads them
   * all, never the table), and each managed flow's newest.  A flow the
   * user manages, asked for by name, is read as an admin would
   * (store_process_list). */
#define PROC_TAKEN_PART                                                                                            \
  "SELECT x.process_id FROM participant x INDEXED BY participant_user CROSS JOIN process q ON q.id = x.process_id"  \
  " WHERE x.user_id = ?5 AND " PROC_BEFORE("x.process_") " AND (?1 IS NULL OR q.flow = ?1)"                        \
  " AND (?2 IS NULL OR q.status = ?2) ORDER BY x.process_id DESC LIMIT ?4"
#define PROC_MANAGED "(SELECT value AS flow FROM json_each(coalesce(?6, '[]')) WHERE ?1 IS NULL OR value = ?1) f"
  /* (UNION: a process taken part in may be of a managed flow too) */
#define PROC_USER_PAGE \
  PROC_OF_IDS("SELECT process_id AS id FROM (" PROC_TAKEN_PART ") UNION " PROC_PER_FLOW(PROC_MANAGED, "process_flow", ANY_STATUS))
  [Q_PROC_LIST_USER] = PROC_USER_PAGE,
  /* (the same here; PostgreSQL prepares a user's page of one flow apart
   * from Q_PROC_LIST_USER's, which leaves the flow out) */
  [Q_PROC_LIST_USER_FLOW] = PROC_USER_PAGE,
  [Q_PROC_LIST_USER_STATUS] = PROC_OF_IDS("SELECT process_id AS id FROM (" PROC_TAKEN_PART ") UNION "
                                          PROC_PER_FLOW(PROC_MANAGED, "process_status", BY_STATUS)),
  /* (of a user who manages no flow: the processes taken part in alone;
   * PostgreSQL prepares it) */
  [Q_PROC_LIST_OWN_STATUS] = PROC_OF_IDS("SELECT process_id AS id FROM (" PROC_TAKEN_PART ")"),
  /* Filtered, either read is long when the other is short: the user's
   * processes to find a status none of them has (248 ms for bob's 100,000
   * at 1,000,000 processes), or a status's processes to find the user's
   * few.  So the flow's or status's processes are counted first, up to
   * PROC_FEW: when there are fewer, they are read, each checked for the
   * user (store_process_list), else the user's own.  A flow is counted
   * first, then a status. */
#define PROC_COUNT(index, cond) \
  "SELECT count(*) FROM (SELECT 1 FROM process INDEXED BY " index " WHERE " cond " LIMIT " SQ_STR(PROC_FEW) ")"
  [Q_PROC_COUNT_FLOW] = PROC_COUNT("process_flow", "flow = ?1"),
  [Q_PROC_COUNT_STATUS] = PROC_COUNT("process_status", "status = ?2"),
#define PROC_VISIBLE                                                                                         \
  " AND (EXISTS (SELECT 1 FROM participant x WHERE x.process_id = p.id AND x.user_id = ?5)"                    \
  " OR p.flow IN (SELECT value FROM json_each(coalesce(?6, '[]'))))"
  [Q_PROC_LIST_FEW_FLOW] = PROC_LIST_FROM("INDEXED BY process_flow") "WHERE p.flow = ?1 AND (?2 IS NULL OR p.status = ?2)"
      " AND " PROC_BEFORE("p.") PROC_VISIBLE PROC_PAGE,
  [Q_PROC_LIST_FEW_STATUS] = PROC_LIST_FROM("INDEXED BY process_status") "WHERE p.status = ?2 AND (?1 IS NULL OR p.flow = ?1)"
      " AND " PROC_BEFORE("p.") PROC_VISIBLE PROC_PAGE,
  /* a process's children: as many as it started, whatever else is asked */
  [Q_PROC_LIST_PARENT] =
      PROC_LIST_FROM("INDEXED BY process_parent") "WHERE p.parent_id = ?7 AND " PROC_BEFORE("p.")
      " AND (?1 IS NULL OR p.flow = ?1) AND (?2 IS NULL OR p.status = ?2)"
      " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM participant x WHERE x.process_id = p.id AND x.user_id = ?5)"
      " OR p.flow IN (SELECT value FROM json_each(coalesce(?6, '[]'))))" PROC_PAGE,
  [Q_VERSION_LISTS] = VERSION_LISTS("json_each(?1)"),
  [Q_VERSION_OLDER] = VERSION_OLDER("json_each(?1) AS f"),
  [Q_PROC_INVOLVES] = "SELECT EXISTS (SELECT 1 FROM participant WHERE process_id = ?1 AND user_id = ?2)",
  [Q_PARTICIPANT_ADD] = "INSERT OR IGNORE INTO participant(process_id, user_id) VALUES(?1, ?2)",
  [Q_TASK_INSERT] = TASK_INSERT_INTO " VALUES" TASK_ROW,
  /* two to four rows of Q_TASK_INSERT's 23 values in one statement (with
   * their ids): the table's and its indexes' cursors open once per write,
   * not once per task */
  [Q_TASK_INSERT_2] = TASK_INSERT_INTO " VALUES" TASK_ROW ", " TASK_ROW,
  [Q_TASK_INSERT_3] = TASK_INSERT_INTO " VALUES" TASK_ROW ", " TASK_ROW ", " TASK_ROW,
  [Q_TASK_INSERT_4] = TASK_INSERT_INTO " VALUES" TASK_ROW ", " TASK_ROW ", " TASK_ROW ", " TASK_ROW,
  [Q_TASK_GET] = "SELECT " TASK_COLS TASK_FROM "WHERE t.id = ?1",
  [Q_TASK_UPDATE] =
      "UPDATE task SET flow_task = ?2, status = ?3, owner_id = ?4, data = ?5, error_message = ?6,"
      " error_traceback = ?7, assigned_at = ?8, started_at = ?9, finished_at = ?10, due_at = ?11,"
      " lease_until = ?12, attempts = ?13, lease_owner = CASE WHEN ?12 IS NULL THEN NULL ELSE lease_owner END,"
      " child_id = ?14, event_name = ?15, event_key = ?16 WHERE id = ?1",
  /* a finished child wakes its Subprocess task (a job then continues the
   * parent), and raises the parent's version so that a write of the
   * parent read before this one starts over */
  [Q_TASK_WAKE] =
      "UPDATE task SET status = 'SCHEDULED', due_at = ?2, lease_until = NULL, lease_owner = NULL"
      " WHERE id = ?1 AND status = 'STARTED'",
  [Q_PROC_BUMP] = "UPDATE process SET version = version + 1 WHERE id = (SELECT process_id FROM task WHERE id = ?1)",
  [Q_PROC_CHILDREN] =
      "SELECT id, flow, status, coalesce(parent_task_id, 0) FROM process WHERE parent_id = ?1 ORDER BY id",
  [Q_PROC_ORPHAN] =
      "SELECT p.id FROM process p JOIN task t ON t.id = p.parent_task_id WHERE p.id > ?1"
      " AND p.status IN ('NEW','STARTED') AND t.status NOT IN ('STARTED','SCHEDULED') ORDER BY p.id LIMIT 1",
  [Q_TASK_PREV_ADD] = "INSERT OR IGNORE INTO task_previous(task_id, previous_id) VALUES(?1, ?2)",
  /* two to four links bound as parameters (add_links): a JSON array
   * through json_each costs three times as much for a process's few links */
  [Q_TASK_PREV_ADD_2] = "INSERT OR IGNORE INTO task_previous(task_id, previous_id) VALUES(?1, ?2), (?3, ?4)",
  [Q_TASK_PREV_ADD_3] =
      "INSERT OR IGNORE INTO task_previous(task_id, previous_id) VALUES(?1, ?2), (?3, ?4), (?5, ?6)",
  [Q_TASK_PREV_ADD_4] =
      "INSERT OR IGNORE INTO task_previous(task_id, previous_id) VALUES(?1, ?2), (?3, ?4), (?5, ?6), (?7, ?8)",
  [Q_TASK_PREV_ADD_MANY] =
      "INSERT OR IGNORE INTO task_previous(task_id, previous_id)"
      " SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
  /* links stay inside a process: its tasks (task_process) whose own
   * prev_id or task_previous row (by its key) names the task (migration 13) */
  [Q_TASK_NEXT_STATUS] =
      "SELECT t.status FROM task p JOIN task t ON t.process_id = p.process_id WHERE p.id = ?1 AND (t.prev_id = p.id"
      " OR EXISTS (SELECT 1 FROM task_previous tp WHERE tp.task_id = t.id AND tp.previous_id = p.id))",
  [Q_TASK_ACTIVE] = "SELECT count(*) FROM task WHERE process_id = ?1 AND id <> ?2 AND status IN " ACTIVE,
  [Q_TASK_ACTIVE_PREFIX] =
      "SELECT count(*) FROM task WHERE process_id = ?1 AND id <> ?3 AND status IN " ACTIVE
      " AND token GLOB ?2 || '*'",
  [Q_TASK_FIND_JOIN] =
      "SELECT id, status = 'STARTED' FROM task WHERE process_id = ?1 AND flow_task = ?2 AND join_of = ?3"
      " ORDER BY id DESC LIMIT 1",
  [Q_TASK_WAITING_JOINS] =
      "SELECT id FROM task WHERE process_id = ?1 AND status = 'STARTED' AND join_of IS NOT NULL ORDER BY id",
  [Q_TASK_LATEST_OWNER] =
      "SELECT coalesce(owner_id, 0) FROM task WHERE process_id = ?1 AND flow_task = ?2 AND status = 'DONE'"
      " ORDER BY finished_at DESC, id DESC LIMIT 1",
  [Q_TASK_DONE_TYPE] =
      "SELECT count(*) FROM task WHERE process_id = ?1 AND flow_task_type = ?2 AND status = 'DONE'",
  [Q_TASK_OF_PROCESS] = "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = ?1 ORDER BY t.id",
  /* an action's tasks: the open ones but the instances of a running
   * group, then, if it needs them, those instances, one of them, or the
   * ended tasks (engine_state.c); ranges of task_process, whose group_id
   * tells an instance without reading its row */
  [Q_TASK_LIVE_OF_PROCESS] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = ?1 AND t.status IN " ACTIVE NOT_LEFT_OUT("?1", "0")
      " ORDER BY t.id",
  [Q_TASK_ENDED_OF_PROCESS] = "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = ?1 AND t.status IN " ENDED " ORDER BY t.id",
  [Q_TASK_OPEN_MEMBERS] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = ?1 AND t.status IN " ACTIVE " AND t.group_id IS NOT NULL"
      " ORDER BY t.id",
  [Q_TASK_OPEN_MEMBER] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.id = ?2 AND t.process_id = ?1 AND t.status IN " ACTIVE
      " AND t.group_id IS NOT NULL",
  /* two counts of index entries: a sum over the status read each one's
   * status, twice the time (0.77 ms against 0.37 for 10,000) */
  [Q_TASK_GROUP_COUNT] =
      "SELECT (SELECT count(*) FROM task WHERE process_id = ?1 AND status IN " ACTIVE " AND group_id = ?2),"
      " (SELECT count(*) FROM task WHERE process_id = ?1 AND status = 'DONE' AND group_id = ?2)",
  /* One statement per view and order, so that SQLite can walk an index in
   * id order and stop at LIMIT instead of sorting every matching row. */
#define VIEW_INBOX "t.owner_id = ?2 AND t.status = 'ASSIGNED'"
/* Nodes found by a loose index scan (USER_QUEUED_NODES, FLOW_NODES): a subquery of their own ("LIMIT -1", no limit)
 * that the planner expects to be few (likelihood).  Joined, or expected to
 * be as many as tasks, the statistics of 600 or 10,000 processes made
 * SQLite build a Bloom filter of the whole range (every queued task, the
 * user's inbox or archive) before reading a node's: 4-6 ms for a page of
 * 0.13-0.3. */
#define FEW_NODES(cond) "likelihood(" cond ", 0.001) LIMIT -1"
  /* (the user's nodes that hold queued tasks: store_internal.h) */
#define USER_QUEUED_NODES USER_QUEUED_NODES_OF(" INDEXED BY task_status", "instr(?3, ", FEW_NODES)
  /* TASK_UNFINISHED: task_status holds unfinished tasks only */
#define VIEW_QUEUE TASK_QUEUED("t.") " AND t.flow_task IN (SELECT value FROM " USER_QUEUED_NODES ")"
#define VIEW_ARCHIVE "t.owner_id = ?2 AND t.status IN ('DONE','CANCELED')"
  /* a manager's tasks: the flow is the task name's part before its dot
   * (flow names have none), so no process is read; the process ids of
   * the managed flows were a list built for every page (1,000,000 of
   * them for a manager of helloworld at 1M processes) */
#define VIEW_ALL_ON(a) \
  "(?4 IS NULL OR substr(" a "flow_task, 1, instr(" a "flow_task, '.') - 1) IN (SELECT value FROM json_each(?4)))"
#define VIEW_ALL VIEW_ALL_ON("t.")
  /* the caller's name and each row's user (store_internal.h's OWNER_, JOINS_) */
#define OWNER_INBOX "?1"
#define USER_JOIN "LEFT JOIN user u ON u.id = t.owner_id "
#define LIST_FILTERS_ON(a)                                                              \
  " AND (?5 IS NULL OR substr(" a "flow_task, 1, length(?5) + 1) = ?5 || '.')"         \
  " AND (?6 IS NULL OR " a "process_id = ?6) AND (?7 IS NULL OR " a "status = ?7)"    \
  " AND (?8 IS NULL OR " a "created_at >= ?8) AND (?9 IS NULL OR " a "created_at < ?9)" \
  " AND (?12 IS NULL OR " a "finished_at >= ?12) AND (?13 IS NULL OR " a "finished_at < ?13)"
#define LIST_FILTERS LIST_FILTERS_ON("t.")
  /* A list row carries its process's status and version (LIST_PROC), so
   * that a page does not read each row's process apart. */
#define LIST_PROC ", p.status, p.version "
  /* A row's first link comes with it (t.prev_id); list_previous looks up
   * the others for the rows that can have them. */
#define LIST_COLS(v) TASK_COLS_ID OWNER_##v ", " TASK_COLS_REST "t.prev_id, " TASK_COLS_TAIL LIST_PROC
  /* v: INBOX, QUEUE, ARCHIVE or ALL (VIEW_v, OWNER_v, JOINS_v) */
#define LIST_HEAD(from, v) "SELECT " LIST_COLS(v) from JOINS_##v "WHERE " LIST_CONDS VIEW_##v LIST_FILTERS
  /* The page key as a range of the index a page reads: "a.id < ?10"
   * (cmp ">": oldest first, after it), no bound while ?10 is NULL (the
   * first page).  Said as "?10 IS NULL OR a.id < ?10", no index range
   * took it, and a page after another walked from the start of its range
   * to the key: bob's inbox after the 600,000th task 8 ms, his queue 109
   * ms, at 1,000,000 processes. */
#define KEY_AFTER(a, cmp) " AND " a "id " cmp " coalesce(?10, ('" cmp "' = '<') * 9223372036854775807)"
#define LIST_AT(from, v, cmp, order) \
  LIST_HEAD(from, v) KEY_AFTER("t.", cmp) " ORDER BY t.id " order " LIMIT ?11"
#define LIST(v, cmp, order) LIST_AT(" FROM task t ", v, cmp, order)
  [Q_LIST_INBOX] = LIST(INBOX, "<", "DESC"),
  [Q_LIST_INBOX_ASC] = LIST(INBOX, ">", "ASC"),
  /* the queue in id order with data.* filters walks the queued tasks
   * (task_queue), whatever the statistics say (the others go node by node) */
#define QUEUE_FROM " FROM task t INDEXED BY task_queue "
  [Q_LIST_QUEUE] = LIST_AT(QUEUE_FROM, QUEUE, "<", "DESC"),
  [Q_LIST_QUEUE_ASC] = LIST_AT(QUEUE_FROM, QUEUE, ">", "ASC"),
  /* ... and node by node: the newest (oldest) ?11 queued tasks of each of
   * the user's nodes that hold queued tasks, that pass the filters, each read in id order from
   * task_status (whose entries of one status, node and owner are in rowid
   * order), merged.
   * The walk above reads every queued task of other nodes on its way: a
   * user who may take a rare node's tasks read all 300,000 queued tasks of
   * another one for a page (37-48 ms); node by node it is 0.1 ms, and 0.11
   * against 0.05 for a user whose nodes fill the page at once. */
#define QUEUE_NODES(cmp, order, within, none, filters)                                                           \
  "SELECT " LIST_COLS(QUEUE) " FROM task t " JOINS_QUEUE "WHERE t.id IN (SELECT q.id FROM " USER_QUEUED_NODES \
  " CROSS JOIN task q INDEXED BY task_status ON " TASK_QUEUED("q.") " AND q.flow_task = n.value"               \
  " WHERE TRUE" KEY_AFTER("q.", cmp) filters("q.") " AND q.id " within " coalesce((SELECT q2.id"                  \
  " FROM task q2 INDEXED BY task_status WHERE " TASK_QUEUED("q2.") " AND q2.flow_task = n.value" KEY_AFTER("q2.", \
  cmp) filters("q2.") " ORDER BY q2.id " order " LIMIT 1 OFFSET ?11 - 1), " none "))"                              \
  " ORDER BY t.id " order " LIMIT ?11"
#define NO_FILTERS(a) ""
  [Q_LIST_QUEUE_NODES] = QUEUE_NODES("<", "DESC", ">=", "0", NO_FILTERS),
  [Q_LIST_QUEUE_NODES_ASC] = QUEUE_NODES(">", "ASC", "<=", "9223372036854775807", NO_FILTERS),
  /* (the filters' terms cost bob's unfiltered page a sixth: apart) */
  [Q_LIST_QUEUE_NODES_FILTERED] = QUEUE_NODES("<", "DESC", ">=", "0", LIST_FILTERS_ON),
  [Q_LIST_QUEUE_NODES_FILTERED_ASC] = QUEUE_NODES(">", "ASC", "<=", "9223372036854775807", LIST_FILTERS_ON),
  /* ... and when the user's queued tasks are all of one node (?14; none:
   * NULL), that node's range of task_status alone, with no list of nodes
   * to merge: bob's queue in bench/ (one of his 101 nodes holds queued
   * tasks) cost 0.54 million instructions node by node */
  [Q_QUEUED_NODES_TWO] = "SELECT n.value FROM " USER_QUEUED_NODES " LIMIT 2",
#define QUEUE_ONE(cmp, order, filters)                                                                       \
  "SELECT " LIST_COLS(QUEUE) " FROM task t INDEXED BY task_status " JOINS_QUEUE "WHERE " TASK_QUEUED("t.") \
  " AND t.flow_task = ?14" KEY_AFTER("t.", cmp) filters("t.") " ORDER BY t.id " order " LIMIT ?11"
  [Q_LIST_QUEUE_ONE] = QUEUE_ONE("<", "DESC", NO_FILTERS),
  [Q_LIST_QUEUE_ONE_ASC] = QUEUE_ONE(">", "ASC", NO_FILTERS),
  [Q_LIST_QUEUE_ONE_FILTERED] = QUEUE_ONE("<", "DESC", LIST_FILTERS_ON),
  [Q_LIST_QUEUE_ONE_FILTERED_ASC] = QUEUE_ONE(">", "ASC", LIST_FILTERS_ON),
  /* The inbox of one flow (?5), node by node as the queue: the flow's
   * nodes that hold assigned tasks (a loose index scan of task_status
   * within the flow's names, "flow." to "flow/"), then in each the user's
   * range of task_status, which is in id order, its newest (oldest)
   * tasks after ?10 up to the page's size, merged.  The walk of the
   * user's inbox read each task's row to test its flow: bob's 100,000
   * inbox tasks for a flow holding none of them, 304 ms. */
#define ASSIGNED_IN(a) a "status = 'ASSIGNED' AND " TASK_UNFINISHED(a)
#define ASSIGNED_AND(a) ASSIGNED_IN(a) " AND "
/* The nodes of a flow (?5) that hold entries of index idx where in(a)
 * holds (said with its " AND "): a loose scan within the flow's names,
 * "flow." to "flow/" */
#define FLOW_NODES(idx, in)                                                                                          \
  "(WITH RECURSIVE f(node) AS (SELECT (SELECT min(a.flow_task) FROM task a INDEXED BY " idx " WHERE " in("a.")     \
  "a.flow_task > ?5 || '.' AND a.flow_task < ?5 || '/') UNION ALL SELECT (SELECT min(a.flow_task) FROM task a"      \
  " INDEXED BY " idx " WHERE " in("a.") "a.flow_task > f.node AND a.flow_task < ?5 || '/') FROM f WHERE f.node IS" \
  " NOT NULL) SELECT node FROM f WHERE " FEW_NODES("node IS NOT NULL") ")"
/* (no column outside task_status in a condition, so the ranges are read
 * from the index alone: store.c takes this statement only without other
 * filters but the status, which is a value) */
#define INBOX_FLOW_RANGE(a, cmp) \
  ASSIGNED_IN(a) " AND " a "flow_task = n.node AND " a "owner_id = ?2" KEY_AFTER(a, cmp)
/* A page of view v node by node: the nodes (a table n(node)), in each
 * the range of index idx that range(a, cmp) says, its newest (oldest)
 * ?11 after ?10 that pass where, merged. */
#define NODES_PAGE(v, nodes, idx, range, where, cmp, order, within, none)                                        \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE t.id IN (SELECT q.id FROM " nodes " n CROSS JOIN task q" \
  " INDEXED BY " idx " ON " range("q.", cmp) " WHERE " where "q.id " within " coalesce((SELECT q2.id FROM task q2" \
  " INDEXED BY " idx " WHERE " range("q2.", cmp) " ORDER BY q2.id " order " LIMIT 1 OFFSET ?11 - 1), " none "))"  \
  " ORDER BY t.id " order " LIMIT ?11"
#define INBOX_FLOW(cmp, order, within, none)                                                                 \
  NODES_PAGE(INBOX, FLOW_NODES("task_status", ASSIGNED_AND), "task_status", INBOX_FLOW_RANGE, "(?7 IS NULL OR ?7 = 'ASSIGNED') AND ", \
             cmp, order, within, none)
  [Q_LIST_INBOX_FLOW] = INBOX_FLOW("<", "DESC", ">=", "0"),
  [Q_LIST_INBOX_FLOW_ASC] = INBOX_FLOW(">", "ASC", "<=", "9223372036854775807"),
  /* The archive of one flow (?5) the same way, from task_owner_flow
   * (migration 22): the user's nodes of the flow that hold finished tasks
   * (a loose scan of the user's range of it within the flow's names),
   * then each node's range, in id order (its entries of one owner and node
   * are in rowid order), merged.  The walk of the user's archive read each
   * task's row to test its flow. */
#define OWNER_FINISHED_IN(a) OWNED_FINISHED(a) " AND " a "owner_id = ?2 AND "
#define ARCHIVE_FLOW_RANGE(a, cmp) OWNER_FINISHED_IN(a) a "flow_task = n.node" KEY_AFTER(a, cmp)
#define ARCHIVE_FLOW(cmp, order, within, none) \
  NODES_PAGE(ARCHIVE, FLOW_NODES("task_owner_flow", OWNER_FINISHED_IN), "task_owner_flow", ARCHIVE_FLOW_RANGE, "", cmp, order, within, none)
  [Q_LIST_ARCHIVE_FLOW] = ARCHIVE_FLOW("<", "DESC", ">=", "0"),
  [Q_LIST_ARCHIVE_FLOW_ASC] = ARCHIVE_FLOW(">", "ASC", "<=", "9223372036854775807"),
  /* the archive: the user's range of task_owner_id, whatever the
   * statistics say (with them SQLite walked every task by rowid and
   * filtered: a user who had finished nothing read them all, 27 ms at
   * 100,000 processes when others had finished many) */
#define ARCHIVE_FROM " FROM task t INDEXED BY task_owner_id "
  [Q_LIST_ARCHIVE] = LIST_AT(ARCHIVE_FROM, ARCHIVE, "<", "DESC"),
  [Q_LIST_ARCHIVE_ASC] = LIST_AT(ARCHIVE_FROM, ARCHIVE, ">", "ASC"),
  /* (here one statement serves every page: store_task_list never picks these) */
  [Q_LIST_INBOX_NEXT] = LIST(INBOX, "<", "DESC"),
  [Q_LIST_INBOX_NEXT_ASC] = LIST(INBOX, ">", "ASC"),
  [Q_LIST_ALL] = LIST(ALL, "<", "DESC"),
  [Q_LIST_ALL_ASC] = LIST(ALL, ">", "ASC"),
  /* The tasks of a rare status (STARTED, SCHEDULED, ERROR, REVIVED,
   * CANCELED: those of task_rare; ERROR's are GET /api/admin/incidents) in id order from
   * that index: the walk of every task looked for them (470 ms at
   * 1,000,000 processes for ERROR, none in it; 700-960 ms for STARTED or
   * SCHEDULED).  The index's condition is repeated word for word, which
   * SQLite needs to take a partial index; ?7 is one of its statuses
   * (store_task_list). */
#define VIEW_RARE TASK_RARE("t.") " AND " VIEW_ALL
#define RARE_FROM " FROM task t INDEXED BY task_rare "
  [Q_LIST_ALL_RARE] = LIST_AT(RARE_FROM, RARE, "<", "DESC"),
  [Q_LIST_ALL_RARE_ASC] = LIST_AT(RARE_FROM, RARE, ">", "ASC"),
  /* All tasks of the flows in ?14 (a JSON array: the flow asked for, or
   * a manager's), which have fewer than ALL_FEW processes between them
   * (Q_PROC_COUNT_FLOWS): their processes' tasks, the page's ids sorted
   * from those, then its rows.  The walk of every task in id order found
   * a manager's 116 tasks among 2,000,000 after reading them all (762 ms
   * for a status none of them had).
   * The processes are a subquery with a LIMIT: joined to the tasks
   * directly, SQLite built a Bloom filter of every task's process id
   * first (770 ms at 1M).  The LIMIT is four times the count's: more
   * than that many processes of those flows started between the count
   * and the read would leave some out. */
#define ALL_FEW_IDS(cmp, order)                                                                              \
  "SELECT t2.id FROM (SELECT p.id FROM json_each(?14) f CROSS JOIN process p INDEXED BY process_flow"         \
  " ON p.flow = f.value LIMIT " SQ_STR(ALL_FEW_READ) ") p2"                                                    \
  " CROSS JOIN task t2 INDEXED BY task_process ON t2.process_id = p2.id WHERE " VIEW_ALL_ON("t2.")          \
  LIST_FILTERS_ON("t2.") " AND (?10 IS NULL OR t2.id " cmp " ?10) ORDER BY t2.id " order " LIMIT ?11"
  /* (a page whose ids a subquery picks, sorted there, then its rows) */
#define IDS_PAGE(v, ids, order) \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE t.id IN (" ids ") ORDER BY t.id " order " LIMIT ?11"
#define ALL_FEW_LIST(cmp, order) IDS_PAGE(ALL, ALL_FEW_IDS(cmp, order), order)
  [Q_LIST_ALL_FEW] = ALL_FEW_LIST("<", "DESC"),
  [Q_LIST_ALL_FEW_ASC] = ALL_FEW_LIST(">", "ASC"),
  [Q_PROC_COUNT_FLOWS] = "SELECT count(*), (SELECT max(id) FROM task) FROM (SELECT 1 FROM json_each(?1) f"
                         " CROSS JOIN process p INDEXED BY process_flow ON p.flow = f.value LIMIT " SQ_STR(ALL_FEW) ")",
  /* All tasks of an unfinished status (NEW, ASSIGNED: the others are
   * task_rare's) that few tasks have (status_is_few), maybe of some flows
   * (?5, ?4): task_status's range of the status (TASK_UNFINISHED: its
   * condition), whose entries carry each task's name (so no task row is
   * read to test the flow), the page's ids sorted from it, then its rows.
   * The walk in id order passed every task of another status: 500-700 ms
   * for no ASSIGNED task among 2,000,000 mostly DONE. */
#define STATUS_IDS(cmp, order)                                                                              \
  "SELECT t2.id FROM task t2 INDEXED BY task_status WHERE t2.status = ?7 AND " TASK_UNFINISHED("t2.") " AND " \
  VIEW_ALL_ON("t2.")                                                                                         \
  " AND (?5 IS NULL OR substr(t2.flow_task, 1, length(?5) + 1) = ?5 || '.')" KEY_AFTER("t2.", cmp)         \
  " ORDER BY t2.id " order " LIMIT ?11"
#define STATUS_LIST(cmp, order) IDS_PAGE(ALL, STATUS_IDS(cmp, order), order)
  [Q_LIST_ALL_STATUS] = STATUS_LIST("<", "DESC"),
  [Q_LIST_ALL_STATUS_ASC] = STATUS_LIST(">", "ASC"),
  /* ... and of NEW, node by node: the nodes that hold NEW tasks (a loose
   * scan of task_status within the status, each node's name tested for
   * the flows asked for), then in each node the page's newest (oldest)
   * of the tasks held by nobody, whose entries are in rowid order after
   * (NEW, node, NULL), merged; a NEW task someone holds (none should be:
   * assigning makes it ASSIGNED) is read from its node's range of such
   * tasks, all of them.  Sorting every NEW task of task_status took 4-6
   * ms where 6,667 of 2,000,000 tasks were NEW; this reads about two
   * pages of entries per node that holds any. */
#define NEW_NODES                                                                                                   "(WITH RECURSIVE f(node) AS (SELECT (SELECT min(a.flow_task) FROM task a INDEXED BY task_status WHERE"              " a.status = 'NEW' AND " TASK_UNFINISHED("a.") ") UNION ALL SELECT (SELECT min(a.flow_task) FROM task a"            " INDEXED BY task_status WHERE a.status = 'NEW' AND " TASK_UNFINISHED("a.") " AND a.flow_task > f.node) FROM f"     " WHERE f.node IS NOT NULL) SELECT node FROM f WHERE node IS NOT NULL"                                              " AND (?4 IS NULL OR substr(node, 1, instr(node, '.') - 1) IN (SELECT value FROM json_each(?4)))"                 " AND (?5 IS NULL OR substr(node, 1, length(?5) + 1) = ?5 || '.'))"
#define NEW_IN_NODE(a, held) a "status = 'NEW' AND " TASK_UNFINISHED(a) " AND " a "flow_task = n.node AND " a "owner_id " held
#define NEW_NODES_LIST(cmp, order, within, none)                                                                       "SELECT " LIST_COLS(ALL) " FROM task t " JOINS_ALL "WHERE t.id IN (SELECT q.id FROM " NEW_NODES " n CROSS JOIN"    " task q INDEXED BY task_status ON " NEW_IN_NODE("q.", "IS NULL") KEY_AFTER("q.", cmp) " WHERE q.id " within       " coalesce((SELECT q2.id FROM task q2 INDEXED BY task_status WHERE " NEW_IN_NODE("q2.", "IS NULL")                 KEY_AFTER("q2.", cmp) " ORDER BY q2.id " order " LIMIT 1 OFFSET ?11 - 1), " none ") UNION ALL SELECT q.id FROM "    NEW_NODES " n CROSS JOIN task q INDEXED BY task_status ON " NEW_IN_NODE("q.", "IS NOT NULL") KEY_AFTER("q.", cmp)   ") ORDER BY t.id " order " LIMIT ?11"
  [Q_LIST_ALL_NEW_NODES] = NEW_NODES_LIST("<", "DESC", ">=", "0"),
  [Q_LIST_ALL_NEW_NODES_ASC] = NEW_NODES_LIST(">", "ASC", "<=", "9223372036854775807"),
  /* The inbox, the queue and the archive with a date filter (since ?8,
   * until ?9) whose range holds few tasks of people (range_is_few):
   * task_created's range, each task's row read to test the view and the
   * other filters, the page's ids sorted from those, then the page's rows.
   * The walk of the view in id order read it whole where fewer than a page
   * of its tasks were in the range.  The date bounds are a range of the
   * index only as plain comparisons ("?8 IS NULL OR ..." is none), and the
   * index's condition is said word for word, which SQLite needs to take a
   * partial index.  (In the subquery, t is the task of the range.) */
#define CREATED_RANGE(a, since, until)                                                                         \
  a "created_at >= coalesce(" since ", " TIME_FIRST ") AND " a "created_at < coalesce(" until ", " TIME_LAST ") AND " \
  TASK_OF_PEOPLE(a)
  /* (the ids of a page of view v from an index's range, the view and the
   * other filters tested on its rows) */
#define RANGE_IDS(index, range, v, cmp, order)                                                             \
  "SELECT t.id FROM task t INDEXED BY " index " WHERE " range " AND " VIEW_##v LIST_FILTERS KEY_AFTER("t.", cmp) \
  " ORDER BY t.id " order " LIMIT ?11"
#define DATE_LIST(v, cmp, order) IDS_PAGE(v, RANGE_IDS("task_created", CREATED_RANGE("t.", "?8", "?9"), v, cmp, order), order)
  DATE_LIST_ENTRIES,
  /* (the front of the inbox or the archive, FRONT_ROWS of the user's
   * tasks from the page key on, tested for the date range) */
#define FRONT_OF(v, from, view, cmp, order, range)                                                                \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE t.id IN (SELECT f.id FROM (SELECT f.id, f.created_at,"    \
  " f.finished_at FROM " from " WHERE " view KEY_AFTER("f.", cmp) " ORDER BY f.id " order " LIMIT "                 \
  SQ_STR(FRONT_ROWS) ") f WHERE " range " ORDER BY f.id " order " LIMIT ?11) ORDER BY t.id " order " LIMIT ?11"
#define FRONT_CREATED "(?8 IS NULL OR f.created_at >= ?8) AND (?9 IS NULL OR f.created_at < ?9)"
#define FRONT_FINISHED "(?12 IS NULL OR f.finished_at >= ?12) AND (?13 IS NULL OR f.finished_at < ?13)"
#define FRONT(v, view, cmp, order) FRONT_OF(v, "task f", view, cmp, order, FRONT_CREATED)
#define FRONT_INBOX "f.owner_id = ?2 AND f.status = 'ASSIGNED'"
#define FRONT_ARCHIVE "f.owner_id = ?2 AND f.status IN ('DONE','CANCELED')"
  [Q_LIST_INBOX_FRONT] = FRONT(INBOX, FRONT_INBOX, "<", "DESC"),
  [Q_LIST_INBOX_FRONT_ASC] = FRONT(INBOX, FRONT_INBOX, ">", "ASC"),
  [Q_LIST_ARCHIVE_FRONT] = FRONT(ARCHIVE, FRONT_ARCHIVE, "<", "DESC"),
  [Q_LIST_ARCHIVE_FRONT_ASC] = FRONT(ARCHIVE, FRONT_ARCHIVE, ">", "ASC"),
  [Q_LIST_ARCHIVE_FRONT_FIN] = FRONT_OF(ARCHIVE, "task f", FRONT_ARCHIVE, "<", "DESC", FRONT_FINISHED),
  [Q_LIST_ARCHIVE_FRONT_FIN_ASC] = FRONT_OF(ARCHIVE, "task f", FRONT_ARCHIVE, ">", "ASC", FRONT_FINISHED),
  /* the queue's front when one node (?14) holds it (Q_LIST_QUEUE_ONE);
   * with more, the range */
#define FRONT_QUEUE TASK_QUEUED("f.") " AND f.flow_task = ?14"
  [Q_LIST_QUEUE_FRONT] = FRONT_OF(QUEUE, "task f INDEXED BY task_status", FRONT_QUEUE, "<", "DESC", FRONT_CREATED),
  [Q_LIST_QUEUE_FRONT_ASC] = FRONT_OF(QUEUE, "task f INDEXED BY task_status", FRONT_QUEUE, ">", "ASC", FRONT_CREATED),
  /* (the range's tasks up to CREATED_FEW, from the index alone) */
#define COUNT_CREATED(cap) \
  "SELECT count(*) FROM (SELECT 1 FROM task INDEXED BY task_created WHERE " CREATED_RANGE("", "?1", "?2") " LIMIT " cap ")"
  [Q_TASK_COUNT_CREATED] = COUNT_CREATED(SQ_STR(CREATED_FEW)),
  [Q_TASK_PAGE_CREATED] = COUNT_CREATED(SQ_STR(STORE_PAGE_ROWS)),
  /* The archive in id order with finished_since (?12) or finished_until
   * (?13) whose range holds few of the user's finished tasks
   * (range_is_few): the user's range of task_owner_finished, the other
   * filters tested on its rows, the page's ids sorted, then their rows.
   * The walk of the archive in id order read it whole for a week that
   * held fewer than a page of it. */
#define FINISHED_RANGE(a, user, since, until)                                                                  \
  a "owner_id = " user " AND " a "status IN ('DONE','CANCELED') AND " a "finished_at >= coalesce(" since ", "     \
  TIME_FIRST ") AND " a "finished_at < coalesce(" until ", " TIME_LAST ")"
#define FINISHED_LIST(cmp, order)                                                                           \
  IDS_PAGE(ARCHIVE, RANGE_IDS("task_owner_finished", FINISHED_RANGE("t.", "?2", "?12", "?13"), ARCHIVE, cmp, order), \
           order)
  [Q_LIST_ARCHIVE_FINISHED] = FINISHED_LIST("<", "DESC"),
  [Q_LIST_ARCHIVE_FINISHED_ASC] = FINISHED_LIST(">", "ASC"),
#define COUNT_FINISHED(cap)                                                                                           \
  "SELECT count(*) FROM (SELECT 1 FROM task INDEXED BY task_owner_finished WHERE " FINISHED_RANGE("", "?1", "?2", "?3") \
  " LIMIT " cap ")"
  [Q_TASK_COUNT_FINISHED] = COUNT_FINISHED(SQ_STR(CREATED_FEW)),
  [Q_TASK_PAGE_FINISHED] = COUNT_FINISHED(SQ_STR(STORE_PAGE_ROWS)),
  /* (the status's tasks up to STATUS_FEW, and the last task id, for the
   * number of tasks: store.c's status_is_few) */
  [Q_TASK_COUNT_STATUS] = "SELECT (SELECT count(*) FROM (SELECT 1 FROM task INDEXED BY task_status WHERE status = ?1"
                          " AND " TASK_UNFINISHED("") " LIMIT " SQ_STR(STATUS_FEW) ")), (SELECT max(id) FROM task)",
  /* By due date, earliest first, tasks without one last; the page key is
   * still the last task's id, whose (due, id) the next page starts after. */
#define DUE_KEY "(coalesce(t.due_at, '~'), t.id)"
#define LIST_DUE(v) \
  LIST_HEAD(" FROM task t ", v) " AND (?10 IS NULL OR " DUE_KEY \
  " > (SELECT coalesce(due_at, '~'), id FROM task WHERE id = ?10)) ORDER BY coalesce(t.due_at, '~'), t.id LIMIT ?11"
  /* ... in two parts, without data.* filters, both from an index by due
   * date (migration 17): the tasks with a due date by (due_at, id), then
   * those without one (the index's first entries, NULL, in rowid order);
   * each part's first ?11 (the queue's: each node's, listed by a subquery
   * per node), merged.  The page after ?10 starts within the part ?10 is
   * in, and always takes the second part from its start when ?10 has a
   * due date: both bounds are constants of the statement, so each part
   * starts its index range there.  (Read in id order from the view's own
   * index, the second part walked every task of a view whose tasks all
   * have a due date, to find none.) */
#define AFTER_DUE_SET(a)                                                                                \
  " AND (" a "due_at, " a "id) > (SELECT coalesce(max(coalesce(due_at, '~')), ''), coalesce(max(id), 0)" \
  " FROM task WHERE id = ?10)"
#define AFTER_DUE_UNSET(a) " AND " a "id > coalesce((SELECT id FROM task WHERE id = ?10 AND due_at IS NULL), 0)"
#define DUE_SET(a) a "due_at IS NOT NULL" AFTER_DUE_SET(a) LIST_FILTERS_ON(a) " ORDER BY " a "due_at, " a "id LIMIT ?11"
#define DUE_UNSET(a) a "due_at IS NULL" AFTER_DUE_UNSET(a) LIST_FILTERS_ON(a) " ORDER BY " a "id LIMIT ?11"
#define DUE_PARTS(v, set, unset)                                                                             \
  "SELECT " LIST_COLS(v) " FROM task t " JOINS_##v "WHERE t.id IN (SELECT id FROM (" set " UNION ALL " unset ")" \
  " ORDER BY coalesce(due, '~'), id LIMIT ?11) ORDER BY coalesce(t.due_at, '~'), t.id LIMIT ?11"
  /* (the page's ids first, from both parts' ids and dates; then its rows) */
  [Q_LIST_INBOX_DUE_PARTS] = DUE_PARTS(INBOX,
      "SELECT id, due FROM (SELECT d.id, d.due_at AS due FROM task d INDEXED BY task_owner_due WHERE d.owner_id = ?2"
      " AND d.status = 'ASSIGNED' AND " DUE_SET("d.") ")",
      "SELECT id, NULL FROM (SELECT u.id FROM task u INDEXED BY task_owner_due WHERE u.owner_id = ?2"
      " AND u.status = 'ASSIGNED' AND " DUE_UNSET("u.") ")"),
  [Q_LIST_QUEUE_DUE_PARTS] = DUE_PARTS(QUEUE,
      "SELECT k.id, k.due_at AS due FROM " USER_QUEUED_NODES " JOIN task k ON k.id IN (SELECT d.id FROM task d"
      " INDEXED BY task_queue_due WHERE " TASK_QUEUED("d.") " AND d.flow_task = n.value AND " DUE_SET("d.") ")",
      "SELECT k.id, NULL FROM " USER_QUEUED_NODES " JOIN task k ON k.id IN (SELECT u.id FROM task u INDEXED BY task_queue_due"
      " WHERE " TASK_QUEUED("u.") " AND u.flow_task = n.value AND " DUE_UNSET("u.") ")"),
  /* The archive by finished_at in two parts the same way, both from
   * task_owner_finished: the tasks finished at a time, in (finished_at, id)
   * order either way, then those without one (its first entries, NULL, in
   * rowid order), as LIST_FIN orders them. */
#define ARCHIVE_FIN_PARTS(cmp, order, none, top, top_id)                                            \
  "SELECT " LIST_COLS(ARCHIVE) " FROM task t " JOINS_ARCHIVE "WHERE t.id IN (SELECT id FROM (SELECT id, fin FROM"  \
  " (SELECT f.id, f.finished_at AS fin FROM task f INDEXED BY task_owner_finished WHERE f.owner_id = ?2"         \
  " AND f.status IN ('DONE','CANCELED') AND f.finished_at IS NOT NULL AND (f.finished_at, f.id) " cmp             \
  " (SELECT coalesce(max(coalesce(finished_at, '" none "')), '" top "'), coalesce(max(id), " top_id ")"     \
  " FROM task WHERE id = ?10)" LIST_FILTERS_ON("f.") " ORDER BY f.finished_at " order ", f.id " order            \
  " LIMIT ?11) UNION ALL SELECT id, NULL FROM (SELECT u.id FROM task u INDEXED BY task_owner_finished"           \
  " WHERE u.owner_id = ?2 AND u.status IN ('DONE','CANCELED') AND u.finished_at IS NULL AND u.id " cmp           \
  " coalesce((SELECT id FROM task WHERE id = ?10 AND finished_at IS NULL), " top_id ")" LIST_FILTERS_ON("u.")    \
  " ORDER BY u.id " order " LIMIT ?11)) ORDER BY coalesce(fin, '" none "') " order ", id " order " LIMIT ?11)"   \
  " ORDER BY coalesce(t.finished_at, '" none "') " order ", t.id " order " LIMIT ?11"
  [Q_LIST_ARCHIVE_FIN_PARTS] = ARCHIVE_FIN_PARTS("<", "DESC", "", "~", "9223372036854775807"),
  [Q_LIST_ARCHIVE_FIN_PARTS_ASC] = ARCHIVE_FIN_PARTS(">", "ASC", "~", "", "0"),
  /* The archive in id order in two parts, one per finished status, each
   * the user's range of task_owner_status in id order, merged.  One range
   * of task_owner_id read the user's tasks until 50 finished ones came:
   * bob, with 100,000 tasks in his inbox at 1,000,000 processes and none
   * finished, read them all; by rowid with the statistics it read every
   * task (27 ms at 100,000 processes). */
#define ARCHIVE_PART(a, status, cmp, order)                                                                \
  "SELECT " a ".id FROM task " a " INDEXED BY task_owner_status WHERE " a ".owner_id = ?2 AND " a ".status = '" \
  status "'" KEY_AFTER(a ".", cmp) LIST_FILTERS_ON(a ".") " ORDER BY " a ".id " order " LIMIT ?11"
#define ARCHIVE_PARTS(cmp, order)                                                                                \
  "SELECT " LIST_COLS(ARCHIVE) " FROM task t " JOINS_ARCHIVE "WHERE t.id IN (SELECT id FROM (SELECT id FROM ("   \
  ARCHIVE_PART("d", "DONE", cmp, order) ") UNION ALL SELECT id FROM (" ARCHIVE_PART("c", "CANCELED", cmp, order) \
  ")) ORDER BY id " order " LIMIT ?11) ORDER BY t.id " order " LIMIT ?11"
  [Q_LIST_ARCHIVE_PARTS] = ARCHIVE_PARTS("<", "DESC"),
  [Q_LIST_ARCHIVE_PARTS_ASC] = ARCHIVE_PARTS(">", "ASC"),
  [Q_LIST_INBOX_DUE] = LIST_DUE(INBOX),
  [Q_LIST_QUEUE_DUE] = LIST_DUE(QUEUE),
  [Q_LIST_ARCHIVE_DUE] = LIST_DUE(ARCHIVE),
  [Q_LIST_ALL_DUE] = LIST_DUE(ALL),
  /* By finished_at (the archive's "Finished" column), unfinished tasks last
   * either way; paged like the due order, by the last task's id. */
#define FIN_KEY(none) "(coalesce(t.finished_at, '" none "'), t.id)"
#define LIST_FIN(v, none, cmp, order) \
  LIST_HEAD(" FROM task t ", v) " AND (?10 IS NULL OR " FIN_KEY(none) " " cmp \
  " (SELECT coalesce(finished_at, '" none "'), id FROM task WHERE id = ?10)) ORDER BY coalesce(t.finished_at, '" none \
  "') " order ", t.id " order " LIMIT ?11"
  [Q_LIST_INBOX_FIN] = LIST_FIN(INBOX, "", "<", "DESC"),
  [Q_LIST_QUEUE_FIN] = LIST_FIN(QUEUE, "", "<", "DESC"),
  [Q_LIST_ARCHIVE_FIN] = LIST_FIN(ARCHIVE, "", "<", "DESC"),
  [Q_LIST_ALL_FIN] = LIST_FIN(ALL, "", "<", "DESC"),
  [Q_LIST_INBOX_FIN_ASC] = LIST_FIN(INBOX, "~", ">", "ASC"),
  [Q_LIST_QUEUE_FIN_ASC] = LIST_FIN(QUEUE, "~", ">", "ASC"),
  [Q_LIST_ARCHIVE_FIN_ASC] = LIST_FIN(ARCHIVE, "~", ">", "ASC"),
  [Q_LIST_ALL_FIN_ASC] = LIST_FIN(ALL, "~", ">", "ASC"),
  /* Counted up to a cap (?11, -1: none): a range of the index the view
   * walks (task_owner_status, task_status), never every matching row. */
  [Q_READ_BEGIN] = "BEGIN",
  [Q_LIST_PREVIOUS] =
      "SELECT task_id, previous_id FROM task_previous WHERE task_id IN (SELECT value FROM json_each(?1))"
      " UNION SELECT id, prev_id FROM task WHERE id IN (SELECT value FROM json_each(?1)) AND prev_id IS NOT NULL"
      " ORDER BY 1, 2",
  /* A request's user with its permissions (its own and its groups') and
   * its groups as JSON arrays, in one statement (read_actor) */
#define ACTOR_COLS                                                                              \
  "SELECT u.id, u.username, u.is_admin, u.is_active, u.password_hash,"                          \
  " (SELECT json_group_array(name) FROM (SELECT name FROM user_perm WHERE user_id = u.id UNION"   \
  "  SELECT gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = u.id)),"  \
  " (SELECT json_group_array(name) FROM (SELECT g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id" \
  "  WHERE ug.user_id = u.id ORDER BY 1)) "
  [Q_HOSTS_SEEN] = HOSTS_SEEN("?1"),
  [Q_VERSION_REPORTS] = VERSION_REPORTS,
  [Q_IDENTITY_STAMP] = "SELECT n FROM identity_change",
  [Q_TOKEN_USER] = ACTOR_COLS "FROM api_token t JOIN user u ON u.id = t.user_id WHERE t.token_hash = ?1",
  [Q_USER_ACTOR_ID] = ACTOR_COLS "FROM user u WHERE u.id = ?1",
  [Q_USER_ACTOR] = ACTOR_COLS "FROM user u WHERE u.username = ?1",
  /* 0: a permission (of the user or of one of its groups), 1: a group */
  [Q_USER_PERMS_GROUPS] =
      "SELECT 0, name FROM user_perm WHERE user_id = ?1 UNION "
      "SELECT 0, gp.name FROM grp_perm gp JOIN user_grp ug ON ug.grp_id = gp.grp_id WHERE ug.user_id = ?1 UNION ALL "
      "SELECT 1, g.name FROM grp g JOIN user_grp ug ON ug.grp_id = g.id WHERE ug.user_id = ?1 ORDER BY 1, 2",
  [Q_COUNT_INBOX] = "SELECT count(*) FROM (SELECT 1 FROM task t WHERE " VIEW_INBOX " LIMIT ?11)",
  [Q_COUNT_QUEUE] = "SELECT count(*) FROM (SELECT 1 FROM task t WHERE " VIEW_QUEUE " LIMIT ?11)",
  /* INDEXED BY: without statistics SQLite would walk every SCHEDULED row,
   * external tasks waiting for workers outside included, and sort them */
  [Q_TASK_CLAIM] =
      "SELECT " TASK_COLS " FROM task t INDEXED BY task_due_host LEFT JOIN user u ON u.id = t.owner_id "
      "WHERE t.status = 'SCHEDULED' AND coalesce(t.due_at, '') <= ?1 AND t.flow_task_type <> 'external'"
      " AND (t.lease_until IS NULL OR t.lease_until < ?1) ORDER BY t.due_at, t.id LIMIT 1",
  [Q_TASK_LEASE] = "UPDATE task SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1",
  [Q_TASK_CLAIM_ID] =
      "SELECT " TASK_COLS TASK_FROM
      "WHERE t.id = ?2 AND t.status = 'SCHEDULED' AND coalesce(t.due_at, '') <= ?1 AND t.flow_task_type <> 'external'"
      " AND (t.lease_until IS NULL OR t.lease_until < ?1)",
  /* external tasks wait for the workers outside (store_external.c), never
   * for the host's own; the earliest first (NULL first, as '' was) */
  [Q_TASK_NEXT_DUE] =
      "SELECT coalesce(due_at, '') FROM task INDEXED BY task_due_host"
      " WHERE status = 'SCHEDULED' AND flow_task_type <> 'external' ORDER BY due_at LIMIT 1",
  /* external tasks: the free, due tasks of one topic in the order of the
   * index (an external task always has a due_at), locked for a worker;
   * lease_until on the right of SET is the old one */
  [Q_EXT_FETCH] =
      "SELECT id, process_id, flow_task, event_name, attempts, due_at, lease_until IS NOT NULL"
      " FROM task INDEXED BY task_external"
      " WHERE status = 'SCHEDULED' AND flow_task_type = 'external' AND event_name = ?1 AND due_at <= ?2"
      " AND (lease_until IS NULL OR lease_until < ?2) AND flow_task IN (SELECT value FROM json_each(?4))"
      " ORDER BY due_at, id LIMIT ?3",
  [Q_EXT_LOCK] =
      "UPDATE task SET lease_owner = ?2, lease_until = ?3,"
      " lease_expiries = lease_expiries + (lease_until IS NOT NULL) WHERE id = ?1",
  [Q_EXT_EXTEND] =
      "UPDATE task SET lease_until = ?3 WHERE id = ?1 AND status = 'SCHEDULED' AND flow_task_type = 'external'"
      " AND lease_owner = ?2 AND lease_until >= ?4",
  [Q_EXT_EXPIRIES] = "SELECT coalesce(sum(lease_expiries), 0) FROM task WHERE flow_task_type = 'external'",
  /* never run on SQLite (store_lock.c): one file, one host */
  [Q_PROC_LOCK] = "SELECT ?1",
  [Q_PROC_UNLOCK] = "SELECT ?1",
  [Q_TASK_PROCESS_LOCK] = "SELECT process_id, 0 FROM task WHERE id = ?1",
  /* PostgreSQL's read ahead with the lock (store_lock.c); here as on any backend */
  [Q_PROC_GET_BY_TASK] = PROC_ROW("user") "WHERE p.id = (SELECT process_id FROM task WHERE id = ?1)",
  [Q_TASK_LIVE_OF_PROCESS_BY_TASK] =
      "SELECT " TASK_COLS TASK_FROM "WHERE t.process_id = (SELECT process_id FROM task WHERE id = ?1)"
      " AND t.status IN " ACTIVE NOT_LEFT_OUT("(SELECT process_id FROM task WHERE id = ?1)", "?1") " ORDER BY t.id",
  [Q_COMMIT_AHEAD] = "COMMIT",
  [Q_RENAME] = "UPDATE task SET flow_task = ?2 WHERE flow_task = ?1",
  [Q_RECEIVER_NEXT] =
      "SELECT id, process_id FROM task WHERE status = 'STARTED' AND flow_task_type = 'receive'"
      " AND event_name = ?1 AND event_key IS ?2 AND id > ?3 ORDER BY id LIMIT 1",
  [Q_MSG_KEEP] =
      "INSERT INTO message(name, key, data, created_at, expires_at) SELECT ?1, ?2, ?3, ?4, ?5"
      " WHERE NOT EXISTS (SELECT 1 FROM task WHERE status = 'STARTED' AND flow_task_type = 'receive'"
      "  AND event_name = ?1 AND event_key = ?2)",
  [Q_MSG_INSERT] =
      "INSERT INTO message(name, key, data, created_at, expires_at, pending) VALUES(?1, ?2, ?3, ?4, ?5, 1)",
  [Q_MSG_OFFERED] = "UPDATE message SET pending = 0 WHERE id = ?1",
  [Q_MSG_EXISTS] = "SELECT count(*) FROM message WHERE id = ?1",
  [Q_MSG_UNDELIVERED] =
      "SELECT m.id, m.name, m.key, m.data FROM message m WHERE m.id > ?2 AND m.pending AND m.expires_at > ?1 AND EXISTS"
      " (SELECT 1 FROM task t WHERE t.status = 'STARTED' AND t.flow_task_type = 'receive'"
      "  AND t.event_name = m.name AND t.event_key = m.key AND t.created_at <= m.created_at) ORDER BY m.id LIMIT 1",
  [Q_MSG_FIND] =
      "SELECT id, data FROM message WHERE name = ?1 AND key = ?2 AND expires_at > ?3 AND id > ?4"
      " ORDER BY id LIMIT 1",
  [Q_MSG_DELETE] = "DELETE FROM message WHERE id = ?1",
  [Q_MSG_EXPIRE] = "DELETE FROM message WHERE expires_at <= ?1",
  [Q_MSG_NEXT_EXPIRY] = "SELECT min(expires_at) FROM message",
  [Q_MSG_KEPT_FOR] =
      "SELECT EXISTS (SELECT 1 FROM message WHERE name = ?1 AND key = ?2 AND id > ?3 AND expires_at > ?4)",
  [Q_MSG_LAST_ID] = "SELECT coalesce(max(id), 0) FROM message",
  [Q_RENAME_BUMP] = "UPDATE process SET version = version + 1 WHERE id IN (SELECT process_id FROM task WHERE flow_task = ?1)",
};

/* --- statement helpers (declared in store_internal.h) ----------------- */

int sq_fail(store *st, fherr *err, int rc, const char *what) {
  if (rc == DB_BUSY || rc == DB_LOCKED) return fherr_set(err, FH_BUSY, "database is busy, try again");
  /* a full disk passes, like a lock: 503 busy, not a bug of ours */
  if (rc == DB_FULL) return fherr_set(err, FH_BUSY, "the database's disk is full; try again later");
  /* the process was written meanwhile (PostgreSQL, a check sent ahead):
   * the engine starts the action over, as on a count of 0 below */
  if (rc == DB_STALE) return fherr_set(err, FH_STALE, "the process changed meanwhile");
  const char *msg = st->cur->db ? dbc_errmsg(st->cur->db) : "no connection";
  return fherr_set(err, FH_INTERNAL, "storage error: %s: %s", what, msg);
}

const char *store_sql_text(store *st, int q) {
  return st->cur->db->kind == DB_KIND_PG ? STORE_SQL_PG[q] : STORE_SQL[q];
}

dbs *sq_prep(store *st, int q, fherr *err) {
  if (!st->cur->stmt[q]) {
    const char *sql = store_sql_text(st, q);
    int rc = dbs_prepare(st->cur->db, q, sql, &st->cur->stmt[q]);
    if (rc != DB_OK) {
      sq_fail(st, err, rc, "prepare");
      return NULL;
    }
    if (store_pg_deferrable(q)) dbs_defer_ok(st->cur->stmt[q]);
  }
  return st->cur->stmt[q];
}

dbs *sq_prepare_once(store *st, const char *sql, const char *what, fherr *err) {
  dbs *s = NULL;
  int rc = dbs_prepare(st->cur->db, -1, sql, &s);
  if (rc != DB_OK) {
    sq_fail(st, err, rc, what);
    dbs_finalize(s);
    return NULL;
  }
  return s;
}

int sq_prep_failed(const fherr *err) { return err && err->code ? err->code : FH_INTERNAL; }

int sq_run_once(store *st, dbs *s, const char *what, fherr *err) {
  if (!s) return sq_prep_failed(err);
  int rc = dbs_step(s);
  dbs_finalize(s);
  return rc == DB_DONE || rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, what);
}

/* Runs a statement that returns no rows; resets it in every case. */
int sq_run(store *st, dbs *s, fherr *err, const char *what) {
  int rc = dbs_step(s);
  dbs_reset(s);
  dbs_clear_bindings(s);
  if (rc != DB_DONE && rc != DB_ROW) return sq_fail(st, err, rc, what);
  return FH_OK;
}

int sq_exec(store *st, const char *sql, fherr *err) {
  int rc = dbc_exec(st->cur->db, sql);
  if (rc != DB_OK) {
    int code = rc == DB_BUSY || rc == DB_LOCKED || rc == DB_FULL ? FH_BUSY : FH_INTERNAL;
    fherr_set(err, code, "storage error: %s", dbc_errmsg(st->cur->db));
    return code;
  }
  return FH_OK;
}

int sq_count(store *st, dbs *s, int64_t *n, fherr *err) {
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *n = dbs_col_int64(s, 0);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  return sq_fail(st, err, rc, "count");
}

int sq_simple(store *st, int q, fherr *err) {
  dbs *s = sq_prep(st, q, err);
  return s ? sq_run(st, s, err, STORE_SQL[q]) : FH_INTERNAL;
}

/* --- users ---------------------------------------------------------- */

void st_user_free(st_user *u) {
  if (!u) return;
  free(u->password_hash);
  u->password_hash = NULL;
}

int store_user_add(store *st, const char *username, const char *password_hash, int is_admin,
                   int64_t *id, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_ADD, err);
  if (!s) return sq_prep_failed(err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  dbs_bind_text(s, 1, username);
  sq_bind_text_or_null(s, 2, password_hash);
  dbs_bind_int(s, 3, is_admin ? 1 : 0);
  dbs_bind_text(s, 4, now);
  int rc = dbs_step(s);
  sq_done(s);
  if (rc == DB_CONSTRAINT) return fherr_set(err, FH_CONFLICT, "user '%s' already exists", username);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "add user");
  if (id) *id = dbc_last_insert_id(st->cur->db);
  return FH_OK;
}

/* The user's columns 0-4 of the row s stands on. */
static void user_cols(dbs *s, st_user *out) {
  out->id = dbs_col_int64(s, 0);
  sq_copy_col(out->username, sizeof out->username, s, 1);
  out->is_admin = dbs_col_int(s, 2);
  out->is_active = dbs_col_int(s, 3);
  out->password_hash = sq_dup_col(s, 4);
}

static int read_user(store *st, dbs *s, st_user *out, fherr *err, const char *who) {
  memset(out, 0, sizeof *out);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    user_cols(s, out);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", who);
  return sq_fail(st, err, rc, "get user");
}

int store_user_get(store *st, const char *username, st_user *out, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, username);
  return read_user(st, s, out, err, username);
}

/* Reads column col, a JSON array of names, as a set ({"name": true}) or
 * as the array. */
static json_t *names_of(dbs *s, int col, int as_set) {
  const char *text = dbs_col_text(s, col);
  json_t *arr = text ? json_loads(text, 0, NULL) : json_array();
  if (!json_is_array(arr)) {
    json_decref(arr);
    return NULL;
  }
  if (!as_set) return arr;
  json_t *set = json_object();
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (json_is_string(v)) json_object_set_new(set, json_string_value(v), json_true());
  json_decref(arr);
  return set;
}

/* A user row of ACTOR_COLS with its permissions and groups. */
static int read_actor(store *st, dbs *s, st_actor *out, fherr *err, const char *who) {
  memset(out, 0, sizeof *out);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    user_cols(s, &out->user);
    out->perms = names_of(s, 5, 1);
    out->groups = names_of(s, 6, 0);
    sq_done(s);
    if (out->perms && out->groups) return FH_OK;
    st_actor_free(out);
    return fherr_set(err, FH_INTERNAL, "cannot read the permissions of user %s", who);
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", who);
  return sq_fail(st, err, rc, "get user");
}

void st_actor_free(st_actor *a) {
  st_user_free(&a->user);
  json_decref(a->perms);
  json_decref(a->groups);
  a->perms = a->groups = NULL;
}

int store_token_actor(store *st, const char *token_hash, st_actor *out, fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_USER, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, token_hash);
  return read_actor(st, s, out, err, "of this token");
}

int store_identity_stamp(store *st, int64_t *n, fherr *err) {
  *n = 0;
  dbs *s = sq_prep(st, Q_IDENTITY_STAMP, err);
  if (!s) return sq_prep_failed(err);
  int rc = dbs_step(s);
  if (rc == DB_ROW) *n = dbs_col_int64(s, 0);
  sq_done(s);
  if (rc == DB_ROW) return FH_OK;
  if (rc == DB_DONE) return fherr_set(err, FH_INTERNAL, "the count of identity changes is missing");
  return sq_fail(st, err, rc, "read the count of identity changes");
}

/* q prepared for the user id, and the user's name in messages ("#id"). */
static dbs *by_user_id(store *st, int q, int64_t id, char who[32], fherr *err) {
  snprintf(who, 32, "#%lld", (long long)id);
  dbs *s = sq_prep(st, q, err);
  if (s) dbs_bind_int64(s, 1, id);
  return s;
}

int store_user_actor(store *st, const char *username, st_actor *out, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_ACTOR, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, username);
  return read_actor(st, s, out, err, username);
}

int store_user_actor_by_id(store *st, int64_t id, st_actor *out, fherr *err) {
  char who[32];
  dbs *s = by_user_id(st, Q_USER_ACTOR_ID, id, who, err);
  return s ? read_actor(st, s, out, err, who) : FH_INTERNAL;
}

int store_user_get_by_id(store *st, int64_t id, st_user *out, fherr *err) {
  char who[32];
  dbs *s = by_user_id(st, Q_USER_GET_ID, id, who, err);
  return s ? read_user(st, s, out, err, who) : FH_INTERNAL;
}

static int update_user(store *st, int q, const char *username, dbs **sp, fherr *err) {
  dbs *s = sq_prep(st, q, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, username);
  *sp = s;
  return FH_OK;
}

int store_user_set_password(store *st, const char *username, const char *password_hash, fherr *err) {
  dbs *s = NULL;
  int rc = update_user(st, Q_USER_PASSWD, username, &s, err);
  if (rc) return rc;
  sq_bind_text_or_null(s, 2, password_hash);
  if ((rc = sq_run(st, s, err, "set password"))) return rc;
  return dbc_changes(st->cur->db) ? FH_OK : fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", username);
}

int store_user_count(store *st, int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_COUNT, err);
  return s ? sq_count(st, s, n, err) : FH_INTERNAL;
}

/* Collects column 0 of every row as a JSON array of strings. */
static int strings_of(store *st, dbs *s, json_t **out, fherr *err) {
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    const char *v = dbs_col_text(s, 0);
    json_array_append_new(arr, json_string(v ? (const char *)v : ""));
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "query");
  }
  *out = arr;
  return FH_OK;
}

static int ids_of(store *st, dbs *s, json_t **out, fherr *err) {
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW)
    json_array_append_new(arr, json_integer(dbs_col_int64(s, 0)));
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "query");
  }
  *out = arr;
  return FH_OK;
}

/* Permissions and groups in one statement (every request's sign-in). */
static int perms_and_groups(store *st, int64_t user_id, json_t **perms, json_t **groups, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_PERMS_GROUPS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, user_id);
  json_t *set = json_object(), *names = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    const char *name = dbs_col_text(s, 1);
    if (!name) continue;
    if (dbs_col_int(s, 0)) json_array_append_new(names, json_string(name));
    else json_object_set_new(set, name, json_true());
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(set);
    json_decref(names);
    return sq_fail(st, err, rc, "user permissions");
  }
  *perms = set;
  *groups = names;
  return FH_OK;
}

int store_user_perms(store *st, int64_t user_id, json_t **perms, json_t **groups, fherr *err) {
  *perms = NULL;
  if (groups) *groups = NULL;
  if (groups) return perms_and_groups(st, user_id, perms, groups, err);
  dbs *s = sq_prep(st, Q_USER_PERMS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, user_id);
  json_t *names;
  int rc = strings_of(st, s, &names, err);
  if (rc) return rc;
  json_t *set = json_object();
  size_t i;
  json_t *v;
  json_array_foreach(names, i, v) json_object_set_new(set, json_string_value(v), json_true());
  json_decref(names);
  if (groups) {
    if (!(s = sq_prep(st, Q_USER_GROUPS, err))) {
      json_decref(set);
      return FH_INTERNAL;
    }
    dbs_bind_int64(s, 1, user_id);
    if ((rc = strings_of(st, s, groups, err))) {
      json_decref(set);
      return rc;
    }
  }
  *perms = set;
  return FH_OK;
}

int store_user_list(store *st, json_t **out, fherr *err) {
  dbs *s = sq_prep(st, Q_USER_LIST, err);
  if (!s) return sq_prep_failed(err);
  json_t *arr = json_array();
  int rc;
  /* Collect ids first: the perms query reuses other statements. */
  json_t *rows = json_array();
  while ((rc = dbs_step(s)) == DB_ROW)
    json_array_append_new(rows, json_pack("{s:I, s:s, s:b, s:b}", "id", (json_int_t)dbs_col_int64(s, 0),
                                          "username", (const char *)dbs_col_text(s, 1),
                                          "is_admin", dbs_col_int(s, 2), "is_active",
                                          dbs_col_int(s, 3)));
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(rows);
    json_decref(arr);
    return sq_fail(st, err, rc, "list users");
  }
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    json_t *perms, *groups;
    if ((rc = store_user_perms(st, json_integer_value(json_object_get(row, "id")), &perms, &groups, err))) {
      json_decref(rows);
      json_decref(arr);
      return rc;
    }
    json_t *plist = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(perms, k, v) json_array_append_new(plist, json_string(k));
    json_decref(perms);
    json_object_del(row, "id");
    json_object_set_new(row, "groups", groups);
    json_object_set_new(row, "permissions", plist);
    json_array_append(arr, row);
  }
  json_decref(rows);
  *out = arr;
  return FH_OK;
}

static int group_id(store *st, const char *group, int create, int64_t *id, fherr *err) {
  dbs *s;
  int rc;
  if (create) {
    if (!(s = sq_prep(st, Q_GROUP_ENSURE, err))) return sq_prep_failed(err);
    dbs_bind_text(s, 1, group);
    if ((rc = sq_run(st, s, err, "add group"))) return rc;
  }
  if (!(s = sq_prep(st, Q_GROUP_ID, err))) return sq_prep_failed(err);
  dbs_bind_text(s, 1, group);
  rc = dbs_step(s);
  if (rc == DB_ROW) {
    *id = dbs_col_int64(s, 0);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "unknown group '%s'", group);
  return sq_fail(st, err, rc, "get group");
}

static int user_id(store *st, const char *username, int64_t *id, fherr *err) {
  st_user u;
  int rc = store_user_get(st, username, &u, err);
  if (rc) return rc;
  *id = u.id;
  st_user_free(&u);
  return FH_OK;
}

static int grant_or_revoke(store *st, const char *subject, const char *perm, int grant, fherr *err) {
  int64_t id;
  int is_group = subject[0] == '@';
  int rc = is_group ? group_id(st, subject + 1, grant, &id, err) : user_id(st, subject, &id, err);
  if (rc) return rc;
  int q = is_group ? (grant ? Q_GRANT_GROUP : Q_REVOKE_GROUP) : (grant ? Q_GRANT_USER : Q_REVOKE_USER);
  dbs *s = sq_prep(st, q, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  dbs_bind_text(s, 2, perm);
  return sq_run(st, s, err, grant ? "grant" : "revoke");
}

int store_grant(store *st, const char *subject, const char *perm, fherr *err) {
  return grant_or_revoke(st, subject, perm, 1, err);
}
int store_revoke(store *st, const char *subject, const char *perm, fherr *err) {
  return grant_or_revoke(st, subject, perm, 0, err);
}

static int membership(store *st, const char *username, const char *group, int join, fherr *err) {
  int64_t uid, gid;
  int rc;
  if ((rc = user_id(st, username, &uid, err)) || (rc = group_id(st, group, join, &gid, err))) return rc;
  dbs *s = sq_prep(st, join ? Q_JOIN : Q_LEAVE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, uid);
  dbs_bind_int64(s, 2, gid);
  return sq_run(st, s, err, join ? "join group" : "leave group");
}

int store_group_join(store *st, const char *username, const char *group, fherr *err) {
  return membership(st, username, group, 1, err);
}
int store_group_leave(store *st, const char *username, const char *group, fherr *err) {
  return membership(st, username, group, 0, err);
}

int store_users_with_perm(store *st, const char *perm, json_t **out, fherr *err) {
  dbs *s = sq_prep(st, Q_USERS_WITH_PERM, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, perm);
  return strings_of(st, s, out, err);
}

/* --- sessions and tokens ------------------------------------------- */

int store_session_add(store *st, const char *id_hash, int64_t uid, const char *csrf,
                      const char *expires_at, fherr *err) {
  dbs *s = sq_prep(st, Q_SESSION_ADD, err);
  if (!s) return sq_prep_failed(err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  dbs_bind_text(s, 1, id_hash);
  dbs_bind_int64(s, 2, uid);
  dbs_bind_text(s, 3, csrf);
  dbs_bind_text(s, 4, now);
  dbs_bind_text(s, 5, expires_at);
  return sq_run(st, s, err, "add session");
}

int store_session_get(store *st, const char *id_hash, const char *now, int64_t *uid, char csrf[129],
                      char expires_at[FH_TIME_LEN], fherr *err) {
  dbs *s = sq_prep(st, Q_SESSION_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, id_hash);
  dbs_bind_text(s, 2, now);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *uid = dbs_col_int64(s, 0);
    sq_copy_col(csrf, 129, s, 1);
    sq_copy_col(expires_at, FH_TIME_LEN, s, 2);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "no such session");
  return sq_fail(st, err, rc, "get session");
}

int store_session_delete(store *st, const char *id_hash, fherr *err) {
  dbs *s = sq_prep(st, Q_SESSION_DEL, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, id_hash);
  return sq_run(st, s, err, "delete session");
}

int store_token_add(store *st, const char *token_hash, int64_t uid, const char *name, fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_ADD, err);
  if (!s) return sq_prep_failed(err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  dbs_bind_text(s, 1, token_hash);
  dbs_bind_int64(s, 2, uid);
  sq_bind_text_or_null(s, 3, name);
  dbs_bind_text(s, 4, now);
  return sq_run(st, s, err, "add token");
}

int store_token_used(store *st, const char *token_hash, const char *at, fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_USED, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, token_hash);
  dbs_bind_text(s, 2, at);
  return sq_run(st, s, err, "record a token's use");
}

int store_token_get(store *st, const char *token_hash, int64_t *uid, fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, token_hash);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *uid = dbs_col_int64(s, 0);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "no such token");
  return sq_fail(st, err, rc, "get token");
}

int store_user_set_active(store *st, const char *username, int active, fherr *err) {
  dbs *s = NULL;
  int rc = update_user(st, Q_USER_ACTIVE, username, &s, err);
  if (rc) return rc;
  dbs_bind_int(s, 2, active ? 1 : 0);
  if ((rc = sq_run(st, s, err, "set user active"))) return rc;
  return dbc_changes(st->cur->db) ? FH_OK : fherr_set(err, FH_NOT_FOUND, "unknown user '%s'", username);
}

/* Runs statement q with the user id, *n the rows it deleted. */
static int delete_of_user(store *st, int q, int64_t uid, int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, q, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, uid);
  int rc = sq_run(st, s, err, "revoke");
  if (!rc && n) *n = dbc_changes(st->cur->db);
  return rc;
}

int store_user_revoke(store *st, int64_t uid, int64_t *sessions, int64_t *tokens, fherr *err) {
  int rc = delete_of_user(st, Q_SESSION_DEL_USER, uid, sessions, err);
  return rc ? rc : delete_of_user(st, Q_TOKEN_DEL_USER, uid, tokens, err);
}

int store_session_purge(store *st, const char *now, fherr *err) {
  dbs *s = sq_prep(st, Q_SESSION_PURGE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, now);
  return sq_run(st, s, err, "purge sessions");
}

static json_t *text_or_null(dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  return v ? json_string((const char *)v) : json_null();
}

int store_token_list(store *st, int64_t uid, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = sq_prep(st, Q_TOKEN_LIST, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, uid);
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW)
    json_array_append_new(arr, json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)dbs_col_int64(s, 0),
                                         "name", text_or_null(s, 1), "created_at", text_or_null(s, 2),
                                         "last_used_at", text_or_null(s, 3)));
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "list tokens");
  }
  *out = arr;
  return FH_OK;
}

int store_token_find(store *st, int64_t id, const char *token_hash, int64_t *found, char username[64], fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_FIND, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, token_hash ? -1 : id);
  sq_bind_text_or_null(s, 2, token_hash);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *found = dbs_col_int64(s, 0);
    sq_copy_col(username, 64, s, 1);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "no such token");
  return sq_fail(st, err, rc, "find token");
}

int store_token_delete(store *st, int64_t id, fherr *err) {
  dbs *s = sq_prep(st, Q_TOKEN_DEL, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  int rc = sq_run(st, s, err, "delete token");
  if (rc) return rc;
  return dbc_changes(st->cur->db) ? FH_OK : fherr_set(err, FH_NOT_FOUND, "no such token");
}

/* --- sign-in throttling ----------------------------------------------- */

/* Steps a statement of one row into *n and, when last is given, column 1. */
static int login_sum(store *st, dbs *s, int64_t *n, char *last, fherr *err) {
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *n = dbs_col_int64(s, 0);
    if (last) sq_copy_col(last, FH_TIME_LEN, s, 1);
  }
  sq_done(s);
  if (rc == DB_ROW || rc == DB_DONE) return FH_OK;
  return sq_fail(st, err, rc, "sign-in failures");
}

int store_login_failures(store *st, const char *name, const char *addr, const char *since, st_login_failures *out,
                         fherr *err) {
  memset(out, 0, sizeof *out);
  dbs *s = sq_prep(st, Q_LOGIN_PAIR, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, name);
  dbs_bind_text(s, 2, addr);
  dbs_bind_text(s, 3, since);
  int rc = login_sum(st, s, &out->pair, out->pair_last, err);
  if (rc || !(s = sq_prep(st, Q_LOGIN_NAME, err))) return rc ? rc : FH_INTERNAL;
  dbs_bind_text(s, 1, name);
  dbs_bind_text(s, 2, since);
  if ((rc = login_sum(st, s, &out->name, NULL, err))) return rc;
  if (!(s = sq_prep(st, Q_LOGIN_ADDR, err))) return sq_prep_failed(err);
  dbs_bind_text(s, 1, addr);
  dbs_bind_text(s, 2, since);
  return login_sum(st, s, &out->addr, out->addr_last, err);
}

int store_login_failure_add(store *st, const char *name, const char *addr, const char *now, const char *since,
                            fherr *err) {
  dbs *s = sq_prep(st, Q_LOGIN_PURGE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, since);
  int rc = sq_run(st, s, err, "forget old sign-in failures");
  if (rc || !(s = sq_prep(st, Q_LOGIN_FAIL, err))) return rc ? rc : FH_INTERNAL;
  dbs_bind_text(s, 1, name);
  dbs_bind_text(s, 2, addr);
  dbs_bind_text(s, 3, now);
  dbs_bind_text(s, 4, since);
  return sq_run(st, s, err, "record a sign-in failure");
}

int store_login_failure_forget(store *st, const char *name, const char *addr, fherr *err) {
  dbs *s = sq_prep(st, Q_LOGIN_FORGET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, name);
  dbs_bind_text(s, 2, addr);
  return sq_run(st, s, err, "forget sign-in failures");
}

/* --- the database's state ---------------------------------------------- */

/* One probe write on the store's own connection, waiting at most wait_ms
 * for the write lock (then the connection's own busy timeout is back). */
static int probe_write(store *st, int wait_ms) {
  dbc *db = st->own.db;
  int lite = db->kind == DB_KIND_SQLITE;
  int saved = dbc_busy_wait(db, wait_ms);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  int rc = dbc_exec(db, lite ? "BEGIN IMMEDIATE" : "BEGIN");
  dbs *s = rc == DB_OK ? sq_prep(st, Q_HEALTH_PROBE, NULL) : NULL;
  if (s) {
    dbs_bind_text(s, 1, now);
    rc = dbs_step(s);
    sq_done(s);
    if (rc == DB_DONE) rc = dbc_exec(db, "COMMIT");
  } else if (rc == DB_OK) {
    /* the probe statement could not be prepared: why (PostgreSQL prepares
     * on the server, so a server that is away says DB_BUSY here) */
    rc = dbc_errcode(db);
    if (rc == DB_OK) rc = DB_ERROR;
  }
  if (!dbc_autocommit(db)) dbc_exec(db, "ROLLBACK");
  dbc_busy_wait(db, saved);
  return rc;
}

void store_db_probe(store *st, int wait_ms, st_db_probe *out) {
  memset(out, 0, sizeof *out);
  out->free_bytes = -1;
  if (st->in_write) {
    out->state = STORE_DB_ERROR;
    snprintf(out->detail, sizeof out->detail, "the probe cannot run inside a write");
    return;
  }
  /* PostgreSQL: the server's disk is its own business (53100 says full) */
  sqlite3 *lite = st->own.db->kind == DB_KIND_SQLITE ? st->own.db->lite : NULL;
  const char *file = lite ? sqlite3_db_filename(lite, "main") : NULL;
  struct statvfs vfs;
  if (file && *file && statvfs(file, &vfs) == 0) out->free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
  int rc = lite && sqlite3_db_readonly(lite, "main") == 1 ? DB_READONLY : probe_write(st, wait_ms);
  out->state = rc == DB_OK ? STORE_DB_OK
               : rc == DB_BUSY && st->own.db->lost ? STORE_DB_DOWN   /* PostgreSQL: no connection */
               : rc == DB_BUSY || rc == DB_LOCKED ? STORE_DB_LOCKED
               : rc == DB_FULL ? STORE_DB_FULL
               : rc == DB_READONLY ? STORE_DB_READ_ONLY : STORE_DB_ERROR;
  if (rc != DB_OK)
    snprintf(out->detail, sizeof out->detail, "%s", lite ? sqlite3_errstr(rc) : dbc_errmsg(st->own.db));
  if (out->state == STORE_DB_OK && out->free_bytes >= 0 && out->free_bytes < STORE_DB_FULL_BELOW) {
    out->state = STORE_DB_FULL;
    snprintf(out->detail, sizeof out->detail, "%lld bytes free", (long long)out->free_bytes);
  }
}

void store_db_unopened(const char *path, const fherr *why, st_db_probe *out) {
  memset(out, 0, sizeof *out);
  out->free_bytes = -1;
  int pg = db_kind_of(path) == DB_KIND_PG;
  out->state = why->code != FH_BUSY ? STORE_DB_ERROR : pg ? STORE_DB_DOWN : STORE_DB_LOCKED;
  snprintf(out->detail, sizeof out->detail, "%.250s", why->message[0] ? why->message : "cannot open the database");
}

/* --- processes ------------------------------------------------------ */

void st_process_free(st_process *p) {
  if (!p) return;
  free(p->data);
  p->data = NULL;
}

void st_process_array_free(st_process *rows, int n) {
  for (int i = 0; rows && i < n; i++) st_process_free(&rows[i]);
  free(rows);
}

int sq_read_processes(store *st, dbs *s, st_process **rows, int *n, const char *what, fherr *err) {
  *rows = NULL;
  *n = 0;
  int cap = 0, rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    if (*n == cap) {
      st_process *grown = realloc(*rows, sizeof *grown * (size_t)(cap = cap ? 2 * cap : 64));
      if (!grown) break;
      *rows = grown;
    }
    sq_read_process(s, &(*rows)[(*n)++]);
  }
  if (rc == DB_DONE) return FH_OK;
  st_process_array_free(*rows, *n);
  *rows = NULL;
  *n = 0;
  return rc == DB_ROW ? fherr_set(err, FH_INTERNAL, "out of memory") : sq_fail(st, err, rc, what);
}

/* Records that user took part in the process (idempotent). */
static int add_participant(store *st, int64_t process_id, int64_t user_id, fherr *err) {
  if (!user_id || (process_id == st->part_pid && user_id == st->part_uid)) return FH_OK;
  for (int i = 0; process_id == st->wpart_pid && i < st->nwpart; i++)
    if (st->wpart_uid[i] == user_id) return FH_OK;
  dbs *s = sq_prep(st, Q_PARTICIPANT_ADD, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, process_id);
  dbs_bind_int64(s, 2, user_id);
  int rc = sq_run(st, s, err, "add participant");
  if (!rc) {   /* known until this write ends (st_forget_write_participant) */
    if (process_id != st->wpart_pid) st->wpart_pid = process_id, st->nwpart = 0;
    if (st->nwpart < (int)(sizeof st->wpart_uid / sizeof st->wpart_uid[0])) st->wpart_uid[st->nwpart++] = user_id;
  }
  return rc;
}

int store_process_insert(store *st, const char *flow, proc_status status, const char *data,
                         int64_t created_by, int64_t *id, fherr *err) {
  dbs *s = sq_prep(st, Q_PROC_INSERT, err);
  if (!s) return sq_prep_failed(err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  dbs_bind_text(s, 1, flow);
  dbs_bind_text(s, 2, proc_status_name(status));
  dbs_bind_text(s, 3, data ? data : "{}");
  sq_bind_id_or_null(s, 4, created_by);
  dbs_bind_text(s, 5, now);
  int rc = sq_run(st, s, err, "insert process");
  if (!rc) *id = dbc_last_insert_id(st->cur->db);
  if (!rc) rc = add_participant(st, *id, created_by, err);
  return rc;
}

/* A row of Q_PROC_GET, Q_PROC_GET_MANY or a process list (PROC_ROW_COLS). */
void sq_read_process(dbs *s, st_process *out) {
  memset(out, 0, sizeof *out);
  out->id = dbs_col_int64(s, 0);
  sq_copy_col(out->flow, sizeof out->flow, s, 1);
  out->status = proc_status_parse((const char *)dbs_col_text(s, 2));
  out->data = sq_dup_col(s, 3);
  out->created_by = dbs_col_int64(s, 4);
  sq_copy_col(out->created_by_name, sizeof out->created_by_name, s, 5);
  sq_copy_col(out->created_at, sizeof out->created_at, s, 6);
  sq_copy_col(out->finished_at, sizeof out->finished_at, s, 7);
  out->version = dbs_col_int64(s, 8);
  out->parent_task_id = dbs_col_int64(s, 9);
  out->parent_id = dbs_col_int64(s, 10);
  out->depth = dbs_col_int(s, 11);
}

/* The process row of s (Q_PROC_GET, bound to id). */
static int process_row(store *st, dbs *s, int64_t id, st_process *out, fherr *err) {
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    sq_read_process(s, out);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)id);
  return sq_fail(st, err, rc, "get process");
}

int store_process_get(store *st, int64_t id, st_process *out, fherr *err) {
  memset(out, 0, sizeof *out);
  dbs *s = sq_prep(st, Q_PROC_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  return process_row(st, s, id, out, err);
}

/* n ids as a JSON array ("[3,4]") into text (room for n * 21 + 2 bytes):
 * the ids of a statement that reads many rows by key (json_each on SQLite,
 * PAGE_IDS on PostgreSQL).  The ids are read `stride` bytes apart, so an
 * array of structs that begin with their id serves as it is. */
static void ids_json(char *text, const int64_t *ids, size_t stride, int n) {
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    int64_t id = *(const int64_t *)((const char *)ids + (size_t)i * stride);
    used += (size_t)sprintf(text + used, "%s%lld", i ? "," : "[", (long long)id);
  }
  strcpy(text + used, n ? "]" : "[]");
}

int store_process_get_many(store *st, const int64_t *ids, int n, st_process **out, int *count, fherr *err) {
  *out = NULL;
  *count = 0;
  if (n <= 0) return FH_OK;
  char *text = malloc((size_t)n * 21 + 2);
  dbs *s = text ? sq_prep(st, Q_PROC_GET_MANY, err) : NULL;
  if (!s) {
    free(text);
    return text ? FH_INTERNAL : fherr_set(err, FH_INTERNAL, "out of memory");
  }
  ids_json(text, ids, sizeof *ids, n);
  dbs_bind_text(s, 1, text);
  int rc = sq_read_processes(st, s, out, count, "get processes", err);
  sq_done(s);
  free(text);
  return rc;
}

int store_process_update(store *st, int64_t id, proc_status status, const char *data,
                         const char *finished_at, fherr *err) {
  dbs *s = sq_prep(st, Q_PROC_UPDATE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  dbs_bind_text(s, 2, proc_status_name(status));
  dbs_bind_text(s, 3, data ? data : "{}");
  sq_bind_text_or_null(s, 4, finished_at);
  return sq_run(st, s, err, "update process");
}

/* How many processes the list's flow (Q_PROC_COUNT_FLOW) or status has, up
 * to PROC_FEW. */
static int few_processes(store *st, int which, const store_process_query *q, int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, which, err);
  if (!s) return sq_prep_failed(err);
  sq_bind_text_or_null(s, 1, q->flow);
  sq_bind_text_or_null(s, 2, q->status);
  int rc = dbs_step(s);
  if (rc == DB_ROW) *n = dbs_col_int64(s, 0);
  sq_done(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "list processes");
}

int store_process_list(store *st, const store_process_query *q, st_process **out, int *count, fherr *err) {
  *out = NULL;
  *count = 0;
  if (q->nfilters) return store_process_list_filtered(st, q, out, count, err);
  int rc;
  /* the statement of the page's shape (Q_PROC_LIST's comment) */
  int which;
  if (q->parent) which = Q_PROC_LIST_PARENT;
  else if (q->visible_to && !(q->flow && q->flow_managed)) {
    int manages = q->managed_flows_json && strcmp(q->managed_flows_json, "[]");
    which = q->status ? (manages ? Q_PROC_LIST_USER_STATUS : Q_PROC_LIST_OWN_STATUS)
            : q->flow ? Q_PROC_LIST_USER_FLOW
                      : Q_PROC_LIST_USER;
    int64_t n = PROC_FEW;
    if (q->flow && (rc = few_processes(st, Q_PROC_COUNT_FLOW, q, &n, err))) return rc;
    if (n < PROC_FEW) which = Q_PROC_LIST_FEW_FLOW;
    else if (q->status && (rc = few_processes(st, Q_PROC_COUNT_STATUS, q, &n, err))) return rc;
    if (which != Q_PROC_LIST_FEW_FLOW && n < PROC_FEW) which = Q_PROC_LIST_FEW_STATUS;
  }
  else if (q->flow) which = q->status ? Q_PROC_LIST_FLOW_STATUS : Q_PROC_LIST_FLOW;
  else which = q->status ? Q_PROC_LIST_STATUS : Q_PROC_LIST;
  /* PostgreSQL: a page of the default size with no status, or a user's
   * of a status where she manages no flow, is prepared (store_sql_pg.c's
   * PV: its plan for all values is kept); another size runs the twin,
   * planned for its values, and the other pages of a status or of a child
   * are planned for theirs (Q_PROC_LIST_FLOW_STATUS's reason) */
  int pg = st->cur->db->kind == DB_KIND_PG;
  /* (the prepared ones are those with a twin: store_sql_pg.c's table of them says which) */
  const char *twin = pg ? store_pg_list_filtered(which) : NULL;
  int planned = pg && !(twin && q->limit == STORE_PAGE_ROWS);
  const char *text = planned && twin ? twin : store_sql_text(st, which);
  dbs *s = planned ? sq_prepare_once(st, text, "list processes", err) : sq_prep(st, which, err);
  if (!s) return sq_prep_failed(err);
  sq_bind_text_or_null(s, 1, q->flow);
  sq_bind_text_or_null(s, 2, q->status);
  sq_bind_id_or_null(s, 3, q->after);
  dbs_bind_int(s, 4, q->limit > 0 ? q->limit : 50);
  sq_bind_id_or_null(s, 5, q->visible_to);
  sq_bind_text_or_null(s, 6, q->managed_flows_json);
  sq_bind_id_or_null(s, 7, q->parent);
  rc = sq_read_processes(st, s, out, count, "list processes", err);
  if (planned) dbs_finalize(s);
  else sq_done(s);
  return rc;
}

int store_process_children(store *st, int64_t pid, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = sq_prep(st, Q_PROC_CHILDREN, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW)
    json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)dbs_col_int64(s, 0), "flow",
                                         (const char *)dbs_col_text(s, 1), "status",
                                         (const char *)dbs_col_text(s, 2), "parent_task_id",
                                         (json_int_t)dbs_col_int64(s, 3)));
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "list children");
  }
  *out = arr;
  return FH_OK;
}

int store_process_orphan_next(store *st, int64_t after, int64_t *id, fherr *err) {
  *id = 0;
  dbs *s = sq_prep(st, Q_PROC_ORPHAN, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, after);
  int rc = dbs_step(s);
  if (rc == DB_ROW) *id = dbs_col_int64(s, 0);
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "find orphan");
}

int store_process_involves(store *st, int64_t pid, int64_t uid, int *yes, fherr *err) {
  dbs *s = sq_prep(st, Q_PROC_INVOLVES, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_int64(s, 2, uid);
  int64_t n = 0;
  int rc = sq_count(st, s, &n, err);
  *yes = n != 0;
  if (!rc && n) store_participant_known(st, pid, uid);
  return rc;
}

void store_participant_known(store *st, int64_t pid, int64_t uid) {
  /* read committed (outside a write): the row stays, its insert can be skipped */
  if (st->in_write || !(st->w || dbc_autocommit(st->cur->db))) return;
  st->part_pid = pid;
  st->part_uid = uid;
}

/* --- tasks --------------------------------------------------------- */

void st_task_free(st_task *t) {
  if (!t) return;
  free(t->data);
  free(t->error_message);
  free(t->error_traceback);
  free(t->previous);
  t->data = t->error_message = t->error_traceback = t->previous = NULL;
}

void st_task_array_free(st_task *rows, int n) {
  for (int i = 0; i < n; i++) st_task_free(&rows[i]);
  free(rows);
}

static int previous_append(st_task *t, int64_t id);

/* Every member is set from the row (no memset of the ~1.7 KB struct first:
 * a list page reads 50 of them). */
static void read_task(dbs *s, st_task *t) {
  t->id = dbs_col_int64(s, 0);
  t->process_id = dbs_col_int64(s, 1);
  sq_copy_col(t->flow_task, sizeof t->flow_task, s, 2);
  sq_copy_col(t->type, sizeof t->type, s, 3);
  t->status = task_status_parse((const char *)dbs_col_text(s, 4));
  t->owner_id = dbs_col_int64(s, 5);
  sq_copy_col(t->owner_name, sizeof t->owner_name, s, 6);
  sq_copy_col(t->token, sizeof t->token, s, 7);
  sq_copy_col(t->join_of, sizeof t->join_of, s, 8);
  t->data = sq_dup_col(s, 9);
  t->error_message = sq_dup_col(s, 10);
  t->error_traceback = sq_dup_col(s, 11);
  sq_copy_col(t->created_at, sizeof t->created_at, s, 12);
  sq_copy_col(t->assigned_at, sizeof t->assigned_at, s, 13);
  sq_copy_col(t->started_at, sizeof t->started_at, s, 14);
  sq_copy_col(t->finished_at, sizeof t->finished_at, s, 15);
  sq_copy_col(t->due_at, sizeof t->due_at, s, 16);
  sq_copy_col(t->lease_until, sizeof t->lease_until, s, 17);
  t->attempts = dbs_col_int(s, 18);
  sq_copy_col(t->lease_owner, sizeof t->lease_owner, s, 19);
  /* a list row's first link, and TASK_PREV's only one, is an integer
   * (t.prev_id), written by previous_append rather than by SQLite's
   * printf (a tenth of what a row's columns cost); several are text */
  t->previous = NULL;
  if (dbs_col_type(s, 20) == DB_INTEGER) previous_append(t, dbs_col_int64(s, 20));
  else t->previous = sq_dup_col(s, 20);
  sq_copy_col(t->event_name, sizeof t->event_name, s, 21);
  sq_copy_col(t->event_key, sizeof t->event_key, s, 22);
  t->guards = dbs_col_int64(s, 23);
  t->child_id = dbs_col_int64(s, 24);
  t->group_id = dbs_col_int64(s, 25);
  t->has_process = 0;
  t->process_status = PROC_NEW;
  t->process_version = 0;
  if (dbs_col_count(s) > 27) {   /* a list row (LIST_PROC) */
    const char *status = (const char *)dbs_col_text(s, 26);
    int ps = status ? proc_status_parse(status) : -1;
    t->has_process = ps >= 0;
    t->process_status = ps >= 0 ? (proc_status)ps : PROC_NEW;
    t->process_version = dbs_col_int64(s, 27);
  }
}

/* sq_bind_text_or_null without a copy (dbs_bind_text_static). */
static void bind_static_or_null(dbs *s, int i, const char *v) {
  if (v && *v) dbs_bind_text_static(s, i, v);
  else dbs_bind_null(s, i);
}

/* One task row's 23 values from parameter b + 1 on (prev: the task it
 * came from first, 0: none).  The texts are bound
 * without copies: 12 mallocs and frees per task row fewer, and t outlives
 * the statement's step. */
static void bind_task_row(dbs *s, int b, st_task *t, int64_t prev) {
  if (!t->created_at[0]) fhtime_now(t->created_at);
  dbs_bind_int64(s, b + 1, t->process_id);
  dbs_bind_text_static(s, b + 2, t->flow_task);
  dbs_bind_text_static(s, b + 3, t->type);
  dbs_bind_text_static(s, b + 4, task_status_name(t->status));
  sq_bind_id_or_null(s, b + 5, t->owner_id);
  dbs_bind_text_static(s, b + 6, t->token);
  bind_static_or_null(s, b + 7, t->join_of);
  dbs_bind_text_static(s, b + 8, t->data ? t->data : "{}");
  bind_static_or_null(s, b + 9, t->error_message);
  bind_static_or_null(s, b + 10, t->error_traceback);
  dbs_bind_text_static(s, b + 11, t->created_at);
  bind_static_or_null(s, b + 12, t->assigned_at);
  bind_static_or_null(s, b + 13, t->started_at);
  bind_static_or_null(s, b + 14, t->finished_at);
  bind_static_or_null(s, b + 15, t->due_at);
  dbs_bind_int(s, b + 16, t->attempts);
  sq_bind_id_or_null(s, b + 17, t->id);   /* 0: the next free one */
  bind_static_or_null(s, b + 18, t->event_name);
  /* a signal receiver's key is NULL: message keys are never "" (checked at the doors) */
  bind_static_or_null(s, b + 19, t->event_key);
  sq_bind_id_or_null(s, b + 20, t->guards);
  sq_bind_id_or_null(s, b + 21, t->child_id);
  sq_bind_id_or_null(s, b + 22, t->group_id);
  sq_bind_id_or_null(s, b + 23, prev);
}

/* Two to four tasks that have their ids, in one statement. */
static int insert_tasks(store *st, st_task *const *t, const int64_t *prev, int n, fherr *err) {
  static const int by_count[] = {Q_TASK_INSERT_2, Q_TASK_INSERT_3, Q_TASK_INSERT_4};
  dbs *s = sq_prep(st, by_count[n - 2], err);
  if (!s) return sq_prep_failed(err);
  for (int i = 0; i < n; i++) bind_task_row(s, 23 * i, t[i], prev[i]);
  int rc = dbs_step(s);
  sq_done(s);
  if (rc == DB_CONSTRAINT && dbc_unique_failed(st->cur->db))
    return fherr_set(err, FH_STALE, "a task id of %lld.. is taken", (long long)t[0]->id);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "insert tasks");
  rc = FH_OK;
  for (int i = 0; !rc && i < n; i++) rc = add_participant(st, t[i]->process_id, t[i]->owner_id, err);
  return rc;
}

static int insert_one(store *st, st_task *t, int64_t prev, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_INSERT, err);
  if (!s) return sq_prep_failed(err);
  bind_task_row(s, 0, t, prev);
  int rc = dbs_step(s);
  sq_done(s);   /* before t can change: the texts were bound without a copy */
  if (rc == DB_CONSTRAINT && t->id && dbc_unique_failed(st->cur->db))
    return fherr_set(err, FH_STALE, "task id %lld is taken", (long long)t->id);
  rc = rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "insert task");
  if (!rc && !t->id) t->id = dbc_last_insert_id(st->cur->db);
  if (!rc) rc = add_participant(st, t->process_id, t->owner_id, err);
  return rc;
}

int store_task_insert(store *st, st_task *t, fherr *err) { return insert_one(st, t, 0, err); }

/* A write's new tasks, each with the task it came from first (prev[i],
 * 0: none): by fours while they have ids (an action's always do), else
 * one at a time. */
static int insert_all_tasks(store *st, st_task *const *t, const int64_t *prev, int n, fherr *err) {
  int rc = FH_OK;
  for (int i = 0; !rc && i < n;) {
    int k = 0;
    while (k < 4 && i + k < n && t[i + k]->id) k++;
    if (k >= 2) {
      rc = insert_tasks(st, t + i, prev + i, k, err);
      i += k;
    } else {
      rc = insert_one(st, t[i], prev[i], err);
      i++;
    }
  }
  return rc;
}

int store_task_get(store *st, int64_t id, st_task *out, fherr *err) {
  memset(out, 0, sizeof *out);
  dbs *s = sq_prep(st, Q_TASK_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    read_task(s, out);
    sq_done(s);
    return FH_OK;
  }
  sq_done(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)id);
  return sq_fail(st, err, rc, "get task");
}

int store_task_update(store *st, const st_task *t, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_UPDATE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, t->id);
  dbs_bind_text(s, 2, t->flow_task);
  dbs_bind_text(s, 3, task_status_name(t->status));
  sq_bind_id_or_null(s, 4, t->owner_id);
  dbs_bind_text(s, 5, t->data ? t->data : "{}");
  sq_bind_text_or_null(s, 6, t->error_message);
  sq_bind_text_or_null(s, 7, t->error_traceback);
  sq_bind_text_or_null(s, 8, t->assigned_at);
  sq_bind_text_or_null(s, 9, t->started_at);
  sq_bind_text_or_null(s, 10, t->finished_at);
  sq_bind_text_or_null(s, 11, t->due_at);
  sq_bind_text_or_null(s, 12, t->lease_until);
  dbs_bind_int(s, 13, t->attempts);
  sq_bind_id_or_null(s, 14, t->child_id);
  /* a Lock task's lock (held, released) changes after creation; receivers' keys never do */
  sq_bind_text_or_null(s, 15, t->event_name);
  sq_bind_text_or_null(s, 16, t->event_key);
  int rc = sq_run(st, s, err, "update task");
  if (!rc) rc = add_participant(st, t->process_id, t->owner_id, err);
  return rc;
}

int store_task_add_previous(store *st, int64_t task_id, int64_t previous_id, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_PREV_ADD, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, task_id);
  dbs_bind_int64(s, 2, previous_id);
  return sq_run(st, s, err, "link previous task");
}

int store_task_next_statuses(store *st, int64_t task_id, json_t **out, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_NEXT_STATUS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, task_id);
  return strings_of(st, s, out, err);
}

int store_task_count_active(store *st, int64_t pid, int64_t except_id, int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_ACTIVE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_int64(s, 2, except_id);
  return sq_count(st, s, n, err);
}

int store_task_count_active_prefix(store *st, int64_t pid, const char *prefix, int64_t except_id,
                                   int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_ACTIVE_PREFIX, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_text(s, 2, prefix);
  dbs_bind_int64(s, 3, except_id);
  return sq_count(st, s, n, err);
}

int store_task_find_join(store *st, int64_t pid, const char *flow_task, const char *join_of,
                         int64_t *id, int *waiting, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_FIND_JOIN, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_text(s, 2, flow_task);
  dbs_bind_text(s, 3, join_of);
  *id = 0;
  if (waiting) *waiting = 0;
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *id = dbs_col_int64(s, 0);
    if (waiting) *waiting = dbs_col_int(s, 1);
  }
  sq_done(s);
  if (rc != DB_ROW && rc != DB_DONE) return sq_fail(st, err, rc, "find join");
  return FH_OK;
}

int store_task_waiting_joins(store *st, int64_t pid, json_t **out, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_WAITING_JOINS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  return ids_of(st, s, out, err);
}

int store_task_latest_owner(store *st, int64_t pid, const char *flow_task, int64_t *owner_id, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_LATEST_OWNER, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_text(s, 2, flow_task);
  *owner_id = 0;
  int rc = dbs_step(s);
  if (rc == DB_ROW) *owner_id = dbs_col_int64(s, 0);
  sq_done(s);
  if (rc != DB_ROW && rc != DB_DONE) return sq_fail(st, err, rc, "latest owner");
  return FH_OK;
}

int store_task_count_done_type(store *st, int64_t pid, const char *type, int64_t *n, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_DONE_TYPE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_text(s, 2, type);
  return sq_count(st, s, n, err);
}

/* The rows of s, read into an array first made for cap of them. */
static int task_rows(store *st, dbs *s, int cap, st_task **rows, int *n, fherr *err) {
  int count = 0, rc;
  if (cap < 1) cap = 1;
  st_task *arr = malloc(sizeof *arr * cap);
  if (!arr) {
    sq_done(s);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  while ((rc = dbs_step(s)) == DB_ROW) {
    if (count == cap) {
      st_task *grown = realloc(arr, sizeof *arr * (cap *= 2));
      if (!grown) {
        sq_done(s);
        st_task_array_free(arr, count);
        return fherr_set(err, FH_INTERNAL, "out of memory");
      }
      arr = grown;
    }
    read_task(s, &arr[count++]);
  }
  sq_done(s);
  if (rc != DB_DONE) {
    st_task_array_free(arr, count);
    return sq_fail(st, err, rc, "list tasks");
  }
  *rows = arr;
  *n = count;
  return FH_OK;
}

/* The rows of a statement q that takes a process id. */
static int tasks_of(store *st, int q, int64_t pid, st_task **rows, int *n, fherr *err) {
  dbs *s = sq_prep(st, q, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  return task_rows(st, s, 16, rows, n, err);
}

int store_task_of_process(store *st, int64_t pid, st_task **rows, int *n, fherr *err) {
  return tasks_of(st, Q_TASK_OF_PROCESS, pid, rows, n, err);
}

void sq_drop_preload(store *st) {
  if (st->preload_ids) {   /* ids an action did not need: gone with its lock */
    st->preload_ids = 0;
    dbs_reset(st->own.stmt[Q_MAX_TASK]);
  }
  if (!st->preload_pid) return;
  st->preload_pid = 0;
  dbs_reset(st->own.stmt[Q_PROC_GET_BY_TASK]);   /* their answers, unread, dropped */
  dbs_reset(st->own.stmt[Q_TASK_LIVE_OF_PROCESS_BY_TASK]);
}

/* The process and its tasks, all (live = 0) or the open ones. */
static int process_load(store *st, int64_t pid, int live, st_process *p, st_task **rows, int *n, fherr *err) {
  memset(p, 0, sizeof *p);
  *rows = NULL;
  *n = 0;
  dbs *ps, *ts;
  if (live && st->preload_pid && st->preload_pid == pid && st->cur == &st->own) {
    /* read with the process's lock, in its round trip (store_task_process_lock) */
    st->preload_pid = 0;
    ps = st->own.stmt[Q_PROC_GET_BY_TASK];
    ts = st->own.stmt[Q_TASK_LIVE_OF_PROCESS_BY_TASK];
  } else {
    sq_drop_preload(st);
    ps = sq_prep(st, Q_PROC_GET, err);
    ts = ps ? sq_prep(st, live ? Q_TASK_LIVE_OF_PROCESS : Q_TASK_OF_PROCESS, err) : NULL;
    if (!ts) return sq_prep_failed(err);
    dbs_bind_int64(ps, 1, pid);
    dbs_bind_int64(ts, 1, pid);
    /* PostgreSQL: both in one round trip, the process first (a write since
     * the process was read changes its version, which the action's write
     * checks); a failed send leaves the read to its step */
    dbs_send(ps);
    dbs_send(ts);
  }
  int rc = process_row(st, ps, pid, p, err);
  if (rc) {
    sq_done(ts);
    return rc;
  }
  if ((rc = task_rows(st, ts, 16, rows, n, err))) {   /* on failure nothing is left to free */
    st_process_free(p);
    memset(p, 0, sizeof *p);
  }
  return rc;
}

int store_process_load(store *st, int64_t pid, st_process *p, st_task **rows, int *n, fherr *err) {
  return process_load(st, pid, 0, p, rows, n, err);
}

int store_process_load_live(store *st, int64_t pid, st_process *p, st_task **rows, int *n, fherr *err) {
  return process_load(st, pid, 1, p, rows, n, err);
}

int store_task_ended_of_process(store *st, int64_t pid, st_task **rows, int *n, fherr *err) {
  return tasks_of(st, Q_TASK_ENDED_OF_PROCESS, pid, rows, n, err);
}

int store_task_open_members(store *st, int64_t pid, st_task **rows, int *n, fherr *err) {
  return tasks_of(st, Q_TASK_OPEN_MEMBERS, pid, rows, n, err);
}

int store_task_open_member(store *st, int64_t pid, int64_t id, st_task *out, int *found, fherr *err) {
  memset(out, 0, sizeof *out);
  *found = 0;
  dbs *s = sq_prep(st, Q_TASK_OPEN_MEMBER, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_int64(s, 2, id);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    read_task(s, out);
    *found = 1;
  }
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "get an instance");
}

int store_group_count(store *st, int64_t pid, int64_t group_id, int64_t *active, int64_t *done, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_GROUP_COUNT, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  dbs_bind_int64(s, 2, group_id);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *active = dbs_col_int64(s, 0);
    *done = dbs_col_int64(s, 1);
  }
  sq_done(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count a group");
}

/* Appends id to the row's "previous" text ("3" -> "3,4"). */
static int previous_append(st_task *t, int64_t id) {
  size_t used = t->previous ? strlen(t->previous) : 0;
  char *grown = realloc(t->previous, used + 24);
  if (!grown) return -1;
  if (used) grown[used++] = ',';
  char digits[24];
  int i = sizeof digits;
  uint64_t u = id < 0 ? 0 - (uint64_t)id : (uint64_t)id;
  do digits[--i] = (char)('0' + u % 10); while (u /= 10);
  if (id < 0) digits[--i] = '-';
  memcpy(grown + used, digits + i, sizeof digits - (size_t)i);
  grown[used + sizeof digits - (size_t)i] = '\0';
  t->previous = grown;
  return 0;
}

typedef struct row_ref {
  int64_t id;
  int index;
} row_ref;

static int by_id(const void *a, const void *b) {
  int64_t x = ((const row_ref *)a)->id, y = ((const row_ref *)b)->id;
  return x < y ? -1 : x > y;
}

/* Whether a list row's first link (task.prev_id, read with the row) may
 * not be all of its "previous": task_previous holds further links only of
 * a join (its later arrivals, arrive_at_join) and of tasks made before
 * migration 13, whose prev_id is NULL.  Every other task is made with its
 * one link in its own row (split_links), so a page of human tasks is
 * complete without a second statement. */
static int links_elsewhere(const st_task *t) { return t->join_of[0] || !t->previous; }

/* The whole "previous" of the page's rows that may have more than their
 * first link, in one statement for all of them (one correlated subquery
 * per row cost as much as the rest of the row).  The answer comes in task
 * id order; those rows, sorted by id aside, are walked along with it. */
static int list_previous(store *st, st_task *rows, int n, fherr *err) {
  int m = 0;
  for (int i = 0; i < n; i++) m += links_elsewhere(&rows[i]);
  if (m == 0) return FH_OK;
  char *ids = malloc((size_t)m * 21 + 2);
  row_ref *order = malloc(sizeof *order * (size_t)m);
  dbs *s = ids && order ? sq_prep(st, Q_LIST_PREVIOUS, err) : NULL;
  if (!s) {
    free(ids);
    free(order);
    return ids && order ? FH_INTERNAL : fherr_set(err, FH_INTERNAL, "out of memory");
  }
  m = 0;
  for (int i = 0; i < n; i++)
    if (links_elsewhere(&rows[i])) {
      free(rows[i].previous);   /* read again, with the others */
      rows[i].previous = NULL;
      order[m++] = (row_ref){rows[i].id, i};
    }
  qsort(order, (size_t)m, sizeof *order, by_id);
  ids_json(ids, &order[0].id, sizeof *order, m);
  dbs_bind_text(s, 1, ids);
  int rc, at = 0, oom = 0;
  while ((rc = dbs_step(s)) == DB_ROW) {
    int64_t task_id = dbs_col_int64(s, 0);
    while (at < m - 1 && order[at].id < task_id) at++;
    if (order[at].id == task_id) oom |= previous_append(&rows[order[at].index], dbs_col_int64(s, 1));
  }
  sq_done(s);
  free(ids);
  free(order);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "list previous tasks");
  return oom ? fherr_set(err, FH_INTERNAL, "out of memory") : FH_OK;
}

/* The slot of flows_json in flows_many if counted to have many processes
 * within STATUS_FEW_KEEP seconds; else NULL. */
static int flows_known_many(store *st, const char *flows_json, double now) {
  for (int i = 0; i < FLOWS_MANY_KEPT; i++)
    if (st->flows_many[i].flows && now - st->flows_many[i].at < STATUS_FEW_KEEP &&
        !strcmp(st->flows_many[i].flows, flows_json))
      return 1;
  return 0;
}

/* Remembers that flows_json has many processes, in a free or the oldest slot. */
static void flows_keep_many(store *st, const char *flows_json, double now) {
  int k = 0;
  for (int i = 1; i < FLOWS_MANY_KEPT && st->flows_many[k].flows; i++)
    if (!st->flows_many[i].flows || st->flows_many[i].at < st->flows_many[k].at) k = i;
  char *copy = strdup(flows_json);
  if (!copy) return;
  free(st->flows_many[k].flows);
  st->flows_many[k].flows = copy;
  st->flows_many[k].at = now;
}

void sq_forget_flows_many(store *st) {
  for (int i = 0; i < FLOWS_MANY_KEPT; i++) {
    free(st->flows_many[i].flows);
    st->flows_many[i].flows = NULL;
  }
}

/* Whether the flows of the JSON array have few processes between them
 * (Q_PROC_COUNT_FLOWS; "many" is kept a while, struct store's flows_many:
 * counting up to ALL_FEW took 0.5 ms of a manager's page of 1.9 at
 * 1,000,000 processes on PostgreSQL): fewer than ALL_FEW, and few enough
 * that reading all their tasks costs less than the walk, which reads about
 * the table's tasks over theirs for each of a page's rows: n * n under
 * STORE_PAGE_ROWS times the tasks (the last id), as status_is_few weighs
 * a status (with a process's tasks counted as one, which leans to reading
 * them).  Where the flows are most of a small table the walk finds a page
 * at once: a manager of the one flow of 1,000 processes read its 2,000
 * tasks and sorted them, 5.3 ms on PostgreSQL and 1.4 on SQLite, against
 * 0.4 and 0.1 at 10,000 (bench/README.md, section 46).  *none: the flows
 * have no process at all. */
static int flows_have_few(store *st, const char *flows_json, int *few, int *none, fherr *err) {
  double now = fhtime_monotonic();
  *none = 0;
  if (flows_known_many(st, flows_json, now)) {
    *few = 0;
    return FH_OK;
  }
  dbs *s = sq_prep(st, Q_PROC_COUNT_FLOWS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flows_json);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    int64_t n = dbs_col_int64(s, 0), tasks = dbs_col_int64(s, 1);
    *none = n == 0;   /* (few, and no page to read: never kept as many) */
    *few = *none || (n < ALL_FEW && n * n < (int64_t)STORE_PAGE_ROWS * tasks);
  }
  sq_done(s);
  if (rc == DB_ROW && !*few) flows_keep_many(st, flows_json, now);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count the flows' processes");
}

/* Whether few tasks have the status, NEW or ASSIGNED (Q_TASK_COUNT_STATUS,
 * kept STATUS_FEW_KEEP seconds): fewer than STATUS_FEW, and few enough
 * that sorting all n of them costs less than the walk, which reads about
 * the table's tasks over n for each of a page's rows: n * n under
 * STORE_PAGE_ROWS times the tasks (the last id: ids only grow).  Where
 * 9,000 of 20,000 tasks were NEW, sorting them took 3 ms, the walk 0.2. */
static int status_is_few(store *st, const char *status, int *few, fherr *err) {
  int i = !strcmp(status, "ASSIGNED");
  double now = fhtime_monotonic();
  if (st->status_few[i].at > 0 && now - st->status_few[i].at < STATUS_FEW_KEEP) {
    *few = st->status_few[i].few;
    return FH_OK;
  }
  dbs *s = sq_prep(st, Q_TASK_COUNT_STATUS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, status);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    int64_t n = dbs_col_int64(s, 0), tasks = dbs_col_int64(s, 1);
    *few = st->status_few[i].few = n < STATUS_FEW && n * n < (int64_t)STORE_PAGE_ROWS * tasks;
    st->status_few[i].at = now;
  }
  sq_done(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count the tasks of a status");
}

/* Whether a date range holds fewer than CREATED_FEW tasks (both
 * backends): which is Q_TASK_COUNT_CREATED (the tasks of people created
 * from `from` until `to`: then the page reads them from task_created) or
 * Q_TASK_COUNT_FINISHED (*user's tasks finished then: from
 * task_owner_finished); else the page walks the view, which finds a page
 * soon where the range holds many of the view's tasks. */
static int range_count(store *st, int which, const int64_t *user, const char *from, const char *to, int64_t *count,
                       fherr *err) {
  dbs *s = sq_prep(st, which, err);
  if (!s) return sq_prep_failed(err);
  int at = 1;
  if (user) dbs_bind_int64(s, at++, *user);
  sq_bind_text_or_null(s, at++, from);
  sq_bind_text_or_null(s, at, to);
  int rc = dbs_step(s);
  if (rc == DB_ROW) *count = dbs_col_int64(s, 0);
  sq_done(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count the tasks of a date range");
}

static int range_is_few(store *st, int which, const int64_t *user, const char *from, const char *to, int *few,
                        fherr *err) {
  int64_t count = 0;
  int rc = range_count(st, which, user, from, to, &count, err);
  *few = count < CREATED_FEW;
  return rc;
}

/* No filter but the flow and the status (the node-by-node and the
 * status reads test only those inside their index ranges). */
static int filters_flow_status_only(const store_task_query *q) {
  return !q->nfilters && !q->process_id && !q->since && !q->until && !q->finished_since && !q->finished_until;
}

/* The user's nodes that hold queued tasks, counted up to two: *count 0, 1
 * (its name in *node, the caller's to free) or 2 (two or more). */
static int queued_nodes(store *st, const char *assignable, char **node, int *count, fherr *err) {
  *node = NULL;
  *count = 0;
  dbs *s = sq_prep(st, Q_QUEUED_NODES_TWO, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 3, assignable ? assignable : "[]");
  int rc, lost = 0;
  while ((rc = dbs_step(s)) == DB_ROW)
    if (++*count == 1) lost = !(*node = strdup(dbs_col_text(s, 0)));
  sq_done(s);
  if (rc == DB_DONE && !lost) return FH_OK;
  free(*node);
  *node = NULL;
  return lost ? fherr_set(err, FH_INTERNAL, "out of memory") : sq_fail(st, err, rc, "find the queued nodes");
}

/* A status of task_rare's (TASK_RARE). */
static int task_status_rare(const char *status) {
  return !strcmp(status, "STARTED") || !strcmp(status, "SCHEDULED") || !strcmp(status, "ERROR") ||
         !strcmp(status, "REVIVED") || !strcmp(status, "CANCELED");
}

/* The previous tasks of a page's rows (list_previous); on a failure the
 * page is freed and left empty. */
static int list_previous_or_free(store *st, st_task **rows, int *n, fherr *err) {
  int rc = list_previous(st, *rows, *n, err);
  if (rc) {
    st_task_array_free(*rows, *n);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}

/* A list statement's parameters ?1-?13 from q (a statement reads those
 * it names; the others are bound and unread), rows: the page's size. */
static void bind_list(dbs *s, const store_task_query *q, int rows) {
  sq_bind_text_or_null(s, 1, q->user_name);
  dbs_bind_int64(s, 2, q->user_id);
  dbs_bind_text(s, 3, q->assignable_json ? q->assignable_json : "[]");
  sq_bind_text_or_null(s, 4, q->managed_flows_json);
  sq_bind_text_or_null(s, 5, q->flow);
  sq_bind_id_or_null(s, 6, q->process_id);
  sq_bind_text_or_null(s, 7, q->status);
  sq_bind_text_or_null(s, 8, q->since);
  sq_bind_text_or_null(s, 9, q->until);
  sq_bind_id_or_null(s, 10, q->after);
  dbs_bind_int(s, 11, rows);
  sq_bind_text_or_null(s, 12, q->finished_since);
  sq_bind_text_or_null(s, 13, q->finished_until);
}

/* The page of q (STORE_PAGE_ROWS rows) from the front of its view (which:
 * a Q_LIST_*_FRONT; node: SQLite's queue's one node): *full when the
 * front filled it, the page in *rows then (without its previous tasks);
 * else nothing is kept. */
static int front_page(store *st, const store_task_query *q, int which, const char *node, st_task **rows, int *n,
                      int *full, fherr *err) {
  *full = 0;
  dbs *s = sq_prep(st, which, err);
  if (!s) return sq_prep_failed(err);
  bind_list(s, q, STORE_PAGE_ROWS);
  if (node) dbs_bind_text(s, 14, node);
  int rc = task_rows(st, s, STORE_PAGE_ROWS, rows, n, err);
  if (rc) return rc;
  if (*n == STORE_PAGE_ROWS) {
    *full = 1;
    return FH_OK;
  }
  st_task_array_free(*rows, *n);
  *rows = NULL;
  *n = 0;
  return FH_OK;
}

int store_task_list(store *st, const store_task_query *q, st_task **rows, int *n, fherr *err) {
  static const int by_view[4][5] = {
      {Q_LIST_INBOX, Q_LIST_INBOX_ASC, Q_LIST_INBOX_DUE, Q_LIST_INBOX_FIN, Q_LIST_INBOX_FIN_ASC},
      {Q_LIST_QUEUE, Q_LIST_QUEUE_ASC, Q_LIST_QUEUE_DUE, Q_LIST_QUEUE_FIN, Q_LIST_QUEUE_FIN_ASC},
      {Q_LIST_ARCHIVE, Q_LIST_ARCHIVE_ASC, Q_LIST_ARCHIVE_DUE, Q_LIST_ARCHIVE_FIN, Q_LIST_ARCHIVE_FIN_ASC},
      {Q_LIST_ALL, Q_LIST_ALL_ASC, Q_LIST_ALL_DUE, Q_LIST_ALL_FIN, Q_LIST_ALL_FIN_ASC}};
  if (q->view < 0 || q->view > 3) return fherr_set(err, FH_BAD_REQUEST, "unknown task view");
  int order = q->by_due ? 2 : q->by_finished ? 3 + (q->ascending != 0) : q->ascending ? 1 : 0;
  int which = by_view[q->view][order];
  int pg = st->cur->db->kind == DB_KIND_PG;
  int filtered = q->flow || q->process_id || q->status || q->since || q->until || q->finished_since || q->finished_until;
  /* the queue in id order node by node (Q_LIST_QUEUE_NODES), filters
   * inside each node; with data.* filters (appended to the whole
   * statement by sq_prep_filtered) the walk */
  if (q->view == STORE_VIEW_QUEUE && order < 2 && !q->nfilters) {
    which = order ? Q_LIST_QUEUE_NODES_ASC : Q_LIST_QUEUE_NODES;
    if (filtered && !pg)   /* PostgreSQL: the twin (store_pg_list_filtered) */
      which = order ? Q_LIST_QUEUE_NODES_FILTERED_ASC : Q_LIST_QUEUE_NODES_FILTERED;
  }
  /* SQLite: the queue of a user whose queued tasks are of one node (or
   * none) from that node's range alone (Q_LIST_QUEUE_ONE) */
  char *one_node = NULL;
  if (!pg && (which == Q_LIST_QUEUE_NODES || which == Q_LIST_QUEUE_NODES_ASC || which == Q_LIST_QUEUE_NODES_FILTERED ||
              which == Q_LIST_QUEUE_NODES_FILTERED_ASC)) {
    int nodes;
    int rc = queued_nodes(st, q->assignable_json, &one_node, &nodes, err);
    if (rc) return rc;
    if (nodes < 2)
      which = which == Q_LIST_QUEUE_NODES       ? Q_LIST_QUEUE_ONE
              : which == Q_LIST_QUEUE_NODES_ASC ? Q_LIST_QUEUE_ONE_ASC
              : which == Q_LIST_QUEUE_NODES_FILTERED ? Q_LIST_QUEUE_ONE_FILTERED
                                                     : Q_LIST_QUEUE_ONE_FILTERED_ASC;
  }
  /* the inbox of one flow node by node (Q_LIST_INBOX_FLOW); with other
   * filters than the status, the walk */
  if (q->view == STORE_VIEW_INBOX && order < 2 && q->flow && filters_flow_status_only(q))
    which = order ? Q_LIST_INBOX_FLOW_ASC : Q_LIST_INBOX_FLOW;
  /* the inbox and the queue by due date in two parts (DUE_PARTS), filters
   * inside each; with data.* filters sorted whole */
  if (order == 2 && !q->nfilters && (q->view == STORE_VIEW_INBOX || q->view == STORE_VIEW_QUEUE))
    which = q->view == STORE_VIEW_INBOX ? Q_LIST_INBOX_DUE_PARTS : Q_LIST_QUEUE_DUE_PARTS;
  /* the archive by finished_at, the same way (FIN_PARTS), and in id order
   * one part per status (ARCHIVE_PARTS; PostgreSQL: without filters, the
   * filtered twin is planned for its values) */
  if (order >= 3 && !q->nfilters && q->view == STORE_VIEW_ARCHIVE)
    which = order == 3 ? Q_LIST_ARCHIVE_FIN_PARTS : Q_LIST_ARCHIVE_FIN_PARTS_ASC;
  if (order < 2 && !q->nfilters && q->view == STORE_VIEW_ARCHIVE && !(filtered && pg))
    which = order ? Q_LIST_ARCHIVE_PARTS_ASC : Q_LIST_ARCHIVE_PARTS;
  /* the archive of one flow node by node (Q_LIST_ARCHIVE_FLOW); with
   * other filters, the status included (not in task_owner_flow), the walk */
  if (q->view == STORE_VIEW_ARCHIVE && order < 2 && q->flow && !q->status && filters_flow_status_only(q))
    which = order ? Q_LIST_ARCHIVE_FLOW_ASC : Q_LIST_ARCHIVE_FLOW;
  /* the inbox, the queue and the archive with a date filter from
   * task_created when the range holds few tasks of people (on PostgreSQL
   * too: its planner, left to choose, mixed the view's indexes in on poor
   * guesses, store_sql_pg.c's DATE_RANGE); with data.* filters or a
   * process (whose tasks are few), as before */
  int by_date = 0, may_range = order < 2 && !q->nfilters && !q->process_id;
  int rows_wanted = q->limit > 0 ? q->limit : STORE_PAGE_DEFAULT;
  /* ... but the inbox and the archive of the default page size newest
   * first since a date (oldest first until one; the archive's finished
   * range too), with no other filter, first from the front of the view
   * (FRONT_ROWS), which usually holds the page */
  /* (small_range: the front's range holds less than a page of tasks,
   * which makes it few without counting it again below) */
  int small_range = 0;
  int by_created = (order ? q->until && !q->since : q->since && !q->until) && !q->finished_since && !q->finished_until;
  int by_finished = q->view == STORE_VIEW_ARCHIVE && !q->since && !q->until &&
                    (order ? q->finished_until && !q->finished_since : q->finished_since && !q->finished_until);
  if (may_range &&
      (q->view == STORE_VIEW_INBOX || q->view == STORE_VIEW_ARCHIVE || (q->view == STORE_VIEW_QUEUE && (pg || one_node))) &&
      rows_wanted == STORE_PAGE_ROWS && (by_created || by_finished) && !q->flow && !q->status) {
    static const int fronts[3][2] = {{Q_LIST_INBOX_FRONT, Q_LIST_INBOX_FRONT_ASC},
                                     {Q_LIST_QUEUE_FRONT, Q_LIST_QUEUE_FRONT_ASC},
                                     {Q_LIST_ARCHIVE_FRONT, Q_LIST_ARCHIVE_FRONT_ASC}};
    int full = 0, front = by_finished ? (order ? Q_LIST_ARCHIVE_FRONT_FIN_ASC : Q_LIST_ARCHIVE_FRONT_FIN)
                                      : fronts[q->view][order];
    /* (not where the range holds less than a page of tasks of people,
     * found from at most a page of its entries: no front can fill a page
     * then, and a front that does not fill one costs more than the range) */
    int64_t in_range = 0;
    int rc = by_finished ? range_count(st, Q_TASK_PAGE_FINISHED, &q->user_id, q->finished_since, q->finished_until,
                                       &in_range, err)
                         : range_count(st, Q_TASK_PAGE_CREATED, NULL, q->since, q->until, &in_range, err);
    small_range = !rc && in_range < STORE_PAGE_ROWS;
    if (!rc && !small_range) rc = front_page(st, q, front, one_node, rows, n, &full, err);
    if (rc || full) {
      free(one_node);
      return rc ? FH_INTERNAL : list_previous_or_free(st, rows, n, err);
    }
  }
  if (may_range && q->view != STORE_VIEW_ALL && (q->since || q->until)) {
    by_date = small_range;
    if (!by_date && range_is_few(st, Q_TASK_COUNT_CREATED, NULL, q->since, q->until, &by_date, err)) {
      free(one_node);
      return FH_INTERNAL;
    }
    if (by_date) {
      static const int by_date_view[3][2] = {{Q_LIST_INBOX_DATE, Q_LIST_INBOX_DATE_ASC},
                                             {Q_LIST_QUEUE_DATE, Q_LIST_QUEUE_DATE_ASC},
                                             {Q_LIST_ARCHIVE_DATE, Q_LIST_ARCHIVE_DATE_ASC}};
      which = by_date_view[q->view][order];
    }
  }
  /* the archive with finished_since or finished_until the same way, from
   * the user's range of task_owner_finished */
  if (may_range && !by_date && q->view == STORE_VIEW_ARCHIVE && (q->finished_since || q->finished_until)) {
    by_date = small_range;
    if (!by_date &&
        range_is_few(st, Q_TASK_COUNT_FINISHED, &q->user_id, q->finished_since, q->finished_until, &by_date, err))
      return FH_INTERNAL;
    if (by_date) which = order ? Q_LIST_ARCHIVE_FINISHED_ASC : Q_LIST_ARCHIVE_FINISHED;
  }
  /* all tasks of a rare status from task_rare (PostgreSQL's twin, planned
   * for its values, takes that index itself) */
  if (!pg && q->view == STORE_VIEW_ALL && order < 2 && q->status && task_status_rare(q->status))
    which = order ? Q_LIST_ALL_RARE_ASC : Q_LIST_ALL_RARE;
  /* all tasks of a few processes' flows through those processes
   * (Q_LIST_ALL_FEW); the flows: the one asked for, or a manager's */
  char *one_flow = NULL;   /* the flow asked for, as a JSON array */
  const char *few = NULL;
  if (q->view == STORE_VIEW_ALL && order < 2 && !q->nfilters && !q->process_id &&
      (which == Q_LIST_ALL || which == Q_LIST_ALL_ASC)) {
    if (q->flow) {
      json_t *one = json_pack("[s]", q->flow);
      few = one_flow = one ? json_dumps(one, JSON_COMPACT) : NULL;
      json_decref(one);
    } else {
      few = q->managed_flows_json;
    }
    int is_few = 0, none = 0;
    if (few && flows_have_few(st, few, &is_few, &none, err)) {
      free(one_flow);
      return FH_INTERNAL;
    }
    /* flows without a process have no task: the page is empty as of the
     * count (a manager of a flow nobody started yet; on PostgreSQL the
     * page's statement took 1.1 ms on a small database) */
    if (few && none) {
      free(one_flow);
      *n = 0;
      if (!(*rows = malloc(sizeof **rows))) return fherr_set(err, FH_INTERNAL, "out of memory");
      return FH_OK;
    }
    if (few && is_few) which = order ? Q_LIST_ALL_FEW_ASC : Q_LIST_ALL_FEW;
    else few = NULL;
  }
  /* all tasks of an unfinished status (Q_LIST_ALL_STATUS): on SQLite
   * when few tasks have it, from task_status; on PostgreSQL always, one
   * entry of task_open after another (prepared, any page size); with
   * other filters than the flow, the walk */
  int by_status = 0;
  if (q->status && (!strcmp(q->status, "NEW") || !strcmp(q->status, "ASSIGNED")) &&
      (which == Q_LIST_ALL || which == Q_LIST_ALL_ASC) && filters_flow_status_only(q)) {
    by_status = pg;
    if (!pg && status_is_few(st, q->status, &by_status, err)) {
      free(one_flow);
      return FH_INTERNAL;
    }
    if (by_status) which = order ? Q_LIST_ALL_STATUS_ASC : Q_LIST_ALL_STATUS;
    /* (SQLite: NEW node by node, Q_LIST_ALL_NEW_NODES) */
    if (by_status && !pg && !strcmp(q->status, "NEW")) which = order ? Q_LIST_ALL_NEW_NODES_ASC : Q_LIST_ALL_NEW_NODES;
  }
  /* PostgreSQL: the inbox's pages after one have prepared statements of
   * their own (store_sql_pg.c's INBOX_IDS) */
  if (pg && q->after && !filtered && !q->nfilters && rows_wanted == STORE_PAGE_ROWS && q->view == STORE_VIEW_INBOX &&
      order < 2)
    which = order ? Q_LIST_INBOX_NEXT_ASC : Q_LIST_INBOX_NEXT;
  /* PostgreSQL: the prepared statements are the pages of the default
   * size without filters (what the inbox and the queue show); a page with
   * filters or of another size runs its twin unnamed, planned for its
   * parameters (store_pg_list_filtered), and so does a page after another
   * but for the queue node by node, the due parts (they start after ?10 in
   * a form the plan for all values keeps: store_sql_pg.c's AFTER_ROW,
   * BOUND_SET), the archive's parts and the inbox's own (INBOX_IDS) */
  /* (the inbox and the archive of one flow: prepared when the flow is the
   * only filter, store_sql_pg.c's NODES_PAGE_KEPT) */
  int flow_page = which == Q_LIST_INBOX_FLOW || which == Q_LIST_INBOX_FLOW_ASC || which == Q_LIST_ARCHIVE_FLOW ||
                  which == Q_LIST_ARCHIVE_FLOW_ASC;
  int after_kept = flow_page || which == Q_LIST_INBOX_DUE_PARTS || which == Q_LIST_QUEUE_DUE_PARTS ||
                   which == Q_LIST_ARCHIVE_FIN_PARTS || which == Q_LIST_ARCHIVE_FIN_PARTS_ASC ||
                   which == Q_LIST_QUEUE_NODES || which == Q_LIST_QUEUE_NODES_ASC || which == Q_LIST_INBOX_NEXT ||
                   which == Q_LIST_INBOX_NEXT_ASC || which == Q_LIST_ARCHIVE_PARTS || which == Q_LIST_ARCHIVE_PARTS_ASC;
  /* (a page of a few processes' flows, of a status or of a date range:
   * its own text, planned for its values on PostgreSQL, but a page of the
   * default size whose only filter is the date range, prepared:
   * store_sql_pg.c's DATE_LIST) */
  int created_page = which == Q_LIST_INBOX_DATE || which == Q_LIST_INBOX_DATE_ASC || which == Q_LIST_QUEUE_DATE ||
                     which == Q_LIST_QUEUE_DATE_ASC || which == Q_LIST_ARCHIVE_DATE || which == Q_LIST_ARCHIVE_DATE_ASC;
  int finished_page = which == Q_LIST_ARCHIVE_FINISHED || which == Q_LIST_ARCHIVE_FINISHED_ASC;
  int date_page = created_page || finished_page;
  int date_kept = date_page && !q->flow && !q->status && rows_wanted == STORE_PAGE_ROWS &&
                  (finished_page ? !q->since && !q->until : !q->finished_since && !q->finished_until);
  int own_text = few || by_status || (by_date && !date_kept);
  int pg_filtered = pg && !own_text && !date_kept &&
                    ((flow_page ? q->status != NULL : filtered) || q->nfilters || (q->after && !after_kept) ||
                     rows_wanted != STORE_PAGE_ROWS);
  /* (the pages of a status, and of a few processes' flows of the default
   * size, are prepared on PostgreSQL too: planning them took 0.5-0.9 ms,
   * most of such a page; store_sql_pg.c's Q_LIST_ALL_STATUS, Q_LIST_ALL_FEW) */
  int few_kept = few && rows_wanted == STORE_PAGE_ROWS;
  const char *text = pg_filtered || (pg && date_page && !date_kept) || (pg && few && !few_kept)
                         ? store_pg_list_filtered(which)
                         : store_sql_text(st, which);
  int once = q->nfilters || pg_filtered || (pg && own_text && !by_status && !few_kept);
  dbs *s = q->nfilters ? sq_prep_filtered(st, text, "t.process_id", q->filters, q->nfilters, err)
           : once      ? sq_prepare_once(st, text, "list tasks", err)
                       : sq_prep(st, which, err);
  if (!s) {
    free(one_flow);
    return FH_INTERNAL;
  }
  bind_list(s, q, rows_wanted);
  if (few) dbs_bind_text(s, 14, few);   /* (copied: one_flow is freed now) */
  if (which >= Q_LIST_QUEUE_ONE && which <= Q_LIST_QUEUE_ONE_FILTERED_ASC) sq_bind_text_or_null(s, 14, one_node);
  free(one_flow);
  free(one_node);
  int rc = task_rows(st, s, rows_wanted < 1000 ? rows_wanted : 1000, rows, n, err);   /* (LIMIT ?11) */
  if (once) dbs_finalize(s);
  return rc ? rc : list_previous_or_free(st, rows, n, err);
}

int store_task_count_view(store *st, const store_task_query *q, int64_t *n, fherr *err) {
  if (q->view != STORE_VIEW_INBOX && q->view != STORE_VIEW_QUEUE)
    return fherr_set(err, FH_BAD_REQUEST, "only inbox and queue are counted");
  dbs *s = sq_prep(st, q->view == STORE_VIEW_INBOX ? Q_COUNT_INBOX : Q_COUNT_QUEUE, err);
  if (!s) return sq_prep_failed(err);
  if (q->view == STORE_VIEW_INBOX) dbs_bind_int64(s, 2, q->user_id);
  else dbs_bind_text(s, 3, q->assignable_json ? q->assignable_json : "[]");
  dbs_bind_int(s, 11, q->limit > 0 ? q->limit : -1);   /* the cap: *n stops there */
  return sq_count(st, s, n, err);
}

/* id 0: the next due task; else that one, if due and free. */
static int claim_due(store *st, int64_t id, const char *now, const char *lease_owner, const char *lease_until,
                     st_task *out, fherr *err) {
  dbs *s = sq_prep(st, id ? Q_TASK_CLAIM_ID : Q_TASK_CLAIM, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, now);
  if (id) dbs_bind_int64(s, 2, id);
  int rc = dbs_step(s);
  if (rc != DB_ROW) {
    sq_done(s);
    if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "no job is due");
    return sq_fail(st, err, rc, "claim job");
  }
  read_task(s, out);
  sq_done(s);
  if (out->lease_until[0]) metrics_job_lease_expired();   /* an earlier worker's lease ran out */
  dbs *u = sq_prep(st, Q_TASK_LEASE, err);
  if (!u) {
    st_task_free(out);
    return FH_INTERNAL;
  }
  dbs_bind_int64(u, 1, out->id);
  dbs_bind_text(u, 2, lease_owner);
  dbs_bind_text(u, 3, lease_until);
  if ((rc = sq_run(st, u, err, "claim job"))) {
    st_task_free(out);
    return rc;
  }
  snprintf(out->lease_until, sizeof out->lease_until, "%s", lease_until);
  snprintf(out->lease_owner, sizeof out->lease_owner, "%s", lease_owner);
  return FH_OK;
}

int store_task_claim_due(store *st, const char *now, const char *lease_owner, const char *lease_until,
                         st_task *out, fherr *err) {
  return store_task_claim_id(st, 0, now, lease_owner, lease_until, out, err);
}

int store_task_claim_id(store *st, int64_t id, const char *now, const char *lease_owner, const char *lease_until,
                        st_task *out, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  if ((rc = claim_due(st, id, now, lease_owner, lease_until, out, err))) {
    store_rollback(st);
    return rc;
  }
  if ((rc = store_commit(st, err))) st_task_free(out);
  return rc;
}

int store_task_lease(store *st, int64_t task_id, const char *lease_owner, const char *lease_until, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *u = sq_prep(st, Q_TASK_LEASE, err);
  if (!u) rc = FH_INTERNAL;
  else {
    dbs_bind_int64(u, 1, task_id);
    dbs_bind_text(u, 2, lease_owner);
    dbs_bind_text(u, 3, lease_until);
    rc = sq_run(st, u, err, "lease job");
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_task_next_due(store *st, const char *now, double *seconds, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_NEXT_DUE, err);
  if (!s) return sq_prep_failed(err);
  int rc = dbs_step(s);
  *seconds = -1;
  if (rc == DB_ROW && dbs_col_type(s, 0) != DB_NULL) {
    double due = fhtime_parse((const char *)dbs_col_text(s, 0));
    double cur = fhtime_parse(now);
    *seconds = due < 0 ? 0 : (due - cur > 0 ? due - cur : 0);
  }
  sq_done(s);
  if (rc != DB_ROW && rc != DB_DONE) return sq_fail(st, err, rc, "next due");
  return FH_OK;
}

int store_rename_flow_task(store *st, const char *from, const char *to, int64_t *changed, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *b = sq_prep(st, Q_RENAME_BUMP, err);   /* actions in flight on them start over */
  if (!b) rc = FH_INTERNAL;
  else {
    dbs_bind_text(b, 1, from);
    rc = sq_run(st, b, err, "rename node");
  }
  dbs *s = rc ? NULL : sq_prep(st, Q_RENAME, err);
  if (!rc && !s) rc = FH_INTERNAL;
  if (!rc) {
    dbs_bind_text(s, 1, from);
    dbs_bind_text(s, 2, to);
    rc = sq_run(st, s, err, "rename node");
    if (!rc && changed) *changed = dbc_changes(st->cur->db);
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

/* --- the short write of an action ------------------------------------- */

int store_task_process(store *st, int64_t task_id, int64_t *process_id, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_PROCESS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, task_id);
  int rc = dbs_step(s);
  if (rc == DB_ROW) *process_id = dbs_col_int64(s, 0);
  sq_done(s);
  if (rc == DB_ROW) return FH_OK;
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
  return sq_fail(st, err, rc, "get task");
}

static id_seq *seq_of(store *st) { return st->w ? &st->w->ids : &st->ids; }

/* Raises the sequence past the largest id in the database (read on this
 * store's own connection, which sees every commit). */
static int seed_ids(store *st, id_seq *seq, int kind, fherr *err) {
  dbs *s = sq_prep(st, kind == STORE_ID_TASK ? Q_MAX_TASK : Q_MAX_PROCESS, err);
  if (!s) return sq_prep_failed(err);
  int64_t max = 0;
  int rc = sq_count(st, s, &max, err);
  if (!rc && seq->next[kind] <= max) seq->next[kind] = max + 1;
  return rc;
}

/* PostgreSQL: every id is the sequence's nextval (Q_MAX_* are that in
 * STORE_SQL_PG): a counter of this process, seeded from max(id), would hand
 * out the ids another host hands out too.  One round trip per id cost an
 * all-automatic start five; now an action takes PG_ID_BLOCK task ids at
 * once (a start with its process id), and its write drops the ones it did
 * not use (sq_drop_ids_pg): ids still follow the order in which actions took
 * them, as with one nextval each, with gaps.  Fills st->task_ids (if it was
 * used up) and *process_id (if asked for). */
static int take_ids_pg(store *st, int q, int64_t *process_id, fherr *err) {
  pg_ids *ids = &st->task_ids;
  int more = q == Q_MAX_TASK && ids->blocks > 0 ? (ids->blocks > 1 ? PG_ID_BLOCK_MAX : 8 * PG_ID_BLOCK) : 0;
  dbs *s = sq_prep(st, more ? Q_TASK_IDS_MORE : q, err);
  if (!s) return sq_prep_failed(err);
  if (more) dbs_bind_int(s, 1, more);
  int keep = ids->next == ids->n;   /* a subprocess's start keeps its parent's block */
  if (keep) ids->n = ids->next = 0;
  int rc, row = 0;
  while ((rc = dbs_step(s)) == DB_ROW) {
    if (process_id && row++ == 0) *process_id = dbs_col_int64(s, 0);
    if (keep && ids->n < PG_ID_BLOCK_MAX) ids->id[ids->n++] = dbs_col_int64(s, process_id ? 1 : 0);
  }
  if (keep) ids->blocks++;
  sq_done(s);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "take ids");
  if ((process_id && *process_id <= 0) || ids->n == 0) return fherr_set(err, FH_INTERNAL, "the sequence gave no id");
  return FH_OK;
}

static int next_id_pg(store *st, store_id_kind kind, int64_t *id, fherr *err) {
  if (kind == STORE_ID_PROCESS) return take_ids_pg(st, Q_MAX_PROCESS, id, err);
  pg_ids *ids = &st->task_ids;
  /* the block taken with the process's lock, if any, is Q_MAX_TASK's answer */
  if (ids->next == ids->n) st->preload_ids = 0;
  int rc = ids->next < ids->n ? FH_OK : take_ids_pg(st, Q_MAX_TASK, NULL, err);
  if (!rc) *id = ids->id[ids->next++];
  return rc;
}

/* The write of an action begins: it took every id it writes before (the
 * engine computes the rows first), so the rest of its block is dropped, and
 * a later action never writes an id older than another action's (see
 * take_ids_pg).  An action on a process also drops what is left when it
 * takes the process's lock (store_lock.c): one that ended without a write
 * (a flow error, a refused input) left its block, which another engine's
 * actions on some other process may have overtaken since. */
void sq_drop_ids_pg(store *st) { st->task_ids.n = st->task_ids.next = st->task_ids.blocks = 0; }

int store_next_id(store *st, store_id_kind kind, int64_t *id, fherr *err) {
  if (st->cur->db->kind == DB_KIND_PG) return next_id_pg(st, kind, id, err);
  id_seq *seq = seq_of(st);
  pthread_mutex_lock(&seq->mu);
  int rc = seq->next[kind] ? FH_OK : seed_ids(st, seq, kind, err);
  if (!rc) *id = seq->next[kind]++;
  pthread_mutex_unlock(&seq->mu);
  return rc;
}

static void reseed_ids(store *st) {
  id_seq *seq = seq_of(st);
  pthread_mutex_lock(&seq->mu);
  seed_ids(st, seq, STORE_ID_TASK, NULL);
  seed_ids(st, seq, STORE_ID_PROCESS, NULL);
  pthread_mutex_unlock(&seq->mu);
}

static int process_insert_row(store *st, const st_process *p, fherr *err) {
  dbs *s = sq_prep(st, p->parent_task_id ? Q_PROC_INSERT_ROW : Q_PROC_INSERT_TOP, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, p->id);
  dbs_bind_text(s, 2, p->flow);
  dbs_bind_text(s, 3, proc_status_name(p->status));
  dbs_bind_text(s, 4, p->data ? p->data : "{}");
  sq_bind_id_or_null(s, 5, p->created_by);
  dbs_bind_text(s, 6, p->created_at);
  sq_bind_text_or_null(s, 7, p->finished_at);
  sq_bind_id_or_null(s, 8, p->parent_task_id);
  sq_bind_id_or_null(s, 9, p->parent_id);
  dbs_bind_int(s, 10, p->depth);
  int rc = dbs_step(s);
  sq_done(s);
  /* the id taken by another program, or the Subprocess task's child
   * started already; a foreign key (its creator no longer a user) is no
   * reason to try again */
  if (rc == DB_CONSTRAINT && dbc_unique_failed(st->cur->db))
    return fherr_set(err, FH_STALE, "process id %lld is taken", (long long)p->id);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "insert process");
  return add_participant(st, p->id, p->created_by, err);
}

static int process_update_checked(store *st, const st_process *p, fherr *err) {
  dbs *s = sq_prep(st, Q_PROC_UPDATE_CHECKED, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, p->id);
  dbs_bind_text(s, 2, proc_status_name(p->status));
  dbs_bind_text(s, 3, p->data ? p->data : "{}");
  sq_bind_text_or_null(s, 4, p->finished_at);
  dbs_bind_int64(s, 5, p->version);
  int rc = sq_run(st, s, err, "update process");
  /* PostgreSQL's statement sends no count: it raises DB_STALE itself,
   * at whichever later statement of the write waits for an answer
   * (store_sql_pg.c), so the write needs no round trip of its own */
  if (!rc && st->cur->db->kind != DB_KIND_PG && dbc_changes(st->cur->db) == 0)
    return fherr_set(err, FH_STALE, "process %lld changed meanwhile", (long long)p->id);
  return rc;
}

/* A kept message taken by a receiver is deleted; gone already means
 * another receiver took it first. */
static int consume_message(store *st, int64_t id, fherr *err) {
  dbs *s = sq_prep(st, Q_MSG_DELETE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  int rc = sq_run(st, s, err, "take message");
  if (!rc && dbc_changes(st->cur->db) != 1)
    return fherr_set(err, FH_STALE, "message %lld was taken meanwhile", (long long)id);
  return rc;
}

/* A new receiver looked for a kept message before this transaction; one
 * kept since would wait forever beside it, so the action starts over. */
static int check_not_kept(store *st, const store_await *a, fherr *err) {
  dbs *s = sq_prep(st, Q_MSG_KEPT_FOR, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, a->name);
  dbs_bind_text(s, 2, a->key);
  dbs_bind_int64(s, 3, a->seen);
  dbs_bind_text(s, 4, a->at);
  int64_t n = 0;
  int rc = sq_count(st, s, &n, err);
  if (!rc && n) return fherr_set(err, FH_STALE, "a message for '%s' was kept meanwhile", a->name);
  return rc;
}

static int insert_message(store *st, store_message_out *m, fherr *err) {
  dbs *s = sq_prep(st, Q_MSG_INSERT, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, m->name);
  dbs_bind_text(s, 2, m->key);
  dbs_bind_text(s, 3, m->data ? m->data : "{}");
  dbs_bind_text(s, 4, m->created_at);
  dbs_bind_text(s, 5, m->expires_at);
  int rc = sq_run(st, s, err, "keep sent message");
  if (!rc) m->id = dbc_last_insert_id(st->cur->db);
  return rc;
}

/* A finished child wakes its parent's Subprocess task, if that still waits. */
static int wake_parent(store *st, const store_write *w, fherr *err) {
  dbs *s = sq_prep(st, Q_TASK_WAKE, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, w->wake_task);
  dbs_bind_text(s, 2, w->wake_at);
  int rc = sq_run(st, s, err, "wake parent task");
  if (rc || dbc_changes(st->cur->db) == 0) return rc;
  if (!(s = sq_prep(st, Q_PROC_BUMP, err))) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, w->wake_task);
  return sq_run(st, s, err, "raise parent version");
}

/* Two to four (task, previous) links in one statement of bound pairs. */
static int add_links_bound(store *st, const int64_t *links, int n, fherr *err) {
  static const int by_count[] = {Q_TASK_PREV_ADD_2, Q_TASK_PREV_ADD_3, Q_TASK_PREV_ADD_4};
  dbs *s = sq_prep(st, by_count[n - 2], err);
  if (!s) return sq_prep_failed(err);
  for (int i = 0; i < 2 * n; i++) dbs_bind_int64(s, i + 1, links[i]);
  return sq_run(st, s, err, "link previous tasks");
}

/* Several (task, previous) links in one statement: a split's or a join's
 * links cost one statement, not one each; more than four go as a JSON
 * array of pairs. */
static int add_links(store *st, const int64_t *links, int n, fherr *err) {
  if (n <= 4) return add_links_bound(st, links, n, err);
  size_t cap = (size_t)n * 44 + 4, len = 0;
  char *text = malloc(cap);
  if (!text) return fherr_set(err, FH_INTERNAL, "out of memory");
  text[len++] = '[';
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, cap - len, "%s[%lld,%lld]", i ? "," : "", (long long)links[2 * i],
                            (long long)links[2 * i + 1]);
  snprintf(text + len, cap - len, "]");
  dbs *s = sq_prep(st, Q_TASK_PREV_ADD_MANY, err);
  int rc = FH_INTERNAL;
  if (s) {
    dbs_bind_text(s, 1, text);
    rc = sq_run(st, s, err, "link previous tasks");
  }
  free(text);
  return rc;
}

/* The links of a write: a new task's first one goes into its own row
 * (task.prev_id, no page of its own to write), the others into
 * task_previous.  prev[i] is the first of inserts[i]; rest gets the other
 * (task, previous) pairs, *nrest of them.  Links come in the order the
 * tasks were made, so the search starts where the last one was found. */
static void split_links(const store_write *w, int64_t *prev, int64_t *rest, int *nrest) {
  int at = 0;
  *nrest = 0;
  for (int l = 0; l < w->nlinks; l++) {
    int64_t task = w->links[2 * l], from = w->links[2 * l + 1];
    int found = -1;
    for (int k = 0; k < w->ninserts && found < 0; k++) {
      int i = (at + k) % w->ninserts;
      if (w->inserts[i]->id == task) found = i;
    }
    if (found >= 0 && !prev[found]) {
      prev[found] = from;
      at = found;
    } else {
      rest[2 * *nrest] = task;
      rest[2 * *nrest + 1] = from;
      (*nrest)++;
    }
  }
}

static int write_links(store *st, const int64_t *links, int n, fherr *err) {
  if (n == 1) return store_task_add_previous(st, links[0], links[1], err);
  return n > 1 ? add_links(st, links, n, err) : FH_OK;
}

static int write_rows(store *st, const store_write *w, fherr *err) {
  int rc = w->process_is_new ? process_insert_row(st, w->process, err) : process_update_checked(st, w->process, err);
  for (int i = 0; !rc && i < w->nconsume; i++) rc = consume_message(st, w->consume[i], err);
  for (int i = 0; !rc && i < w->nawaits; i++) rc = check_not_kept(st, &w->awaits[i], err);
  int64_t *prev = calloc((size_t)w->ninserts + 1, sizeof *prev);
  int64_t *rest = malloc(sizeof *rest * (2 * (size_t)w->nlinks + 1));
  int nrest = 0;
  if (!rc && (!prev || !rest)) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  if (!rc) split_links(w, prev, rest, &nrest);
  if (!rc) rc = insert_all_tasks(st, (st_task *const *)w->inserts, prev, w->ninserts, err);
  for (int i = 0; !rc && i < w->nupdates; i++) rc = store_task_update(st, w->updates[i], err);
  if (!rc) rc = write_links(st, rest, nrest, err);
  free(prev);
  free(rest);
  for (int i = 0; !rc && i < w->nsends; i++) rc = insert_message(st, &w->sends[i], err);
  if (!rc && w->wake_task) rc = wake_parent(st, w, err);
  if (!rc && w->data) rc = store_data_write_rows(st, w->process, w->process_is_new, w->data, err);
  if (!rc && w->also) rc = write_rows(st, w->also, err);
  return rc;
}

static int write_rows_cb(store *st, const void *w, fherr *err) { return write_rows(st, w, err); }

int store_write_process(store *st, const store_write *w, fherr *err) {
  sq_drop_ids_pg(st);
  int rc = store_write_fn(st, write_rows_cb, w, err);
  /* another program took ids: go past them (PostgreSQL's come from sequences) */
  if (rc == FH_STALE && st->cur->db->kind != DB_KIND_PG) reseed_ids(st);
  return rc;
}

/* --- messages and signals ------------------------------------------------ */

int store_receiver_next(store *st, const char *name, const char *key, int64_t after, int64_t *id, int64_t *process_id,
                        fherr *err) {
  *id = *process_id = 0;
  dbs *s = sq_prep(st, Q_RECEIVER_NEXT, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, name);
  if (key) dbs_bind_text(s, 2, key);
  else dbs_bind_null(s, 2);
  dbs_bind_int64(s, 3, after);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *id = dbs_col_int64(s, 0);
    *process_id = dbs_col_int64(s, 1);
  }
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "find receiver");
}

int store_message_keep(store *st, const char *name, const char *key, const char *data, const char *now,
                       const char *expires_at, int64_t *id, fherr *err) {
  *id = 0;
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = sq_prep(st, Q_MSG_KEEP, err);
  if (!s) rc = FH_INTERNAL;
  else {
    dbs_bind_text(s, 1, name);
    dbs_bind_text(s, 2, key);
    dbs_bind_text(s, 3, data ? data : "{}");
    dbs_bind_text(s, 4, now);
    dbs_bind_text(s, 5, expires_at);
    rc = sq_run(st, s, err, "keep message");
    if (!rc && dbc_changes(st->cur->db) == 0)
      rc = fherr_set(err, FH_STALE, "a receiver of '%s' is waiting now", name);
    if (!rc) *id = dbc_last_insert_id(st->cur->db);
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_message_find(store *st, const char *name, const char *key, const char *now, int64_t after, int64_t *id,
                       char **data, fherr *err) {
  *id = 0;
  *data = NULL;
  dbs *s = sq_prep(st, Q_MSG_FIND, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, name);
  dbs_bind_text(s, 2, key);
  dbs_bind_text(s, 3, now);
  dbs_bind_int64(s, 4, after);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *id = dbs_col_int64(s, 0);
    *data = sq_dup_col(s, 1);
  }
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "find message");
}

int store_message_offered(store *st, int64_t id, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = sq_prep(st, Q_MSG_OFFERED, err);
  if (!s) rc = FH_INTERNAL;
  else {
    dbs_bind_int64(s, 1, id);
    rc = sq_run(st, s, err, "mark message offered");
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_message_last_id(store *st, int64_t *id, fherr *err) {
  dbs *s = sq_prep(st, Q_MSG_LAST_ID, err);
  if (!s) return sq_prep_failed(err);
  return sq_count(st, s, id, err);
}

int store_message_exists(store *st, int64_t id, int *yes, fherr *err) {
  *yes = 0;
  dbs *s = sq_prep(st, Q_MSG_EXISTS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, id);
  int64_t n = 0;
  int rc = sq_count(st, s, &n, err);
  *yes = n > 0;
  return rc;
}

int store_message_undelivered(store *st, const char *now, int64_t after, int64_t *id, char **name, char **key,
                              char **data, fherr *err) {
  *id = 0;
  *name = *key = *data = NULL;
  dbs *s = sq_prep(st, Q_MSG_UNDELIVERED, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, now);
  dbs_bind_int64(s, 2, after);
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *name = sq_dup_col(s, 1);
    *key = sq_dup_col(s, 2);
    *data = sq_dup_col(s, 3);
    if (*name && *key) *id = dbs_col_int64(s, 0);
  }
  sq_done(s);
  if (rc == DB_ROW && !*id) {
    free(*name), free(*key), free(*data);
    *name = *key = *data = NULL;
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "find undelivered message");
}

int store_message_expire(store *st, const char *now, int64_t *n, fherr *err) {
  *n = 0;
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = sq_prep(st, Q_MSG_EXPIRE, err);
  if (!s) rc = FH_INTERNAL;
  else {
    dbs_bind_text(s, 1, now);
    rc = sq_run(st, s, err, "expire messages");
    if (!rc) *n = dbc_changes(st->cur->db);
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_message_next_expiry(store *st, const char *now, double *seconds, fherr *err) {
  *seconds = -1;
  dbs *s = sq_prep(st, Q_MSG_NEXT_EXPIRY, err);
  if (!s) return sq_prep_failed(err);
  int rc = dbs_step(s);
  if (rc == DB_ROW && dbs_col_type(s, 0) != DB_NULL) {
    double at = fhtime_parse((const char *)dbs_col_text(s, 0)), from = fhtime_parse(now);
    *seconds = at < 0 || at - from <= 0 ? 0 : at - from;
  }
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "next expiry");
}
