/* reload — hot reload of the flows folder for `flowhost serve`.
 *
 * A thread watches the flows folder and its subfolders with inotify
 * (create, close-after-write, move in/out, delete), debounces bursts (an
 * editor's write-temp-then-rename arrives as several events) and calls
 * flowreg_reload_path() for each changed file; a change under lib/ reloads
 * every flow.  A failed load keeps the old definition and records the error
 * in the registry, where GET /api/flows and the log show it.
 */
#ifndef RELOAD_H
#define RELOAD_H

#include "fherr.h"
#include "flowreg.h"

typedef struct reload reload;

int reload_start(flowreg *reg, reload **out, fherr *err);
void reload_stop(reload *r);   /* NULL-safe */

#endif
