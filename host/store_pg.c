/* store_pg — the PostgreSQL half of the statement shim (store_db.h).
 *
 * A cached statement is prepared once per connection (PQprepare, named
 * fh<q>) and executed on its first dbs_step (PQexecPrepared, parameters as
 * text); the following steps walk the rows of the PGresult.  An INSERT ...
 * RETURNING id is read the way SQLite reports an insert: DB_DONE, and the
 * id for dbc_last_insert_id.  SQLSTATEs become SQLite's codes (pg_code_of),
 * so the store's error paths stay as they are.  A lost connection is
 * DB_BUSY (the contract's 503) and is reset on the next call: the server
 * forgot the prepared statements then, so every one is prepared again.
 * A BEGIN is not sent on its own: it goes with the transaction's first
 * statement in one round trip (libpq's pipeline mode), and a transaction
 * that ran nothing ends without a word to the server (txn_deferred).
 * Inside a transaction, a write whose answer its caller does not read
 * (dbs_defer_ok) is sent ahead in the same pipeline without waiting; the
 * next statement that needs an answer goes after it, and one round trip
 * brings them all (see "sent ahead" below).
 * Reads can be sent ahead too, outside a transaction (dbs_send: a process
 * and its tasks): their answers come back with the next request that waits
 * for one, and each read keeps its own ("sent reads" below).
 * Every request sent to the server is counted (dbc_count: a round trip, and
 * a statement when it executes one), for GET /metrics and the benchmarks.
 * A statement that finds its connection dead outside a transaction is run
 * again once on a new connection when that cannot do anything twice (a
 * read, a BEGIN, a prepare: may_rerun): a connection idle through a server
 * restart costs its next request nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pqlib.h"
#include "store_db.h"

/* Type oids of pg_type that the shim reads as integers or floats. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

static void quiet_notices(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

int pg_code_of(const char *sqlstate) {
  if (!sqlstate) return DB_BUSY;   /* no SQLSTATE: the connection itself failed */
  if (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01")) return DB_BUSY;   /* serialization, deadlock */
  if (!strcmp(sqlstate, "55P03")) return DB_LOCKED;                               /* lock_not_available */
  if (!strncmp(sqlstate, "23", 2)) return DB_CONSTRAINT;                          /* integrity constraints */
  if (!strcmp(sqlstate, "FH409")) return DB_STALE;                                /* flowhost_stale() */
  if (!strcmp(sqlstate, "53100")) return DB_FULL;                                 /* disk_full */
  if (!strcmp(sqlstate, "25006")) return DB_READONLY;                             /* read_only_sql_transaction */
  if (!strncmp(sqlstate, "08", 2) || !strncmp(sqlstate, "57P", 3)) return DB_BUSY; /* connection, shutdown */
  return DB_ERROR;
}

/* Records the failure of res (or of the connection) on c; the DB_* code. */
static int fail(dbc *c, const PGresult *res) {
  const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *m = res ? pq.PQresultErrorMessage(res) : NULL;
  if (!m || !*m) m = c->pg ? pq.PQerrorMessage(c->pg) : "no connection";
  snprintf(c->msg, sizeof c->msg, "%s", m);
  snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
  size_t n = strlen(c->msg);
  while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' ')) c->msg[--n] = 0;
  if (!c->pg || pq.PQstatus(c->pg) != CONNECTION_OK) {
    c->lost = 1;
    c->last_rc = DB_BUSY;
  } else {
    c->last_rc = pg_code_of(state);
  }
  return c->last_rc;
}

int pg_open(dbc *c, const char *url) {
  /* a server that does not answer is a 503 after 10 s, not a hung host; a
   * connect_timeout in the URL comes later in the list and wins */
  const char *const keys[] = {"connect_timeout", "dbname", NULL};
  const char *const vals[] = {"10", url, NULL};
  if (pqlib_load(c->msg, sizeof c->msg)) return c->last_rc = DB_ERROR;
  c->pg = pq.PQconnectdbParams(keys, vals, 1);
  if (!c->pg || pq.PQstatus(c->pg) != CONNECTION_OK) return fail(c, NULL);
  pq.PQsetNoticeReceiver(c->pg, NULL, NULL);
  pq.PQsetNoticeProcessor(c->pg, quiet_notices, NULL);
  c->gen = 1;
  return pg_exec(c, "SET client_min_messages = warning");
}

void pg_close(dbc *c) {
  if (c->pg) pq.PQfinish(c->pg);
  c->pg = NULL;
}

/* The reads sent with dbs_send lost their answers (the connection broke):
 * each runs again at its step. */
static void forget_sent(dbc *c) {
  for (int i = 0; i < c->nsent; i++) c->sent[i]->sent = 0;
  c->nsent = 0;
}

/* Reconnects a connection that broke; DB_BUSY while the server is away. */
static int ensure_connected(dbc *c) {
  if (!c->pg) return fail(c, NULL);
  if (!c->lost && pq.PQstatus(c->pg) == CONNECTION_OK) return DB_OK;
  pq.PQreset(c->pg);
  if (pq.PQstatus(c->pg) != CONNECTION_OK) return fail(c, NULL);
  c->lost = 0;
  c->piped = 0;   /* the pipeline went with the session */
  forget_sent(c);
  c->gen++;
  pq.PQclear(pq.PQexec(c->pg, "SET client_min_messages = warning"));
  dbc_count(c, 1, 1);
  if (c->setup[0]) {
    pq.PQclear(pq.PQexec(c->pg, c->setup));   /* a new session forgot them */
    dbc_count(c, 1, 1);
  }
  return DB_OK;
}

void pg_end_session(dbc *c) {
  if (!c->pg) return;
  c->lost = 1;
  c->begin_pending = 0;   /* a transaction ends with its session */
  ensure_connected(c);   /* closes the old session now; a failure retries at the next call */
}

/* BEGIN, COMMIT and ROLLBACK without a round trip where it can: a BEGIN
 * waits for the next statement (begin_pending), and the end of a
 * transaction that sent nothing has nothing to end.  1: done here. */
static int txn_deferred(dbc *c, const char *sql) {
  if (!strcmp(sql, "BEGIN") && !c->begin_pending && pq.PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
    c->begin_pending = 1;
    return 1;
  }
  if (c->begin_pending && (!strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK"))) {
    c->begin_pending = 0;
    return 1;
  }
  return 0;
}

/* Is the connection outside any transaction (nothing of one would be lost)? */
static int idle(const dbc *c) { return pq.PQtransactionStatus(c->pg) == PQTRANS_IDLE; }

/* May sql, which failed because the connection died while it was idle, run
 * again on a new connection?  A read or a BEGIN: yes; a write no (it may
 * have been done before the connection died: in doubt, the caller's 503). */
static int may_rerun(const dbc *c, int was_idle, const char *sql) {
  if (!was_idle || !c->lost || !sql) return 0;
  while (*sql == ' ' || *sql == '\n' || *sql == '(') sql++;
  return !strncasecmp(sql, "SELECT", 6) || !strncasecmp(sql, "BEGIN", 5) || !strncasecmp(sql, "SET ", 4);
}

/* --- sent ahead ----------------------------------------------------------------
 *
 * A transaction's writes whose answers nobody reads (a task's rows, its
 * links, the audit and search rows of its data: dbs_defer_ok) do not each
 * wait for the server.  They go out in libpq's pipeline mode as they come
 * (a deferred BEGIN first), and the next statement that needs an answer
 * (a read, an update whose count is checked, COMMIT) is sent after them
 * and ends the pipeline: one round trip for all.  The server runs them in
 * order, so that statement sees their rows.  If one of them failed, the
 * server skipped the rest, and that statement reports the failure (its
 * SQLSTATE and message): the transaction is lost, as it would have been at
 * the write itself.  A request that cannot be pipelined (SQL text, a
 * prepare) ends the pipeline first. */

static int pipe_active(const dbc *c) { return pq.PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF; }

/* The pipeline holds nothing but reads sent with dbs_send. */
static int reads_only(const dbc *c) { return c->nsent > 0 && c->piped == c->nsent; }

/* In a transaction (begun, or its BEGIN pending): only there is a write
 * sent ahead, since its error must reach the transaction's caller. */
static int in_txn(const dbc *c) {
  return c->begin_pending || (pipe_active(c) && !reads_only(c)) ||
         pq.PQtransactionStatus(c->pg) == PQTRANS_INTRANS;
}

/* The read sent at place `query` of the pipeline, or NULL. */
static dbs *sent_at(const dbc *c, int query) {
  for (int i = 0; i < c->nsent; i++)
    if (c->sent_at[i] == query) return c->sent[i];
  return NULL;
}

/* Pipeline mode on, with the pending BEGIN sent first; 0: the connection failed. */
static int pipe_open(dbc *c) {
  if (pipe_active(c)) return 1;
  if (!pq.PQenterPipelineMode(c->pg)) return 0;
  if (!c->begin_pending) return 1;
  c->begin_pending = 0;
  c->piped++;
  dbc_count(c, 1, 0);
  return pq.PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
}

/* Ends the pipeline: a sync, then every answer.  *bad: the first statement
 * sent ahead that failed (the caller clears it), or NULL; returns the
 * answer of the statement sent last when `last` (NULL if the connection
 * failed: then it is marked lost). */
static PGresult *pipe_finish(dbc *c, int last, PGresult **bad) {
  *bad = NULL;
  PGresult *out = NULL;
  int ahead = c->piped, queries = ahead + (last ? 1 : 0), query = 0, synced = 0;
  c->piped = 0;
  if (pq.PQpipelineSync(c->pg)) {
    for (;;) {   /* each query's results end with a NULL; the sync's result comes last */
      PGresult *r = pq.PQgetResult(c->pg);
      if (!r) {
        if (pq.PQstatus(c->pg) != CONNECTION_OK || ++query > queries) break;
        continue;
      }
      ExecStatusType st = pq.PQresultStatus(r);
      if (st == PGRES_PIPELINE_SYNC) {
        pq.PQclear(r);
        synced = 1;
        break;
      }
      dbs *read = query < ahead ? sent_at(c, query) : NULL;
      if (read && !read->res) {   /* a sent read keeps its answer, a failure included */
        read->res = r;
      } else if (query < ahead) {
        if (!*bad && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED) *bad = r;
        else pq.PQclear(r);
      } else if (last && !out) {
        out = r;
      } else {   /* nothing more was asked: a broken connection's last word */
        pq.PQclear(r);
      }
    }
  }
  if (!synced || !pq.PQexitPipelineMode(c->pg)) c->lost = 1;
  for (int i = 0; i < c->nsent; i++) {   /* answered, or lost: each runs again at its step */
    c->sent[i]->sent = 0;
    if (c->lost) {
      pq.PQclear(c->sent[i]->res);
      c->sent[i]->res = NULL;
    }
  }
  c->nsent = 0;
  if (c->lost && last && !*bad) {
    pq.PQclear(out);
    out = NULL;
  }
  return out;
}

/* Ends a pipeline before a request that cannot join it; its error, if a
 * statement sent ahead failed. */
static int pipe_drain(dbc *c) {
  if (!c->pg || !pipe_active(c)) return DB_OK;
  dbc_count(c, 0, 1);
  PGresult *bad = NULL;
  pipe_finish(c, 0, &bad);
  int rc = bad ? fail(c, bad) : c->lost ? fail(c, NULL) : DB_OK;
  pq.PQclear(bad);
  return rc;
}

static int exec_once(dbc *c, const char *sql, int *was_idle) {
  int rc = ensure_connected(c);
  if (rc) return rc;
  if ((rc = pipe_drain(c))) return rc;
  if (txn_deferred(c, sql)) return DB_OK;
  *was_idle = idle(c) && !c->begin_pending;
  if (c->begin_pending) {   /* SQL text (rare inside a transaction): the BEGIN on its own */
    c->begin_pending = 0;   /* (not through pg_exec, whose txn_deferred would defer it again) */
    PGresult *begun = pq.PQexec(c->pg, "BEGIN");
    dbc_count(c, 1, 1);
    rc = pq.PQresultStatus(begun) == PGRES_COMMAND_OK ? DB_OK : fail(c, begun);
    pq.PQclear(begun);
    if (rc) return rc;
  }
  PGresult *res = pq.PQexec(c->pg, sql);
  dbc_count(c, 1, 1);
  ExecStatusType st = pq.PQresultStatus(res);
  rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? DB_OK : fail(c, res);
  pq.PQclear(res);
  return rc;
}

int pg_exec(dbc *c, const char *sql) {
  int was_idle = 0;
  int rc = exec_once(c, sql, &was_idle);
  if (rc && may_rerun(c, was_idle, sql)) rc = exec_once(c, sql, &was_idle);
  return rc;
}

char *pg_adhoc_text(const char *sql) {
  char *out = malloc(strlen(sql) + 1);   /* "?N" -> "$N": never longer */
  if (!out) return NULL;
  char *o = out;
  char quote = 0;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote) quote = 0;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
      *o++ = '$';
      continue;
    }
    *o++ = *p;
  }
  *o = 0;
  return out;
}

static void statement_name(const dbs *s, char *buf, size_t cap) { snprintf(buf, cap, "fh%d", s->q); }

static int prepare_once(dbs *s);

/* A prepare changes nothing: outside a transaction it may run again on a
 * new connection. */
int pg_prepare(dbs *s) {
  if (s->q < 0) return DB_OK;   /* ad hoc: PQexecParams parses it at the step */
  int was_idle = s->c->pg && pq.PQstatus(s->c->pg) == CONNECTION_OK && idle(s->c);
  int rc = prepare_once(s);
  if (rc && was_idle && s->c->lost) rc = prepare_once(s);
  return rc;
}

static int prepare_once(dbs *s) {
  int rc = ensure_connected(s->c);
  if (rc) return rc;
  if ((rc = pipe_drain(s->c))) return rc;
  char name[16];
  statement_name(s, name, sizeof name);
  PGresult *res = pq.PQprepare(s->c->pg, name, s->sql, 0, NULL);
  dbc_count(s->c, 0, 1);
  rc = pq.PQresultStatus(res) == PGRES_COMMAND_OK ? DB_OK : fail(s->c, res);
  pq.PQclear(res);
  if (rc) return rc;
  /* SQLite ignores a binding past a statement's parameters; PostgreSQL
   * refuses the execution: learn how many it takes (once) */
  res = pq.PQdescribePrepared(s->c->pg, name);
  dbc_count(s->c, 0, 1);
  rc = pq.PQresultStatus(res) == PGRES_COMMAND_OK ? DB_OK : fail(s->c, res);
  if (!rc) s->want = pq.PQnparams(res);
  pq.PQclear(res);
  if (!rc) s->gen = s->c->gen;
  return rc;
}

/* Counts the rows of a write and keeps an INSERT's RETURNING id. */
static void note_command(dbs *s) {
  const char *status = pq.PQcmdStatus(s->res);
  int write = !strncmp(status, "INSERT", 6) || !strncmp(status, "UPDATE", 6) || !strncmp(status, "DELETE", 6);
  if (!write) return;
  s->c->changes = strtoll(pq.PQcmdTuples(s->res), NULL, 10);
  if (!strncmp(status, "INSERT", 6) && s->nrows > 0) {
    s->c->last_id = strtoll(pq.PQgetvalue(s->res, 0, 0), NULL, 10);
    s->nrows = 0;   /* read like SQLite's insert: done, the id aside */
  }
}

/* Sends a statement (prepared: name; ad hoc: NULL) without waiting. */
static int send_statement(dbs *s, const char *name, const char *const *vals) {
  if (name) return pq.PQsendQueryPrepared(s->c->pg, name, s->want, vals, NULL, NULL, 0);
  return pq.PQsendQueryParams(s->c->pg, s->sql, s->nparams, NULL, vals, NULL, NULL, 0);
}

/* The answer in s->res as the execution's: its rows, or its failure (an
 * execution's own, or a sent read's filed by pipe_finish). */
static int take_answer(dbs *s) {
  s->executed = 1;
  ExecStatusType st = pq.PQresultStatus(s->res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    int rc = fail(s->c, s->res);
    pg_reset(s);
    s->executed = 1;
    return rc;
  }
  s->row = 0;
  s->nrows = pq.PQntuples(s->res);
  note_command(s);
  return DB_OK;
}

/* Executes the statement with its bound parameters, once. */
static int execute_once(dbs *s, int *was_idle) {
  dbc *c = s->c;
  c->failed_ahead = 0;
  int rc = ensure_connected(c);
  if (rc) return rc;
  *was_idle = idle(c);
  if (s->q >= 0 && s->gen != c->gen && (rc = pg_prepare(s))) return rc;
  if (txn_deferred(c, s->sql)) {
    s->executed = 1;   /* done, no rows */
    return DB_OK;
  }
  const char *const *vals = (const char *const *)s->vals;
  char name[16];
  if (s->q >= 0) statement_name(s, name, sizeof name);
  const char *named = s->q >= 0 ? name : NULL;
  if (s->deferrable && s->q >= 0 && in_txn(c)) {   /* sent ahead: no answer now */
    if (!pipe_open(c) || !send_statement(s, named, vals)) return fail(c, NULL);
    c->piped++;
    dbc_count(c, 1, 0);
    s->executed = 1;
    c->changes = 0;   /* unknown: its caller does not read it */
    return DB_OK;
  }
  if (c->begin_pending || pipe_active(c)) {   /* after the BEGIN and the writes sent ahead */
    PGresult *bad = NULL;
    if (!pipe_open(c) || !send_statement(s, named, vals)) return fail(c, NULL);
    dbc_count(c, 1, 1);
    s->res = pipe_finish(c, 1, &bad);
    if (bad) {
      c->failed_ahead = 1;
      rc = fail(c, bad);
      pq.PQclear(bad);
      pg_reset(s);
      s->executed = 1;
      return rc;
    }
    if (!s->res) return fail(c, NULL);
  } else {
    s->res = named ? pq.PQexecPrepared(c->pg, named, s->want, vals, NULL, NULL, 0)
                   : pq.PQexecParams(c->pg, s->sql, s->nparams, NULL, vals, NULL, NULL, 0);
    dbc_count(c, 1, 1);
  }
  return take_answer(s);
}

/* Executes the statement, and once more on a new connection when the old
 * one was found dead and running it again cannot do anything twice. */
static int execute(dbs *s) {
  int was_idle = 0, had_begin = s->c->begin_pending;
  int rc = execute_once(s, &was_idle);
  if (rc && may_rerun(s->c, was_idle, s->sql)) {
    pg_reset(s);
    /* the first statement of a transaction: nothing of it reached the
     * server, so the transaction starts again on the new connection */
    s->c->begin_pending = had_begin;
    rc = execute_once(s, &was_idle);
  }
  return rc;
}

/* --- sent reads ------------------------------------------------------------------
 *
 * dbs_send puts a read in the pipeline outside a transaction (no BEGIN) and
 * returns; pipe_finish files each sent read's answer in its own dbs (res,
 * not executed yet), and its first step takes it from there.  A statement
 * that is not one of them and comes meanwhile joins the pipeline as the
 * one that waits (execute_once): the same round trip.  If a sent read
 * failed, PostgreSQL skipped the rest of the pipeline: those report it at
 * their steps.  A lost connection drops the answers: each read runs again
 * at its step, on the new connection (a read may). */
int pg_send(dbs *s) {
  dbc *c = s->c;
  if (s->sent) return DB_OK;
  int rc = ensure_connected(c);
  if (rc) return rc;
  if (in_txn(c)) return DB_OK;   /* it runs at its step, with the transaction's writes */
  if (c->nsent == DBC_SENT_MAX && (rc = pipe_drain(c))) return rc;
  if (s->q >= 0 && s->gen != c->gen && (rc = pg_prepare(s))) return rc;
  pg_reset(s);
  char name[16];
  if (s->q >= 0) statement_name(s, name, sizeof name);
  if (!pipe_open(c) || !send_statement(s, s->q >= 0 ? name : NULL, (const char *const *)s->vals)) return fail(c, NULL);
  c->sent_at[c->nsent] = c->piped;
  c->sent[c->nsent++] = s;
  c->piped++;
  dbc_count(c, 1, 0);
  s->sent = 1;
  return DB_OK;
}

int pg_step(dbs *s) {
  if (s->sent) pipe_drain(s->c);   /* its answer, or none (lost): then it runs again below */
  if (!s->executed && s->res) {
    int rc = take_answer(s);
    if (rc) return rc;
    return s->row < s->nrows ? DB_ROW : DB_DONE;
  }
  if (!s->executed) {
    int rc = execute(s);
    if (rc) return rc;
  } else if (s->res) {
    s->row++;
  } else {
    return DB_DONE;
  }
  return s->row < s->nrows ? DB_ROW : DB_DONE;
}

void pg_reset(dbs *s) {
  if (s->sent) pipe_drain(s->c);   /* its answer is on its way: read, then dropped */
  pq.PQclear(s->res);
  s->res = NULL;
  s->row = s->nrows = 0;
  s->executed = 0;
}

int pg_col_type(dbs *s, int col) {
  switch (pq.PQftype(s->res, col)) {
  case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8: return DB_INTEGER;
  case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC: return DB_FLOAT;
  default: return DB_TEXT;
  }
}
