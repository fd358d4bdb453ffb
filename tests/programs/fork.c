// qtest_fork: fork, waitpid and exit statuses, a pipe from child to parent.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  printf("parent start\n");
  fflush(stdout);

  // Child exits with a status the parent reads back.
  for (int code = 0; code < 4; code++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 100;
    if (pid == 0) _exit(40 + code);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 101;
    if (WIFEXITED(status))
      printf("child %d exited with %d\n", code, WEXITSTATUS(status));
    else
      printf("child %d: unexpected status %#x\n", code, status);
  }

  // Child exits through exit() (atexit handlers, stdio flush) after writing.
  int fds[2];
  if (pipe(fds) != 0) return 102;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const char msg[] = "message from child";
    if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg) _exit(1);
    close(fds[1]);
    exit(7);
  }
  close(fds[1]);
  char buf[64] = {0};
  ssize_t total = 0, r;
  while ((r = read(fds[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0) total += r;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("read %zd bytes: %s; exit status %d\n", total, buf, WEXITSTATUS(status));

  // Child killed by a signal.
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    raise(SIGTERM);
    _exit(99);
  }
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    printf("child killed by signal %d (%s)\n", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    printf("child not signaled: status %#x\n", status);

  // Nested fork: grandchild status propagates through the child.
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) _exit(3);
    int st = 0;
    waitpid(g, &st, 0);
    _exit(WEXITSTATUS(st) * 10);
  }
  waitpid(pid, &status, 0);
  printf("nested fork status %d\n", WEXITSTATUS(status));
  printf("parent done\n");
  return 0;
}
