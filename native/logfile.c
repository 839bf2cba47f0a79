/* See logfile.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonw.h"

/* One record at most: the escaped line, the stream's name and the time. */
static char record[JSONW_ESCAPED_MAX(LOG_LINE_MAX) + 128];

int logfile_open(struct log_file *f, const char *path) {
  /* The none log driver: nothing is kept. */
  if (path[0] == '\0') {
    f->fd = -1;
    return 0;
  }
  f->path = path;
  f->max_size = 0;
  f->max_file = 1;
  f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (f->fd < 0) return -1;
  /* A restarted monitor goes on counting from what the log holds. */
  struct stat st;
  f->size = fstat(f->fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
  return 0;
}

void logfile_limit(struct log_file *f, unsigned long long max_size, int max_file) {
  f->max_size = max_size;
  f->max_file = max_file < 1 ? 1 : max_file;
}

/* moby's rotate: path.(n-2) → path.(n-1) … path → path.1, then a new path; with one file, the log is emptied.
 * A failure leaves the log as it is (it grows on rather than losing records). */
static void rotate(struct log_file *f) {
  if (f->max_file < 2) {
    if (ftruncate(f->fd, 0) == 0) f->size = 0;
    return;
  }
  char from[PATH_MAX], to[PATH_MAX];
  for (int i = f->max_file - 1; i > 1; i--) {
    snprintf(to, sizeof to, "%s.%d", f->path, i);
    snprintf(from, sizeof from, "%s.%d", f->path, i - 1);
    if (rename(from, to) < 0 && errno != ENOENT) return;
  }
  snprintf(to, sizeof to, "%s.1", f->path);
  if (rename(f->path, to) < 0) return;
  int fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return;
  close(f->fd);
  f->fd = fd;
  f->size = 0;
}

void logfile_stream(struct log_stream *s, int fd, const char *name) {
  s->fd = fd;
  s->name = name;
  s->len = 0;
  s->partial = 0;
  s->tap = NULL;
}

/* Appends one record with one write, so that no reader ever sees part of one
 * from this writer; a full disk loses the record, as in Docker. */
static void write_record(struct log_file *f, const char *stream, const unsigned char *line, size_t len,
                         const struct timespec *ts) {
  if (f->fd < 0) return;
  if (f->max_size > 0 && f->size >= f->max_size) rotate(f);
  char *o = record;
  memcpy(o, "{\"log\":\"", 8);
  o += 8;
  o += jsonw_escape(o, line, len);
  memcpy(o, "\",\"stream\":\"", 12);
  o += 12;
  size_t n = strlen(stream);
  memcpy(o, stream, n);
  o += n;
  memcpy(o, "\",\"time\":\"", 10);
  o += 10;
  o += jsonw_time(o, ts);
  memcpy(o, "\"}\n", 3);
  o += 3;
  ssize_t put;
  do put = write(f->fd, record, (size_t)(o - record));
  while (put < 0 && errno == EINTR);
  if (put > 0) f->size += (unsigned long long)put;
}

/* Writes the complete lines in the buffer, and the buffer as a partial
 * record when it is full without a newline. */
static void emit(struct log_stream *s, struct log_file *f, const struct timespec *now) {
  size_t start = 0;
  for (;;) {
    unsigned char *nl = memchr(s->buf + start, '\n', s->len - start);
    if (!nl) break;
    size_t end = (size_t)(nl - s->buf) + 1;
    write_record(f, s->name, s->buf + start, end - start, s->partial ? &s->first : now);
    s->partial = 0;
    start = end;
  }
  if (start > 0) {
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
  }
  if (s->len == LOG_LINE_MAX) {
    if (!s->partial) s->first = *now;
    s->partial = 1;
    write_record(f, s->name, s->buf, s->len, &s->first);
    s->len = 0;
  }
}

int logfile_read(struct log_stream *s, struct log_file *f) {
  /* A bounded number of reads per call: a chatty container cannot keep the
   * monitor from its other events (epoll reports the rest again). */
  for (int reads = 0; reads < 16; reads++) {
    ssize_t got = read(s->fd, s->buf + s->len, LOG_LINE_MAX - s->len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return 1;
    if (got <= 0) return 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (s->tap) s->tap(s, s->buf + s->len, (size_t)got);
    s->len += (size_t)got;
    emit(s, f, &now);
  }
  return 1;
}

void logfile_end(struct log_stream *s, struct log_file *f) {
  if (s->fd >= 0) {
    /* Whatever is still in the pipe (the drain timed out) is read once more. */
    logfile_read(s, f);
    close(s->fd);
    s->fd = -1;
  }
  if (s->len == 0) return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  write_record(f, s->name, s->buf, s->len, s->partial ? &s->first : &now);
  s->len = 0;
  s->partial = 0;
}
