// stepcount self-test: a static program with two threads, each running a
// 2-instruction loop 20000 times. Exits with status 3.
#include <pthread.h>
#include <stddef.h>

static void* work(void* arg) {
  long n = (long)arg;
  __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
  return NULL;
}

int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, work, (void*)20000L) != 0) return 1;
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  return 3;
}
