/* graph — dot source to SVG with libgvc, one render at a time under a mutex;
 * calls only Graphviz. */
#include "graph.h"

#include <gvc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t graph_mu = PTHREAD_MUTEX_INITIALIZER;
/* One Graphviz context for the whole process, made on first use: Graphviz
 * keeps global state that points into a freed context, so a second render
 * with a fresh context reads freed memory (seen with ASan). */
static GVC_t *graph_gvc;

void graph_end(void) {
  pthread_mutex_lock(&graph_mu);
  if (graph_gvc) gvFreeContext(graph_gvc);
  graph_gvc = NULL;
  pthread_mutex_unlock(&graph_mu);
}

int graph_render_svg(const char *dot, char **svg, size_t *len, fherr *err) {
  *svg = NULL;
  *len = 0;
  pthread_mutex_lock(&graph_mu);
  int rc = FH_OK;
  if (!graph_gvc) graph_gvc = gvContext();
  GVC_t *gvc = graph_gvc;
  Agraph_t *g = gvc ? agmemread(dot) : NULL;
  if (!g) {
    rc = fherr_set(err, FH_INTERNAL, "graphviz could not read the flow chart");
  } else if (gvLayout(gvc, g, "dot") != 0) {
    rc = fherr_set(err, FH_INTERNAL, "graphviz layout failed");
  } else {
    char *out = NULL;
    unsigned int n = 0;
    if (gvRenderData(gvc, g, "svg", &out, &n) != 0 || !out) {
      rc = fherr_set(err, FH_INTERNAL, "graphviz rendering failed");
    } else {
      *svg = malloc(n + 1);
      if (*svg) {
        /* Graphviz writes '-' as "&#45;"; plain dashes keep ids such as
         * "node-approve" greppable.  Node names are [a-z0-9_], so no "--"
         * can appear inside the comments Graphviz emits. */
        size_t w = 0;
        for (unsigned int i = 0; i < n; i++) {
          if (i + 5 <= n && !memcmp(out + i, "&#45;", 5)) {
            (*svg)[w++] = '-';
            i += 4;
          } else {
            (*svg)[w++] = out[i];
          }
        }
        (*svg)[w] = '\0';
        *len = w;
      } else {
        rc = fherr_set(err, FH_INTERNAL, "out of memory");
      }
      gvFreeRenderData(out);
    }
    gvFreeLayout(gvc, g);
  }
  if (g) agclose(g);
  pthread_mutex_unlock(&graph_mu);
  return rc;
}
