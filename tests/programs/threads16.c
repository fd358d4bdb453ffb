// Sixteen threads running loops with calls, syscalls and locks at once (the
// guest for plugins that reset and register again from their callbacks).
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

enum { kThreads = 16, kRounds = 20000 };
static atomic_long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long shared;

__attribute__((noinline)) static long step(long x, long i) { return (x * 31 + i) % 1000003; }

static void* work(void* arg) {
  long x = (long)arg;
  for (long i = 0; i < kRounds; i++) {
    x = step(x, i);
    if (i % 2000 == 0) {
      pthread_mutex_lock(&lock);
      shared += x % 7;
      pthread_mutex_unlock(&lock);
      getpid();
    }
  }
  atomic_fetch_add(&total, x);
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; i++) pthread_create(&t[i], NULL, work, (void*)i);
  for (int i = 0; i < kThreads; i++) pthread_join(t[i], NULL);
  printf("total %ld shared %ld\n", (long)atomic_load(&total), shared);
  return 0;
}
