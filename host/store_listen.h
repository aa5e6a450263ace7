/* store_listen — the wake-ups that cross hosts on PostgreSQL.
 *
 * A write that makes a task due (a job, a timer, a retry, a woken
 * Subprocess task, an external task) sends a NOTIFY on the channel
 * `flowhost_due` from a trigger of the task table (migration 3 of
 * store_schema_pg.c), so it is delivered when the transaction commits and
 * never for one that rolls back.  A listener is one connection of its own,
 * LISTENing on that channel in a thread, which calls back on each
 * notification about host jobs; the job pool (jobs.c) wakes its workers
 * with it.  A Subprocess task that becomes due is started in-line by the
 * action that wrote it (its answer shows the child), so for those the call
 * back comes SUBPROCESS_GRACE later: a worker then finds it only if that
 * did not happen (the writer died, the start failed and was rescheduled).  When the connection is lost it connects again (with a growing
 * pause) and calls back once it is back, since notifications sent meanwhile
 * are gone.  SQLite has nothing to listen to: wake-ups stay in-process.
 *
 * The same thread, started by store_listen_identity, listens on
 * `flowhost_identity` instead: triggers of the user, group, permission,
 * token and session tables (migration 6) notify it of every change, so
 * that a host may keep what a token or a session stands for in memory
 * (identity_cache.c) and forget it when any host, or psql, changes it.
 */
#ifndef STORE_LISTEN_H
#define STORE_LISTEN_H

#include "fherr.h"

/* The channel and its payloads: what became due. */
#define STORE_DUE_CHANNEL "flowhost_due"
#define STORE_DUE_JOB "job"
#define STORE_DUE_SUBPROCESS "subprocess"
#define STORE_DUE_EXTERNAL "external"

typedef struct store_listener store_listener;
typedef void (*store_wake_fn)(void *arg);

/* Starts listening on the database of url; *out is NULL (and FH_OK) for
 * SQLite.  A server that is away at the start is not an error: the thread
 * keeps trying. */
int store_listen_start(const char *url, store_wake_fn wake, void *arg, store_listener **out, fherr *err);

#define STORE_IDENTITY_CHANNEL "flowhost_identity"
/* live 1: a change was notified, or the listener listens from now on (what
 * was notified before is unknown); live 0: the connection is lost, changes
 * go unnoticed until a call with 1. */
typedef void (*store_changed_fn)(void *arg, int live);
/* Starts listening on STORE_IDENTITY_CHANNEL; *out is NULL (and FH_OK, no
 * call ever) for SQLite. */
int store_listen_identity(const char *url, store_changed_fn changed, void *arg, store_listener **out, fherr *err);

/* Stops the thread and closes the connection; NULL-safe. */
void store_listen_stop(store_listener *l);

#endif
