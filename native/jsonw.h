/* JSON text as Docker writes it: moby's jsonlogbytes escaping of a byte
 * string, and Go's RFC3339Nano time in UTC. */
#ifndef NBOX_JSONW_H
#define NBOX_JSONW_H

#include <stddef.h>
#include <time.h>

/* The most bytes jsonw_escape writes for len input bytes (each may become \u00XX). */
#define JSONW_ESCAPED_MAX(len) ((len) * 6)

/* Writes in (len bytes) escaped, without quotes, to out; returns the bytes written. */
size_t jsonw_escape(char *out, const unsigned char *in, size_t len);

/* The longest RFC3339Nano time and its NUL: 2006-01-02T15:04:05.999999999Z. */
#define JSONW_TIME_MAX 36

/* Writes ts as Go's time.RFC3339Nano in UTC (trailing zeros of the fraction
 * trimmed, no fraction when it is zero); returns its length. */
size_t jsonw_time(char *out, const struct timespec *ts);

#endif
