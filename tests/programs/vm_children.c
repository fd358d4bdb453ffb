// Children that share their parent's memory: vfork (the parent waits until
// the child execs or exits, and sees what it wrote), posix_spawn (whose child
// reports a failed exec through that memory), and clone(CLONE_VM) without
// CLONE_THREAD, a process of its own running beside its parent, as
// AddressSanitizer's leak checker makes one.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static volatile int written_by_child;
static atomic_int handshake;

static int clone_child(void* arg) {
  (void)arg;
  while (atomic_load(&handshake) != 1) {
  }
  written_by_child = 4242;
  atomic_store(&handshake, 2);
  return 7;  // the child's exit status
}

int main(void) {
  // vfork: the parent resumes after the child's _exit, and sees its store.
  pid_t pid = vfork();
  if (pid == 0) {
    written_by_child = 17;
    _exit(3);
  }
  int status;
  waitpid(pid, &status, 0);
  printf("vfork: child wrote %d, exit %d\n", written_by_child, WEXITSTATUS(status));

  // vfork + exec.
  pid = vfork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", "exit 5", (char*)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  printf("vfork + exec: exit %d\n", WEXITSTATUS(status));

  // posix_spawn: success, and a program that does not exist.
  char* argv_true[] = {"true", NULL};
  int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv_true, environ);
  waitpid(pid, &status, 0);
  printf("posix_spawn /bin/true: %s, exit %d\n", strerror(rc), WEXITSTATUS(status));
  char* argv_missing[] = {"missing", NULL};
  rc = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, argv_missing, environ);
  printf("posix_spawn of a missing program: %s\n", strerror(rc));

  // clone(CLONE_VM): runs concurrently with the parent, which hands it work.
  const size_t stack_size = 256 * 1024;
  char* stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  written_by_child = 0;
  pid = clone(clone_child, stack + stack_size, CLONE_VM | CLONE_FS | CLONE_FILES | SIGCHLD, NULL);
  atomic_store(&handshake, 1);
  while (atomic_load(&handshake) != 2) {
  }
  waitpid(pid, &status, __WALL);
  printf("clone(CLONE_VM): child wrote %d, exit %d\n", written_by_child, WEXITSTATUS(status));
  return 0;
}
