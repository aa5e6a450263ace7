/* http_static — the files of the web folder, for GET and HEAD.
 *
 * Only regular files inside the folder are served: a path with "." or ".."
 * segments, hidden names, encoded dots or slashes, backslashes or control
 * bytes is refused; the remaining path is resolved with realpath() and must
 * still lie inside the folder (so symlinks cannot lead out of it); only
 * known file types are served.  Everything refused is a plain 404.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_internal.h"

static const struct {
  const char *ext;
  const char *type;
} TYPES[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot) return NULL;
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (!strcasecmp(dot + 1, TYPES[i].ext)) return TYPES[i].type;
  return NULL;
}

static void not_found(http_req *r) {
  char *text = strdup("not found\n");
  http_reply_raw(r, 404, "text/plain; charset=utf-8", text, text ? strlen(text) : 0);
}

/* The decoded path is acceptable: "/a/b.css" with no empty, hidden, "." or
 * ".." segment and no backslash or control byte. */
static int safe_path(const char *path) {
  if (path[0] != '/') return 0;
  const char *seg = path + 1;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    if (len == 0 || seg[0] == '.') return 0;
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)seg[i];
      if (c < 0x20 || c == 0x7f || c == '\\') return 0;
    }
    if (!end) return 1;
    seg = end + 1;
  }
}

/* The raw URI must not smuggle dots, slashes, backslashes or NUL in escapes. */
static int raw_ok(const char *uri) {
  size_t n = strcspn(uri, "?#");
  for (size_t i = 0; i < n; i++) {
    if (uri[i] != '%') continue;
    if (i + 2 >= n) return 0;
    char a = uri[i + 1], b = uri[i + 2];
    if (a == '0' && b == '0') return 0;
    if (a == '2' && (b == 'e' || b == 'E' || b == 'f' || b == 'F')) return 0;
    if (a == '5' && (b == 'c' || b == 'C')) return 0;
  }
  return 1;
}

void http_static(http_req *r) {
  if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
    snprintf(r->out_allow, sizeof r->out_allow, "GET, HEAD");
    char *text = strdup("method not allowed\n");
    http_reply_raw(r, 405, "text/plain; charset=utf-8", text, text ? strlen(text) : 0);
    return;
  }
  const char *root = r->srv->web_root;
  if (!root || !r->path || !raw_ok(r->uri)) {
    not_found(r);
    return;
  }
  const char *path = !strcmp(r->path, "/") ? "/index.html" : r->path;
  const char *type = type_of(path);
  char full[PATH_MAX], resolved[PATH_MAX];
  size_t root_len = strlen(root);
  if (!type || !safe_path(path) || root_len + strlen(path) >= sizeof full) {
    not_found(r);
    return;
  }
  size_t path_len = strlen(path);
  memcpy(full, root, root_len);
  memcpy(full + root_len, path, path_len + 1);
  if (!realpath(full, resolved) || strncmp(resolved, root, root_len) != 0 || resolved[root_len] != '/') {
    not_found(r);
    return;
  }
  int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (fd >= 0) close(fd);
    not_found(r);
    return;
  }
  r->out_status = 200;
  r->out_type = type;
  r->out_fd = fd;
  r->out_fd_size = (uint64_t)sb.st_size;
}
