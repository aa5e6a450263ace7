/* hostbeat — `serve`'s record of which flow versions it serves: a thread
 * with an engine of its own writes the content hash of every flow at the
 * start and soon after each reload (it watches the registry's generation
 * number), refreshes the host's heartbeat every ENGINE_HOSTS_BEAT seconds
 * (one UPDATE), and at a clean stop removes the host's rows.  With each
 * beat, and once more at the stop, it writes when the tokens that signed in
 * meanwhile were used (token_use.h).  Trouble (the database away) is
 * logged once and retried; the host serves meanwhile.
 */
#ifndef HOSTBEAT_H
#define HOSTBEAT_H

#include "fherr.h"
#include "flowreg.h"
#include "token_use.h"

typedef struct hostbeat hostbeat;

/* name: serve --name; NULL: HOSTNAME:PORT, port the one the host listens on.
 * uses: the tokens' uses to write (shared, not owned; NULL: none). */
int hostbeat_start(flowreg *reg, const char *db_path, int synchronous_full, const char *name, int port,
                   token_uses *uses, hostbeat **out, fherr *err);
/* Stops the thread and forgets the host's rows; NULL-safe. */
void hostbeat_stop(hostbeat *h);

#endif
