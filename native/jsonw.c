/* See jsonw.h. Escaping follows moby daemon/logger/jsonfilelog/jsonlog/
 * jsonlogbytes.go (ffjsonWriteJSONBytesAsString) byte for byte: `"` and `\`
 * with a backslash, \n and \r as such, other control bytes and <>& as
 * \u00XX, an invalid UTF-8 byte as \ufffd, U+2028 and U+2029 escaped. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "jsonw.h"

#include <stdio.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

/* The length of the valid UTF-8 sequence at s (n bytes left), as Go's
 * utf8.DecodeRune accepts it (no overlongs, surrogates or values past
 * U+10FFFF), or 0 when its first byte is invalid. */
static size_t utf8_length(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xBF;
  size_t need;
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else
    return 0;
  if (n < need || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < need; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return need;
}

size_t jsonw_escape(char *out, const unsigned char *in, size_t len) {
  char *o = out;
  for (size_t i = 0; i < len;) {
    unsigned char b = in[i];
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        *o++ = (char)b;
      } else if (b == '\\' || b == '"') {
        *o++ = '\\';
        *o++ = (char)b;
      } else if (b == '\n') {
        *o++ = '\\';
        *o++ = 'n';
      } else if (b == '\r') {
        *o++ = '\\';
        *o++ = 'r';
      } else {
        memcpy(o, "\\u00", 4);
        o[4] = hex[b >> 4];
        o[5] = hex[b & 0xF];
        o += 6;
      }
      i++;
      continue;
    }
    size_t size = utf8_length(in + i, len - i);
    if (size == 0) {
      memcpy(o, "\\ufffd", 6);
      o += 6;
      i++;
      continue;
    }
    /* U+2028 and U+2029: E2 80 A8 and E2 80 A9. */
    if (size == 3 && b == 0xE2 && in[i + 1] == 0x80 && (in[i + 2] == 0xA8 || in[i + 2] == 0xA9)) {
      memcpy(o, "\\u202", 5);
      o[5] = hex[in[i + 2] == 0xA8 ? 8 : 9];
      o += 6;
      i += 3;
      continue;
    }
    memcpy(o, in + i, size);
    o += size;
    i += size;
  }
  return (size_t)(o - out);
}

size_t jsonw_time(char *out, const struct timespec *ts) {
  struct tm tm;
  time_t secs = ts->tv_sec;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, JSONW_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
  long nsec = ts->tv_nsec;
  if (nsec > 0) {
    char frac[24];
    snprintf(frac, sizeof frac, ".%09ld", nsec);
    size_t flen = 10;
    while (frac[flen - 1] == '0') flen--;
    memcpy(out + n, frac, flen);
    n += flen;
  }
  out[n++] = 'Z';
  out[n] = '\0';
  return n;
}
