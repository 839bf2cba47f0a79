/* nbox-ryuk: testcontainers' resource reaper (moby-ryuk's protocol), so that a
 * testcontainers suite keeps its own cleanup against `nbox serve` where Docker
 * Hub's image cannot be pulled. scripts/ryuk-image.sh makes the image.
 *
 * Clients connect to RYUK_PORT (8080) and send filter lines in URL query form
 * (`label=org.testcontainers.session-id=ID`), each answered "ACK\n". Once the
 * last client has gone for RYUK_RECONNECTION_TIMEOUT (10s), or none came within
 * RYUK_CONNECTION_TIMEOUT (60s), or on SIGTERM, it removes the containers,
 * networks, volumes and images that match any filter, through the Engine API
 * on /var/run/docker.sock (DOCKER_HOST unix://PATH elsewhere), and ends.
 * Containers labelled org.testcontainers.ryuk=true (reapers) are spared. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_FILTERS 64
#define LINE_MAX_LEN 4096
#define REAPER_LABEL "\"org.testcontainers.ryuk\":\"true\""

struct client {
  int fd;
  size_t len;
  char line[LINE_MAX_LEN];
};

static char *filters[MAX_FILTERS]; /* each a Docker filters JSON object, URL-encoded */
static size_t nfilters;
static const char *socket_path = "/var/run/docker.sock";
static volatile sig_atomic_t terminated;

static void on_term(int sig) {
  (void)sig;
  terminated = 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A Go duration ("10s", "1m30s", "500ms") in ms; fallback when unset or malformed. */
static long long duration_ms(const char *name, long long fallback) {
  const char *s = getenv(name);
  if (!s || !*s) return fallback;
  double total = 0;
  while (*s) {
    char *end;
    double n = strtod(s, &end);
    if (end == s) return fallback;
    double unit;
    if (strncmp(end, "ms", 2) == 0) unit = 1, end += 2;
    else if (*end == 'h') unit = 3600000, end++;
    else if (*end == 'm') unit = 60000, end++;
    else if (*end == 's') unit = 1000, end++;
    else return fallback;
    total += n * unit;
    s = end;
  }
  return (long long)total;
}

static int hex(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes a query component (%XX, '+') of [s, s+n) into out: its length. */
static size_t query_decode(const char *s, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') out[o++] = ' ';
    else if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else out[o++] = s[i];
  }
  return o;
}

/* Appends s (n bytes) to out as a JSON string, URL-encoded for the filters query parameter. */
static size_t put_json_string(char *out, const char *s, size_t n) {
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') out[o++] = '\\';
    if (c < 0x20) continue;
    out[o++] = (char)c;
  }
  out[o++] = '"';
  return o;
}

static size_t url_encode(const char *s, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.') out[o++] = (char)c;
    else o += (size_t)sprintf(out + o, "%%%02X", c);
  }
  return o;
}

/* A filter line (`label=a=b&label=c&name=x`) as Docker's filters JSON ({"label":["a=b","c"],"name":["x"]}),
 * URL-encoded; NULL when it names nothing. As in Docker, the values of one key must all match. */
static char *filter_query(const char *line) {
  size_t n = strlen(line);
  /* At most 11 bytes out for every 3 in (`a=&` gives `"a":[""],`), escapes included: 4n is enough. */
  char *json = malloc(n * 4 + 64), *decoded = malloc(n + 1);
  if (!json || !decoded) return free(json), free(decoded), NULL;
  size_t o = 0;
  json[o++] = '{';
  /* Each key once, the first time it appears: all of its values then. */
  for (const char *p = line; *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    int first = eq && eq > p;
    for (const char *q = line; first && q < p;) {
      const char *qamp = strchr(q, '&');
      size_t qlen = (size_t)(qamp - q);
      if (qlen > (size_t)(eq - p) && q[eq - p] == '=' && memcmp(q, p, (size_t)(eq - p)) == 0) first = 0;
      q += qlen + 1;
    }
    if (first) {
      if (o > 1) json[o++] = ',';
      o += put_json_string(json + o, decoded, query_decode(p, (size_t)(eq - p), decoded));
      json[o++] = ':';
      json[o++] = '[';
      int values = 0;
      for (const char *q = p; *q;) {
        const char *qamp = strchr(q, '&');
        size_t qlen = qamp ? (size_t)(qamp - q) : strlen(q);
        if (qlen > (size_t)(eq - p) && q[eq - p] == '=' && memcmp(q, p, (size_t)(eq - p)) == 0) {
          if (values++) json[o++] = ',';
          size_t skip = (size_t)(eq - p) + 1;
          o += put_json_string(json + o, decoded, query_decode(q + skip, qlen - skip, decoded));
        }
        q += qlen + (qamp ? 1 : 0);
      }
      json[o++] = ']';
    }
    p += len + (amp ? 1 : 0);
  }
  json[o++] = '}';
  free(decoded);
  if (o == 2) return free(json), NULL;
  char *encoded = malloc(o * 3 + 1);
  if (encoded) encoded[url_encode(json, o, encoded)] = '\0';
  free(json);
  return encoded;
}

static void add_filter(const char *line) {
  char *query = filter_query(line);
  if (!query) return;
  for (size_t i = 0; i < nfilters; i++)
    if (strcmp(filters[i], query) == 0) return free(query);
  if (nfilters == MAX_FILTERS) return free(query);
  filters[nfilters++] = query;
  printf("Adding filter %s\n", line);
  fflush(stdout);
}

/* One HTTP/1.0 request to the Engine API: the status code, with the body in *body (malloc'd), or -1. */
static int engine(const char *method, const char *path, char **body) {
  *body = NULL;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
  char request[8192];
  int len = snprintf(request, sizeof request, "%s %s HTTP/1.0\r\nHost: docker\r\n\r\n", method, path);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || len >= (int)sizeof request || write(fd, request, (size_t)len) != len) {
    close(fd);
    return -1;
  }
  size_t cap = 65536, got = 0;
  char *buf = malloc(cap + 1);
  for (ssize_t r = 1; buf && r > 0;) {
    if (got == cap) {
      char *bigger = realloc(buf, cap * 2 + 1);
      if (!bigger) break;
      buf = bigger;
      cap *= 2;
    }
    r = read(fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR) r = 1;
    else if (r > 0) got += (size_t)r;
  }
  close(fd);
  if (!buf) return -1;
  buf[got] = '\0';
  int status = -1;
  sscanf(buf, "HTTP/%*s %d", &status);
  char *start = strstr(buf, "\r\n\r\n");
  *body = strdup(start ? start + 4 : "");
  free(buf);
  return status;
}

/* Calls each(value, object span) for the string value of key in each object at depth `at` of a JSON
 * document: 2 for the objects of a top-level array. */
static void each_field(const char *json, int at, const char *key, void (*each)(const char *value, const char *from, const char *to)) {
  int depth = 0;
  const char *object = NULL;
  char value[512] = "";
  size_t keylen = strlen(key);
  for (const char *p = json; *p; p++) {
    if (*p == '"') {
      const char *s = ++p;
      while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
      if (!*p) return;
      const char *after = p + 1;
      while (*after == ' ') after++;
      /* A key of this object, its value a string: kept as the object's. */
      if (depth == at && *after == ':' && (size_t)(p - s) == keylen && memcmp(s, key, keylen) == 0) {
        const char *v = after + 1;
        while (*v == ' ') v++;
        if (*v == '"') {
          const char *e = ++v;
          while (*e && *e != '"' && (size_t)(e - v) < sizeof value - 1) e++;
          memcpy(value, v, (size_t)(e - v));
          value[e - v] = '\0';
        }
      }
    } else if (*p == '{' || *p == '[') {
      if (++depth == at && *p == '{') object = p, value[0] = '\0';
    } else if (*p == '}' || *p == ']') {
      if (depth-- == at && *p == '}' && object && value[0]) each(value, object, p + 1);
    }
  }
}

static const char *kind_path; /* the DELETE path of what each_field lists, "%s" the name */
static int removed;

static void remove_one(const char *name, const char *from, const char *to) {
  size_t span = (size_t)(to - from);
  if (memmem(from, span, REAPER_LABEL, sizeof REAPER_LABEL - 1)) return;
  char path[1024], *body;
  snprintf(path, sizeof path, kind_path, name);
  int status = engine("DELETE", path, &body);
  if (status >= 200 && status < 300) removed++;
  else printf("DELETE %s: %d %s\n", path, status, body ? body : "");
  free(body);
}

static void prune_kind(const char *list_path, int at, const char *key, const char *delete_path) {
  for (size_t i = 0; i < nfilters; i++) {
    char path[8192], *body;
    snprintf(path, sizeof path, list_path, filters[i]);
    int status = engine("GET", path, &body);
    if (status == 200) {
      kind_path = delete_path;
      removed = 0;
      each_field(body, at, key, remove_one);
      if (removed) printf("Removed %d of %s\n", removed, list_path);
    } else printf("GET %s: %d\n", path, status);
    free(body);
  }
}

static void prune(void) {
  prune_kind("/containers/json?all=1&filters=%s", 2, "Id", "/containers/%s?force=1&v=1");
  prune_kind("/networks?filters=%s", 2, "Id", "/networks/%s");
  /* {"Volumes":[…]}: its entries one level deeper. */
  prune_kind("/volumes?filters=%s", 3, "Name", "/volumes/%s?force=1");
  prune_kind("/images/json?filters=%s", 2, "Id", "/images/%s");
  fflush(stdout);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *host = getenv("DOCKER_HOST");
  if (host && strncmp(host, "unix://", 7) == 0) socket_path = host + 7;
  long long connection_timeout = duration_ms("RYUK_CONNECTION_TIMEOUT", 60000);
  long long reconnection_timeout = duration_ms("RYUK_RECONNECTION_TIMEOUT", 10000);
  const char *port_text = getenv("RYUK_PORT");
  int port = port_text && *port_text ? atoi(port_text) : 8080;
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  char *ping;
  if (engine("GET", "/_ping", &ping) != 200) {
    fprintf(stderr, "ryuk: no Engine API on %s\n", socket_path);
    return 1;
  }
  free(ping);
  int listener = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int off = 0, on = 1;
  setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in6 addr = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = in6addr_any};
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 64) < 0) {
    perror("ryuk: listen");
    return 1;
  }
  printf("Started on port %d\n", port);

  static struct client clients[MAX_CLIENTS];
  size_t nclients = 0;
  long long deadline = now_ms() + connection_timeout;
  while (!terminated) {
    struct pollfd fds[MAX_CLIENTS + 1];
    /* With every slot taken the listener is not watched: its pending connection would wake poll at once, forever. */
    fds[0] = (struct pollfd){.fd = listener, .events = nclients < MAX_CLIENTS ? POLLIN : 0};
    for (size_t i = 0; i < nclients; i++) fds[i + 1] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
    long long wait = nclients ? -1 : deadline - now_ms();
    if (nclients == 0 && wait <= 0) break;
    if (poll(fds, nclients + 1, wait > 1000000 ? 1000000 : (int)wait) < 0) continue;
    if ((fds[0].revents & POLLIN) && nclients < MAX_CLIENTS) {
      int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0) clients[nclients++] = (struct client){.fd = fd};
    }
    for (size_t i = nclients; i-- > 0;) {
      if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) || fds[i + 1].fd != clients[i].fd) continue;
      struct client *c = &clients[i];
      ssize_t r = read(c->fd, c->line + c->len, sizeof c->line - 1 - c->len);
      if (r > 0) c->len += (size_t)r;
      /* Each whole line is a filter, acknowledged; a line longer than the buffer is taken as it is. */
      for (char *nl; (nl = memchr(c->line, '\n', c->len)) || c->len == sizeof c->line - 1;) {
        size_t end = nl ? (size_t)(nl - c->line) : c->len;
        c->line[end] = '\0';
        if (end > 0 && c->line[end - 1] == '\r') c->line[end - 1] = '\0';
        if (c->line[0]) {
          add_filter(c->line);
          ssize_t ignored = write(c->fd, "ACK\n", 4);
          (void)ignored;
        }
        size_t rest = c->len - (nl ? end + 1 : end);
        memmove(c->line, c->line + c->len - rest, rest);
        c->len = rest;
      }
      if (r <= 0 && !(r < 0 && errno == EINTR)) {
        /* A one-off client (`printf FILTER | nc`) leaves its last line unterminated. */
        if (c->len > 0) {
          c->line[c->len] = '\0';
          add_filter(c->line);
        }
        close(c->fd);
        clients[i] = clients[--nclients];
        if (nclients == 0) deadline = now_ms() + reconnection_timeout;
      }
    }
  }
  close(listener);
  prune();
  printf("Done\n");
  return 0;
}
