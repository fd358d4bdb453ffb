// The descriptors a program sees: 0, 1 and 2 only at start (whatever a tool
// running it keeps for itself), RLIMIT_NOFILE as it was given, and a program
// that closes every descriptor from 3 up and opens files of its own gets
// exactly those back, with nothing of anybody else's written into them.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void list_fds(const char* when) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return;
  const int own = dirfd(d);
  printf("%s:", when);
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == own) continue;
    printf(" %s", e->d_name);
  }
  printf("\n");
  closedir(d);
}

int main(int argc, char** argv) {
  list_fds("at start");
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  printf("RLIMIT_NOFILE soft %s\n",
         argc > 1 && atol(argv[1]) == (long)rl.rlim_cur ? "as given" : "differs");
  // dup2 onto the limit itself, and F_DUPFD at it, are refused as beyond it.
  printf("dup2 at the limit: %s\n", dup2(1, (int)rl.rlim_cur) < 0 ? strerror(errno) : "allowed");
  printf("F_DUPFD at the limit: %s\n",
         fcntl(1, F_DUPFD, (int)rl.rlim_cur) < 0 ? strerror(errno) : "allowed");

  // Close everything from 3 up, both ways programs do it.
  syscall(SYS_close_range, 3, ~0u, 0);
  for (int fd = 3; fd < 256; fd++) close(fd);
  list_fds("after closing from 3");

  char name[64];
  int fds[4];
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "file%d.txt", i);
    fds[i] = open(name, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dprintf(fds[i], "mine %d\n", i);
  }
  printf("opened: %d %d %d %d\n", fds[0], fds[1], fds[2], fds[3]);
  list_fds("with my files");
  for (int i = 0; i < 4; i++) close(fds[i]);
  // Nothing but what the program wrote is in its files (checked by the test).
  return 0;
}
