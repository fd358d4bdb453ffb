#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#define N 8
static atomic_long counter;
static long per[N];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long shared;
static __thread long tls_value;
static void* work(void* arg) {
  long id = (long)arg;
  tls_value = id * 1000;
  for (int i = 0; i < 200000; i++) {
    atomic_fetch_add(&counter, 1);
    per[id] += i % 3;
    if (i % 1000 == 0) { pthread_mutex_lock(&m); shared += id; pthread_mutex_unlock(&m); }
  }
  return (void*)(tls_value + id);
}
int main(void) {
  pthread_t t[N];
  for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, work, (void*)i);
  long sum = 0;
  for (int i = 0; i < N; i++) { void* r; pthread_join(t[i], &r); sum += (long)r; }
  long p = 0; for (int i = 0; i < N; i++) p += per[i];
  printf("counter=%ld per=%ld shared=%ld tls=%ld\n", (long)counter, p, shared, sum);
  return 0;
}
