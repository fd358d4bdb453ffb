// Guest faults in several threads at once: each of four threads takes
// thousands of NULL loads, each caught by a SIGSEGV handler that siglongjmps
// out. The handler runs on every thread's own stack, with the kernel's frame
// as qplug sizes it for the process (the XSAVE state the process may use),
// and the counts must be exact.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

enum { kThreads = 4, kFaults = 2000 };

static __thread sigjmp_buf jump;
static __thread volatile int faults;

static void on_segv(int sig, siginfo_t* info, void* uc) {
  (void)uc;
  if (info->si_addr != NULL) return;  // not ours: let it fault again and die
  siglongjmp(jump, sig);
}

static void* work(void* arg) {
  volatile int* volatile null = NULL;
  volatile long sum = 0;
  for (int i = 0; i < kFaults; i++) {
    if (sigsetjmp(jump, 1) == 0)
      sum += *null;
    else
      faults++;
  }
  *(long*)arg = faults + sum;
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  pthread_t t[kThreads];
  long caught[kThreads];
  for (int i = 0; i < kThreads; i++) pthread_create(&t[i], NULL, work, &caught[i]);
  for (int i = 0; i < kThreads; i++) pthread_join(t[i], NULL);
  long total = 0;
  for (int i = 0; i < kThreads; i++) total += caught[i];
  printf("%d threads caught %ld faults\n", kThreads, total);
  return total == kThreads * kFaults ? 0 : 1;
}
