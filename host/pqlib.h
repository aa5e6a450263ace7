/* pqlib — libpq, loaded when the first PostgreSQL connection is opened.
 *
 * The host serves SQLite by default; linking libpq would load it, and with
 * it OpenSSL, Kerberos and LDAP, into every host (about 2.5 MiB of resident
 * memory and the start-up time) whether or not a postgresql:// URL is ever
 * used.  So the store units call libpq through the table `pq`, filled by
 * dlopen("libpq.so.5") on first use; the types and constants still come
 * from libpq-fe.h.  Only the store's PostgreSQL units use it.
 */
#ifndef PQLIB_H
#define PQLIB_H

#include <libpq-fe.h>
#include <stddef.h>

#define PQLIB_FUNCS(X) \
  X(PQclear) \
  X(PQcmdStatus) \
  X(PQcmdTuples) \
  X(PQconnectPoll) \
  X(PQconnectStartParams) \
  X(PQconnectdbParams) \
  X(PQconsumeInput) \
  X(PQdescribePrepared) \
  X(PQenterPipelineMode) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQexecParams) \
  X(PQexecPrepared) \
  X(PQexitPipelineMode) \
  X(PQfinish) \
  X(PQfname) \
  X(PQfreemem) \
  X(PQftype) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetvalue) \
  X(PQnfields) \
  X(PQnotifies) \
  X(PQnparams) \
  X(PQntuples) \
  X(PQpipelineStatus) \
  X(PQpipelineSync) \
  X(PQprepare) \
  X(PQreset) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsendQueryParams) \
  X(PQsendQueryPrepared) \
  X(PQsetNoticeProcessor) \
  X(PQsetNoticeReceiver) \
  X(PQsetnonblocking) \
  X(PQsocket) \
  X(PQstatus) \
  X(PQtransactionStatus)

typedef struct pqlib {
#define PQLIB_MEMBER(f) __typeof__(&f) f;
  PQLIB_FUNCS(PQLIB_MEMBER)
#undef PQLIB_MEMBER
} pqlib;

/* Filled by pqlib_load; read-only afterwards. */
extern pqlib pq;

/* Loads libpq once (thread-safe).  0 when every function is there; else -1
 * and msg says why (libpq not installed: Debian's libpq5). */
int pqlib_load(char *msg, size_t cap);

#endif
