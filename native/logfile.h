/* A container's stdout and stderr as Docker's json-file log: one record per
 * line ({"log":…,"stream":…,"time":…}\n), each appended with one write(2),
 * lines longer than 16 KiB cut into partial records, as moby's copier does. */
#ifndef NBOX_LOGFILE_H
#define NBOX_LOGFILE_H

#include <stddef.h>
#include <time.h>

/* moby's copier buffer: a line longer than this is written in parts. */
#define LOG_LINE_MAX (16 * 1024)

struct log_file {
  int fd;
  const char *path;
  /* --log-opt max-size (0: no limit) and max-file: past max_size the log is rotated to path.1 … path.(max_file-1),
   * or with max_file 1 emptied, before the next record, as moby's json-file driver does. */
  unsigned long long max_size, size;
  int max_file;
};

struct log_stream {
  int fd; /* the read end of the container's pipe, or -1 after EOF */
  const char *name;
  size_t len;
  int partial;              /* a part of the current line is written already */
  struct timespec first;    /* that part's time, which the rest of the line keeps */
  unsigned char buf[LOG_LINE_MAX];
  /* Called with every chunk read, before it is logged (attached clients); NULL for none. */
  void (*tap)(const struct log_stream *s, const unsigned char *data, size_t len);
};

/* Opens (creating, mode 0640) the log for appending; an empty path is no log (records go nowhere).
 * 0, or -1 with errno. */
int logfile_open(struct log_file *f, const char *path);

/* Sets the rotation limits (logfile_open leaves the log unlimited). */
void logfile_limit(struct log_file *f, unsigned long long max_size, int max_file);

void logfile_stream(struct log_stream *s, int fd, const char *name);

/* Reads what the pipe has and writes the records it completes. 0 at EOF or
 * on an error (the stream is done), else 1. */
int logfile_read(struct log_stream *s, struct log_file *f);

/* At the end: what is left of an unterminated line goes out as a partial record. */
void logfile_end(struct log_stream *s, struct log_file *f);

#endif
