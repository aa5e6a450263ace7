/* graph — renders a flow chart (Graphviz dot source from flowdef_to_dot)
 * to SVG with libgvc.  Graphviz keeps global state, so renders are
 * serialized by a mutex; charts are small and cached by callers if hot. */
#ifndef GRAPH_H
#define GRAPH_H

#include <stddef.h>

#include "fherr.h"

/* *svg is malloc'd (free with free()). */
int graph_render_svg(const char *dot, char **svg, size_t *len, fherr *err);
/* Frees the process's Graphviz context; call once at exit, after the last render. */
void graph_end(void);

#endif
