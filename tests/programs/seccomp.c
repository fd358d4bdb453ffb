// Seccomp's strict mode: afterwards only read, write, exit and rt_sigreturn
// are allowed. A guest that keeps to them exits normally (with exit, not
// exit_group, which strict mode forbids); one that calls anything else dies
// of SIGKILL.
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char* s) { syscall(SYS_write, 1, s, strlen(s)); }

int main(void) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
    say("strict: write allowed\n");
    syscall(SYS_getpid);  // killed here
    say("strict: getpid allowed?\n");
    syscall(SYS_exit, 3);
  }
  int status;
  waitpid(child, &status, 0);
  printf("child that called getpid: %s %d\n", WIFSIGNALED(status) ? "signal" : "exit",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  fflush(stdout);
  prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
  say("strict: exiting with exit(0)\n");
  syscall(SYS_exit, 0);
  return 1;
}
