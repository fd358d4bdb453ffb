// qtest_errno: errno after failing system calls. Exits with status 3 on
// success so the harness also checks exit-status propagation.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void expect(const char* what, long ret, int want) {
  int got = errno;
  int ok = ret == -1 && got == want;
  printf("%-28s ret=%ld errno=%d (%s) %s\n", what, ret, got, strerror(got), ok ? "ok" : "WRONG");
  if (!ok) failures++;
  errno = 0;
}

int main(void) {
  char buf[16];
  errno = 0;
  expect("open missing", open("/nonexistent/qtest", O_RDONLY), ENOENT);
  expect("read bad fd", read(12345, buf, sizeof buf), EBADF);
  expect("close -1", close(-1), EBADF);
  expect("mkdir /", mkdir("/", 0755), EEXIST);
  expect("chdir to a file", chdir("/dev/null"), ENOTDIR);
  expect("rmdir missing", rmdir("/nonexistent/qtest"), ENOENT);
  expect("open dir for write", open("/", O_WRONLY), EISDIR);
  int fd = open("/dev/null", O_RDONLY);
  expect("write to O_RDONLY fd", write(fd, "x", 1), EBADF);
  close(fd);
  int p[2];
  if (pipe(p) != 0) return 1;
  expect("lseek on pipe", lseek(p[0], 0, SEEK_SET), ESPIPE);
  close(p[0]);
  close(p[1]);
  expect("kill invalid signal", kill(getpid(), 12345), EINVAL);
  expect("dup2 bad fd", dup2(-5, 3), EBADF);
  struct stat st;
  expect("stat empty path", stat("", &st), ENOENT);
  expect("access missing", access("/nonexistent", F_OK), ENOENT);
  // errno is not reset by a successful call
  errno = 0;
  if (getpid() > 0) printf("errno after getpid: %d\n", errno);
  printf("failures: %d\n", failures);
  return failures ? 1 : 3;
}
