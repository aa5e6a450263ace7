/* store_db — the statement shim between the store units and a database.
 *
 * The store units (host/store*.c) run their SQL through these calls, never
 * through sqlite3_* or PQ* directly, so each store function keeps one body
 * for both backends: SQLite (thin wrappers, store_db.c) and PostgreSQL via
 * libpq (store_pg.c).  The calls mirror SQLite's statement API (prepare,
 * bind, step, column, reset) because the store was written against it; the
 * result codes keep SQLite's numbers (DB_ROW is SQLITE_ROW, ...), so
 * PostgreSQL's SQLSTATEs are mapped onto them in store_pg.c.  See
 * docs/architecture-pg.md for the why.
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>

/* Result codes: SQLite's values (store_db.c checks it at compile time). */
enum {
  DB_OK = 0, DB_ERROR = 1, DB_BUSY = 5, DB_LOCKED = 6, DB_READONLY = 8, DB_FULL = 13,
  DB_CONSTRAINT = 19, DB_ROW = 100, DB_DONE = 101,
  /* PostgreSQL only (SQLite has no such code): a version-checked write sent
   * ahead found its row changed (SQLSTATE FH409, raised by the server's
   * flowhost_stale(): store_schema_pg.c) */
  DB_STALE = 409
};
/* Column types (dbs_col_type): SQLite's fundamental types. */
enum { DB_INTEGER = 1, DB_FLOAT = 2, DB_TEXT = 3, DB_BLOB = 4, DB_NULL = 5 };

typedef enum db_kind { DB_KIND_SQLITE, DB_KIND_PG } db_kind;

/* Most parameters of one statement (Q_TASK_INSERT_4: four rows of 23). */
#define DBS_MAXP 92
/* Most statements sent with dbs_send at once (a further one waits first). */
#define DBC_SENT_MAX 4

struct dbs;

/* A connection.  PostgreSQL keeps no rowid nor change count of its own:
 * dbs_step records them from the command's result. */
typedef struct dbc {
  db_kind kind;
  sqlite3 *lite;
  PGconn *pg;
  unsigned gen;             /* PG: raised by every reconnect (prepared statements are gone) */
  int64_t changes;          /* PG: rows of the last INSERT/UPDATE/DELETE */
  int64_t last_id;          /* PG: column 0 of an INSERT ... RETURNING */
  int last_rc;              /* PG: the DB_* code of the last failure */
  int lost;                 /* PG: the connection broke; reconnect on the next call */
  char msg[256];            /* PG: the last error message */
  char sqlstate[6];         /* PG: the last error's SQLSTATE, "" when it had none */
  char setup[128];          /* PG: session settings, run again after a reconnect */
  int begin_pending;        /* PG: a BEGIN not sent yet: it goes with the next statement */
  int piped;                /* PG: statements sent ahead in pipeline mode, answers not read yet */
  int failed_ahead;         /* PG: the last statement failed because one sent ahead of it did */
  /* PG: reads sent with dbs_send, in the pipeline with the rest: their
   * places among the piped statements, and the statements that keep
   * their answers */
  int nsent, sent_at[DBC_SENT_MAX];
  struct dbs *sent[DBC_SENT_MAX];
  uint64_t statements;      /* executions on this connection (also metrics_db.h, per backend) */
  uint64_t round_trips;     /* PG: requests answered by the server (executions, prepares, describes) */
  int busy_ms;              /* SQLite: how long a statement waits for a lock (dbc_busy_wait) */
  double busy_since;        /* SQLite: when the current wait began (monotonic seconds) */
} dbc;

/* A statement.  On PostgreSQL the parameters are kept as text until the
 * first step executes it; the rows are then walked from the PGresult. */
typedef struct dbs {
  dbc *c;
  sqlite3_stmt *lite;
  int q;                    /* PG: number of a cached statement (named fh<q>), -1: ad hoc */
  unsigned gen;             /* PG: the connection generation it was prepared in */
  char *sql;                /* PG: the text (ad hoc: run with PQexecParams) */
  char *vals[DBS_MAXP];     /* PG: parameter values as text, NULL: SQL NULL */
  int nparams;              /* PG: highest parameter bound */
  int want;                 /* PG: the parameters the prepared statement takes */
  PGresult *res;            /* PG: the rows of the current execution */
  int row, nrows, executed;
  int deferrable;           /* PG: its caller reads no rows, count nor id (dbs_defer_ok) */
  int sent;                 /* PG: sent by dbs_send, its answer not read yet */
} dbs;

/* Which backend a --db value selects: postgresql:// and postgres:// URLs
 * are PostgreSQL; anything else (a path, sqlite:PATH) SQLite. */
db_kind db_kind_of(const char *url);
/* The SQLite path of a value (strips a "sqlite:" prefix). */
const char *db_sqlite_path(const char *url);

/* Process-wide SQLite settings; dbc_open applies them too, but only the
 * first SQLite call of a process can: a program that opens databases of
 * its own first (a benchmark's baseline) calls this before. */
void dbc_library_init(void);
/* Opens a connection; on failure *out may still hold one to close and msg
 * says why. */
int dbc_open(const char *url, dbc **out, char *msg, size_t cap);
void dbc_close(dbc *c);
/* Runs SQL text without parameters (several statements allowed). */
int dbc_exec(dbc *c, const char *sql);
int64_t dbc_changes(dbc *c);
int64_t dbc_last_insert_id(dbc *c);
/* 1 outside a transaction. */
int dbc_autocommit(dbc *c);
/* SQLite: a statement that finds the database locked by another connection
 * retries for up to ms milliseconds of the clock, then fails DB_BUSY (0: at
 * once).  Returns the wait it replaces.  PostgreSQL: nothing (its
 * lock_timeout is a session setting, store_writer.c). */
int dbc_busy_wait(dbc *c, int ms);
int dbc_errcode(dbc *c);
/* 1 when the last failure was a unique or primary key constraint (an id or
 * a unique parent task taken), 0 for any other (a foreign key: a row it
 * names is not there). */
int dbc_unique_failed(dbc *c);
/* PostgreSQL: ends the session now and opens a new one (the server drops
 * what the old one held: advisory locks, an aborted transaction); SQLite:
 * nothing. */
void dbc_end_session(dbc *c);
const char *dbc_errmsg(dbc *c);

/* Prepares sql; q >= 0 names a statement cached for the connection's life
 * (PostgreSQL prepares it once per connection), q < 0 one run ad hoc. */
int dbs_prepare(dbc *c, int q, const char *sql, dbs **out);
/* Its caller reads nothing of the statement's execution but success: on
 * PostgreSQL, inside a transaction, it is sent ahead without waiting, and
 * its answer (an error included) comes with the next statement that needs
 * one (store_pg.c).  No effect on SQLite. */
void dbs_defer_ok(dbs *s);
/* Sends a read (bound, not stepped yet) now, outside a transaction, without
 * waiting for its answer: the next request on the connection that waits
 * for one (the first step of this read or of another sent with it, any
 * other statement, a prepare) brings every answer back in one round trip,
 * and each read's steps then walk its own rows as usual.  So two reads sent
 * one after the other cost one round trip; the server runs them in the
 * order they were sent.  If one fails, the reads sent after it fail too
 * (PostgreSQL skips them).  On PostgreSQL only (SQLite: nothing; the read
 * runs at its first step); in a transaction it does nothing either.  A
 * reset or finalize of a read sent and not stepped reads its answer first. */
int dbs_send(dbs *s);
void dbs_finalize(dbs *s);
/* Forgets the current execution's rows, keeping the bindings. */
void dbs_reset(dbs *s);
void dbs_clear_bindings(dbs *s);
/* Parameters are numbered from 1; text is copied. */
void dbs_bind_int64(dbs *s, int i, int64_t v);
void dbs_bind_int(dbs *s, int i, int v);
void dbs_bind_text(dbs *s, int i, const char *v);
/* The same, without a copy on SQLite: v must stay as it is until the
 * statement is reset and its bindings cleared (sq_done). */
void dbs_bind_text_static(dbs *s, int i, const char *v);
/* The first len bytes of v (no NUL inside). */
void dbs_bind_textn(dbs *s, int i, const char *v, int len);
void dbs_bind_null(dbs *s, int i);
/* PostgreSQL gets the shortest text that reads back as the same double. */
void dbs_bind_double(dbs *s, int i, double v);
/* DB_ROW, DB_DONE or an error code. */
int dbs_step(dbs *s);
int64_t dbs_col_int64(dbs *s, int col);
int dbs_col_int(dbs *s, int col);
/* NULL for SQL NULL; valid until the next step or reset. */
const char *dbs_col_text(dbs *s, int col);
int dbs_col_type(dbs *s, int col);
int dbs_col_count(dbs *s);
const char *dbs_col_name(dbs *s, int col);

/* Counts executions and round trips on c and in the process-wide
 * counters (metrics_db.h); called by the shim itself, once per request. */
void dbc_count(dbc *c, unsigned statements, unsigned round_trips);

/* --- PostgreSQL (store_pg.c), called by store_db.c ------------------- */
int pg_open(dbc *c, const char *url);
void pg_close(dbc *c);
int pg_exec(dbc *c, const char *sql);
void pg_end_session(dbc *c);
int pg_prepare(dbs *s);
int pg_step(dbs *s);
int pg_send(dbs *s);
void pg_reset(dbs *s);
int pg_col_type(dbs *s, int col);
/* An ad hoc statement's text for PostgreSQL: SQLite's ?N become $N (ad hoc
 * statements are written in what both dialects read); malloc'ed. */
char *pg_adhoc_text(const char *sql);
/* Maps a SQLSTATE to a DB_* code. */
int pg_code_of(const char *sqlstate);

#endif
