// Alternate signal stacks as the kernel defines them (not glibc's
// MINSIGSTKSZ, which is 47808 with AMX and a compile-time guess anyway):
// the sizes the kernel accepts and refuses, SS_ONSTACK as a mode, the flags
// reported from inside a handler, SS_AUTODISARM, and a 32 KiB stack catching
// a stack overflow, the reason programs set one up.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)  // linux/signal.h; glibc does not export it
#endif

static char small[32 * 1024] __attribute__((aligned(16)));
static sigjmp_buf jump;
static volatile int inside_flags = -1, autodisarm_seen = -1;
static volatile uintptr_t handler_sp;

static int try_size(size_t size, int flags) {
  stack_t ss = {.ss_sp = small, .ss_size = size, .ss_flags = flags};
  return sigaltstack(&ss, NULL) == 0 ? 0 : errno;
}

static void on_usr1(int sig) {
  (void)sig;
  stack_t cur;
  sigaltstack(NULL, &cur);
  inside_flags = cur.ss_flags;
  handler_sp = (uintptr_t)__builtin_frame_address(0);
}

static void on_usr2(int sig) {
  (void)sig;
  stack_t cur;
  sigaltstack(NULL, &cur);  // disarmed while the handler runs on it
  autodisarm_seen = cur.ss_flags;
}

static void on_segv(int sig) { siglongjmp(jump, sig); }

static int depth;
static int recurse(int n) {
  volatile char pad[512];
  pad[0] = (char)n;
  depth++;
  return n < (1 << 30) ? recurse(n + 1) + pad[0] : 0;  // never reaches the bound
}

int main(void) {
  printf("size 1024: %s\n", strerror(try_size(1024, 0)));
  printf("size 2047: %s\n", strerror(try_size(2047, 0)));
  printf("size 2048: %s\n", strerror(try_size(2048, 0)));
  printf("bad flags: %s\n", strerror(try_size(sizeof small, 0x4)));
  printf("SS_ONSTACK as mode: %s\n", strerror(try_size(sizeof small, SS_ONSTACK)));
  printf("32 KiB: %s\n", strerror(try_size(sizeof small, 0)));
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("reported: size %zu flags %d same sp %d\n", cur.ss_size, cur.ss_flags, cur.ss_sp == small);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("inside handler: flags %d, on the stack %d\n", inside_flags,
         handler_sp > (uintptr_t)small && handler_sp <= (uintptr_t)small + sizeof small);

  printf("autodisarm: %s\n", strerror(try_size(sizeof small, SS_AUTODISARM)));
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  sigaltstack(NULL, &cur);
  printf("autodisarm inside %d, after return flags %#x size %zu\n", autodisarm_seen,
         (unsigned)cur.ss_flags, cur.ss_size);

  // Stack overflow, caught on the 32 KiB alternate stack.
  try_size(sizeof small, 0);
  struct rlimit rl = {8 << 20, 8 << 20};
  setrlimit(RLIMIT_STACK, &rl);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(jump, 1) == 0) {
    recurse(0);
  } else {
    printf("stack overflow caught on the alternate stack (deep: %d)\n", depth > 1000);
  }
  return 0;
}
