/* execvpe without allocation, shared by the container child and the exec
 * helper: a name with a slash is run as is, else each PATH entry is tried;
 * EACCES wins over ENOENT, as in execvp. Returns the errno to report. */
#ifndef NBOX_EXEC_SEARCH_H
#define NBOX_EXEC_SEARCH_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define NBOX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define NBOX_PATH_BUF 4096

static inline const char *nbox_env_path(char *const *envp) {
  for (size_t i = 0; envp[i]; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0) return envp[i] + 5;
  return NBOX_DEFAULT_PATH;
}

static inline int nbox_exec_search(char *const *argv, char *const *envp) {
  const char *file = argv[0];
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return errno;
  }
  const char *p = nbox_env_path(envp);
  size_t flen = strlen(file);
  int seen_eacces = 0;
  for (;;) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    char candidate[NBOX_PATH_BUF];
    if (dlen + 1 + flen < sizeof candidate) {
      memcpy(candidate, p, dlen);
      size_t at = dlen;
      if (at == 0) candidate[at++] = '.';
      candidate[at++] = '/';
      memcpy(candidate + at, file, flen + 1);
      execve(candidate, argv, envp);
      if (errno == EACCES) seen_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) return errno;
    }
    if (*end == '\0') break;
    p = end + 1;
  }
  return seen_eacces ? EACCES : ENOENT;
}

#endif
