// qtest_setjmp: setjmp/longjmp and sigsetjmp/siglongjmp across frames.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static jmp_buf env;
static sigjmp_buf senv;
static int depth_reached;

static void __attribute__((noinline)) dive(int depth, int target) {
  char pad[64];
  memset(pad, depth, sizeof pad);
  depth_reached = depth + pad[0] - depth;
  if (depth == target) longjmp(env, depth);
  if (depth > 1000) return;
  dive(depth + 1, target);
}

static void handler(int sig) { siglongjmp(senv, sig); }

int main(void) {
  for (volatile int target = 1; target <= 100; target *= 10) {
    volatile int count = 0;
    int r = setjmp(env);
    count++;
    if (r == 0) {
      dive(0, target);
      printf("not reached\n");
    }
    printf("longjmp from depth %d returned %d (count %d)\n", depth_reached, r, count);
  }
  // longjmp(env, 0) makes setjmp return 1.
  volatile int zero_seen = 0;
  int r = setjmp(env);
  if (r == 0 && !zero_seen) {
    zero_seen = 1;
    longjmp(env, 0);
  }
  printf("longjmp with 0 gives %d\n", r);

  // siglongjmp out of a signal handler restores the signal mask.
  signal(SIGUSR1, handler);
  volatile int rounds = 0;
  int s = sigsetjmp(senv, 1);
  if (s == 0) {
    raise(SIGUSR1);
    printf("not reached\n");
  }
  rounds++;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("siglongjmp returned %d, SIGUSR1 blocked after: %d, rounds %d\n", s,
         sigismember(&cur, SIGUSR1), rounds);
  return 0;
}
