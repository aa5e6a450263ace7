/* reload — the inotify watcher thread: watches the flows folder tree,
 * debounces bursts of events and hands changed paths to flowreg
 * (flowreg_reload_path, flowreg_rescan); calls flowreg, fhtime and fhlog. */
#include "reload.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhlog.h"
#include "fhtime.h"

/* A burst of events (an editor's temp file, rename, chmod...) is handled
 * once it has been quiet this long, or at the latest after MAX_DELAY. */
#define QUIET_SECONDS 0.05
#define MAX_DELAY_SECONDS 0.5
/* While the flows folder itself is missing, look for it this often. */
#define RETRY_MS 1000
#define MAX_DEPTH 8

#define DIR_MASK                                                                                              \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |       \
   IN_ATTRIB | IN_ONLYDIR)

typedef struct watch {
  int wd;
  char *rel;     /* folder relative to the flows folder: "" for itself, "a/b" */
} watch;

struct reload {
  flowreg *reg;
  pthread_t thread;
  int ifd;       /* inotify */
  int efd;       /* eventfd: reload_stop() wakes the thread with it */
  int root_wd;   /* -1 while the flows folder is not watched */
  watch *watches;
  int nwatches, capwatches;
  char **pending;   /* changed flow files, in order of arrival, no repeats */
  int npending, cappending;
  int need_rescan;  /* a folder came or went, or events were lost */
  int need_all;     /* a lib/ module changed: every flow is loaded again */
  double first_at, last_at;   /* monotonic times of the burst being collected */
};

/* --- watches ------------------------------------------------------------- */

static watch *find_watch(reload *r, int wd) {
  for (int i = 0; i < r->nwatches; i++)
    if (r->watches[i].wd == wd) return &r->watches[i];
  return NULL;
}

static void drop_watch_at(reload *r, int i) {
  free(r->watches[i].rel);
  r->watches[i] = r->watches[--r->nwatches];
}

static int is_lib_rel(const char *rel) {
  return !strncmp(rel, "lib", 3) && (rel[3] == '\0' || rel[3] == '/');
}

/* The path of name (may be NULL) in folder rel; 0 when it does not fit. */
static int full_path(const reload *r, const char *rel, const char *name, char *out, size_t cap) {
  const char *dir = flowreg_dir(r->reg);
  int n;
  if (rel[0] && name) n = snprintf(out, cap, "%s/%s/%s", dir, rel, name);
  else if (rel[0]) n = snprintf(out, cap, "%s/%s", dir, rel);
  else if (name) n = snprintf(out, cap, "%s/%s", dir, name);
  else n = snprintf(out, cap, "%s", dir);
  return n >= 0 && (size_t)n < cap;
}

/* Watches the folder rel and, recursively, its subfolders.  A folder that
 * is already watched keeps its watch (inotify hands back the same wd). */
static void add_tree(reload *r, const char *rel, int depth) {
  if (depth > MAX_DEPTH) return;
  char path[4096];
  if (!full_path(r, rel, NULL, path, sizeof path)) return;
  int wd = inotify_add_watch(r->ifd, path, DIR_MASK);
  if (wd < 0) {
    if (errno != ENOENT && errno != ENOTDIR)
      fhlog(FHLOG_WARN, "reload: cannot watch %s: %s", path, strerror(errno));
    return;
  }
  if (!rel[0]) r->root_wd = wd;
  watch *w = find_watch(r, wd);
  if (w) {
    /* the same folder under a new name (moved): follow the name */
    char *copy = strdup(rel);
    if (copy) {
      free(w->rel);
      w->rel = copy;
    }
  } else {
    if (r->nwatches == r->capwatches) {
      int cap = r->capwatches ? r->capwatches * 2 : 16;
      watch *grown = realloc(r->watches, sizeof *grown * cap);
      if (!grown) return;
      r->watches = grown;
      r->capwatches = cap;
    }
    char *copy = strdup(rel);
    if (!copy) return;
    r->watches[r->nwatches++] = (watch){.wd = wd, .rel = copy};
  }
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char sub[4096], child[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= sizeof sub) continue;
    if (!full_path(r, sub, NULL, child, sizeof child)) continue;
    struct stat sb;
    if (stat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) add_tree(r, sub, depth + 1);
  }
  closedir(d);
}

/* Forgets the watches of folder rel and below (it moved away or was deleted). */
static void drop_tree(reload *r, const char *rel) {
  size_t n = strlen(rel);
  for (int i = 0; i < r->nwatches;) {
    const char *w = r->watches[i].rel;
    if (!strncmp(w, rel, n) && (w[n] == '\0' || w[n] == '/')) {
      inotify_rm_watch(r->ifd, r->watches[i].wd);   /* its IN_IGNORED finds nothing: fine */
      drop_watch_at(r, i);
    } else {
      i++;
    }
  }
}

/* --- collecting a burst ---------------------------------------------------- */

static void add_pending(reload *r, const char *path) {
  for (int i = 0; i < r->npending; i++)
    if (!strcmp(r->pending[i], path)) return;
  if (r->npending == r->cappending) {
    int cap = r->cappending ? r->cappending * 2 : 16;
    char **grown = realloc(r->pending, sizeof *grown * cap);
    if (!grown) {
      r->need_rescan = 1;   /* the rescan finds what we could not note */
      return;
    }
    r->pending = grown;
    r->cappending = cap;
  }
  if (!(r->pending[r->npending] = strdup(path))) r->need_rescan = 1;
  else r->npending++;
}

static int has_work(const reload *r) { return r->npending || r->need_rescan || r->need_all; }

static void on_event(reload *r, const struct inotify_event *ev) {
  if (ev->mask & IN_Q_OVERFLOW) {
    r->need_rescan = 1;
    return;
  }
  watch *w = find_watch(r, ev->wd);
  if (ev->mask & IN_IGNORED) {
    /* the folder was deleted, or moved out of reach */
    if (ev->wd == r->root_wd) {
      r->root_wd = -1;
      r->need_rescan = 1;
    }
    if (w) drop_watch_at(r, (int)(w - r->watches));
    return;
  }
  if (!w) return;
  if ((ev->mask & IN_MOVE_SELF) && ev->wd == r->root_wd) {
    /* the flows folder itself was renamed: its path now names nothing we
     * watch; start again from the path once it exists again */
    drop_tree(r, "");
    r->root_wd = -1;
    r->need_rescan = 1;
    return;
  }
  if (!ev->len || ev->name[0] == '.') return;   /* hidden files, editors' locks and swaps */
  char rel[4096];
  if ((size_t)snprintf(rel, sizeof rel, "%s%s%s", w->rel, w->rel[0] ? "/" : "", ev->name) >= sizeof rel) return;
  int depth = 0;
  for (const char *p = rel; *p; p++) depth += *p == '/';
  if (ev->mask & IN_ISDIR) {
    if (ev->mask & (IN_CREATE | IN_MOVED_TO)) add_tree(r, rel, depth + 1);
    else if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) drop_tree(r, rel);
    if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
      if (is_lib_rel(rel)) r->need_all = 1;
      else r->need_rescan = 1;   /* flow files came or went with the folder */
    }
    return;
  }
  size_t len = strlen(ev->name);
  if (len < 5 || strcmp(ev->name + len - 4, ".lua") != 0) return;   /* temp files: foo.lua~, 4913, x.swp */
  if (is_lib_rel(rel)) {
    r->need_all = 1;
    return;
  }
  char path[4096];
  if (!full_path(r, w->rel, ev->name, path, sizeof path)) return;
  add_pending(r, path);
}

/* Applies the burst: one rescan when folders changed or lib/ did, else each
 * changed file on its own. */
static void flush(reload *r) {
  fherr err = {0};
  int changed = 0;
  if (r->need_all || r->need_rescan) {
    if (flowreg_rescan(r->reg, r->need_all, &changed, &err)) {
      fhlog(FHLOG_ERROR, "reload: %s", err.message);
      fherr_clear(&err);
    }
  } else {
    for (int i = 0; i < r->npending; i++) {
      if (flowreg_reload_path(r->reg, r->pending[i], &changed, &err)) {
        fhlog(FHLOG_ERROR, "reload %s: %s", r->pending[i], err.message);
        fherr_clear(&err);
      }
    }
  }
  for (int i = 0; i < r->npending; i++) free(r->pending[i]);
  r->npending = 0;
  r->need_rescan = r->need_all = 0;
}

/* --- the thread ------------------------------------------------------------ */

/* When the collected burst is due (monotonic seconds). */
static double due_at(const reload *r) {
  double due = r->last_at + QUIET_SECONDS;
  return due > r->first_at + MAX_DELAY_SECONDS ? r->first_at + MAX_DELAY_SECONDS : due;
}

static int ms_until(double when, double now) { return when <= now ? 0 : (int)((when - now) * 1000) + 1; }

static void *watch_thread(void *arg) {
  reload *r = arg;
  /* Events are aligned to struct inotify_event. */
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  double retry_at = 0;
  for (;;) {
    double now = fhtime_monotonic();
    int timeout = -1;
    /* While the flows folder is missing, nothing is applied: a folder being
     * replaced (rm -r, then a new copy) does not empty the registry. */
    if (r->root_wd >= 0 && has_work(r)) timeout = ms_until(due_at(r), now);
    else if (r->root_wd < 0) timeout = ms_until(retry_at, now);
    struct pollfd fds[2] = {{.fd = r->efd, .events = POLLIN}, {.fd = r->ifd, .events = POLLIN}};
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) {
      fhlog(FHLOG_ERROR, "reload: poll: %s; hot reload stops", strerror(errno));
      break;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) break;
    now = fhtime_monotonic();
    if (n > 0 && (fds[1].revents & POLLIN)) {
      ssize_t got;
      while ((got = read(r->ifd, buf, sizeof buf)) > 0) {
        int had = has_work(r);
        for (char *p = buf; p < buf + got;) {
          const struct inotify_event *ev = (const struct inotify_event *)p;
          on_event(r, ev);
          p += sizeof *ev + ev->len;
        }
        if (has_work(r)) {
          if (!had) r->first_at = now;
          r->last_at = now;
        }
      }
    }
    if (r->root_wd < 0 && retry_at <= now) {
      retry_at = now + RETRY_MS / 1000.0;
      struct stat sb;
      if (stat(flowreg_dir(r->reg), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        add_tree(r, "", 0);
        if (r->root_wd >= 0) {
          r->need_rescan = 1;   /* whatever happened meanwhile */
          r->first_at = r->last_at = now - MAX_DELAY_SECONDS;
        }
      }
    }
    if (r->root_wd >= 0 && has_work(r) && now >= due_at(r)) flush(r);
  }
  return NULL;
}

int reload_start(flowreg *reg, reload **out, fherr *err) {
  *out = NULL;
  reload *r = calloc(1, sizeof *r);
  if (!r) return fherr_set(err, FH_INTERNAL, "out of memory");
  r->reg = reg;
  r->root_wd = -1;
  r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  r->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (r->efd < 0 || r->ifd < 0) {
    int rc = fherr_set(err, FH_INTERNAL, "hot reload: %s: %s", r->ifd < 0 ? "inotify" : "eventfd", strerror(errno));
    if (r->efd >= 0) close(r->efd);
    if (r->ifd >= 0) close(r->ifd);
    free(r);
    return rc;
  }
  add_tree(r, "", 0);
  if (r->root_wd < 0)
    fhlog(FHLOG_WARN, "reload: %s is not a folder (yet); watching for it", flowreg_dir(reg));
  /* Files may have changed between the first load and the watches. */
  r->need_rescan = 1;
  r->first_at = r->last_at = fhtime_monotonic() - MAX_DELAY_SECONDS;
  flowreg_set_log(reg, 1);
  int prc = pthread_create(&r->thread, NULL, watch_thread, r);
  if (prc) {
    flowreg_set_log(reg, 0);
    close(r->efd);
    close(r->ifd);
    for (int i = 0; i < r->nwatches; i++) free(r->watches[i].rel);
    free(r->watches);
    free(r);
    return fherr_set(err, FH_INTERNAL, "hot reload: cannot start its thread: %s", strerror(prc));
  }
  *out = r;
  return FH_OK;
}

void reload_stop(reload *r) {
  if (!r) return;
  uint64_t one = 1;
  while (write(r->efd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  pthread_join(r->thread, NULL);
  flowreg_set_log(r->reg, 0);
  close(r->ifd);
  close(r->efd);
  for (int i = 0; i < r->nwatches; i++) free(r->watches[i].rel);
  free(r->watches);
  for (int i = 0; i < r->npending; i++) free(r->pending[i]);
  free(r->pending);
  free(r);
}
