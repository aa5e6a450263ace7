/* engine_internal — what the units of the engine share, and nothing else
 * includes it.
 *
 *   engine.c       opening, actors, the transition rules and the public actions
 *   engine_run.c   a run: one action's activations (callbacks, next tasks,
 *                  gateways, split/join tokens, the error policy)
 *   engine_view.c  the JSON views and the lists (flows, tasks, processes)
 *   engine_jobs.c  running due jobs and timers
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct engine {
  store *st;
  flowreg *reg;
  flowgen *gen;         /* the generation the vm holds; kept referenced */
  luavm *vm;
  double budget;
  double lease_grace;
  char worker[64];
};

/* --- a run: one action's automatic activations ------------------------ */

typedef struct run {
  engine *e;
  const fh_actor *actor;
  const flowdef *fd;
  st_process proc;
  json_t *data;          /* process data, owned; written back at the end */
  int64_t *queue;        /* tasks waiting for automatic activation */
  int qhead, qlen, qcap;
  json_t *created;       /* ids of tasks created by this action */
  int job_mode;          /* errors in automatic nodes become ERROR tasks */
  int steps;
} run;

enum { A_ASSIGN, A_UNASSIGN, A_REASSIGN, A_EXECUTE, A_CANCEL, A_UNDO, A_REVIVE, A__COUNT };
#define N_TRANSITIONS A__COUNT
extern const char *const ENGINE_ACTIONS[A__COUNT];

/* --- small helpers -------------------------------------------------------- */


static inline int is_active_status(const char *s) {
  return !strcmp(s, "NEW") || !strcmp(s, "ASSIGNED") || !strcmp(s, "STARTED") || !strcmp(s, "SCHEDULED") ||
         !strcmp(s, "ERROR");
}

static inline const char *node_part(const char *flow_task) {
  const char *dot = strchr(flow_task, '.');
  return dot ? dot + 1 : flow_task;
}

static inline json_t *time_or_null(const char *t) { return t && t[0] ? json_string(t) : json_null(); }

static inline json_t *parse_json_text(const char *text) {
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  return v ? v : json_object();
}

static inline char *dump_json(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}


/* --- shared between the units ------------------------------------------ */

int engine_sync_flows(engine *e, fherr *err);
const flowdef *engine_find_def(engine *e, const char *flow);
void engine_push_user(lua_State *L, const fh_actor *a);
int engine_can_see_process(engine *e, const fh_actor *a, const st_process *p, fherr *err);
int engine_check_action(run *r, st_task *t, const fd_node *n, int action, fherr *err);
int engine_apply_action(run *r, st_task *t, const fd_node *n, int action, json_t *args, fherr *err);
int engine_begin(engine *e, fherr *err);
int engine_end_txn(engine *e, int rc, fherr *err);
int run_init(run *r, engine *e, const fh_actor *a, int64_t process_id, fherr *err);
void run_free(run *r);
int run_enqueue(run *r, int64_t id, fherr *err);
int run_save_process(run *r, fherr *err);
int run_invoke_node(run *r, st_task *t, const fd_node *n, const char *key, const json_t *extra, int nres, fherr *err);
int run_clean_known(engine *e, const flowdef *fd, const json_t *data, json_t **out, fherr *err);
int run_clean_data(engine *e, const char *flow, char **fields, int nfields, const json_t *data, json_t **out, fherr *err);
void run_merge_into(json_t *dst, const json_t *src);
void run_merge_form(json_t *dst, const json_t *clean, const json_t *submitted);
int run_may_do_node(run *r, const fd_node *n, st_task *t, fherr *err);
int run_complete_task(run *r, st_task *t, fherr *err);
int run_create_task(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err);
int run_follow_next(run *r, const st_task *from, const fd_node *n, fherr *err);
int run_finish(run *r, fherr *err);
json_t *view_process_json(engine *e, const st_process *p);
json_t *view_task_json(engine *e, const st_task *t);
json_t *view_created_tasks(engine *e, json_t *ids);

#endif
