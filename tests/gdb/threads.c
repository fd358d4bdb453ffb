// Guest for the gdb stub's thread test: four threads call work() once each
// while the main thread waits at a barrier; then the main thread writes joined.
#include <pthread.h>
#include <stdio.h>

static pthread_barrier_t barrier;
static volatile int results[4];
static volatile int joined;  // written by the main thread once every worker is done

__attribute__((noinline)) void work(int id) { results[id] = id * 10; }

static void* worker(void* arg) {
  pthread_barrier_wait(&barrier);
  work((int)(long)arg);
  return NULL;
}

int main(void) {
  pthread_t t[4];
  pthread_barrier_init(&barrier, NULL, 5);
  for (long i = 0; i < 4; ++i) pthread_create(&t[i], NULL, worker, (void*)i);
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
  joined = 4;
  printf("%d %d %d %d\n", results[0], results[1], results[2], results[3]);
  return 0;
}
