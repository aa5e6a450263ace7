/* engine_events — messages and signals: delivering one to the receivers
 * that wait for it, keeping a message nobody waits for yet.
 * (Being built: answers 500 until the delivery lands.) */
#include "engine_internal.h"

int engine_send(engine *e, const fh_actor *a, const engine_send_args *m, json_t **out, fherr *err) {
  (void)e, (void)a, (void)m;
  *out = NULL;
  return fherr_set(err, FH_INTERNAL, "messages are not delivered yet");
}
