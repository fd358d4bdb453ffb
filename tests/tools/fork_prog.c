// stepcount self-test: the forked child runs 200 million instructions, which
// stepcount must not follow; the parent waits and exits with the child's
// status + 1 (6).
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    long n = 100000000;
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
    _exit(5);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 1;
  return WEXITSTATUS(status) + 1;
}
