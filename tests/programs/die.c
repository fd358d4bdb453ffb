// Ways to die of a signal: abort(), a failed assert, and a SIGTERM from
// outside while sleeping, alone or with other threads running. A coverage or
// counting plugin's output must still be written (tests/examples/death.sh).
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long spins;

static void* spin(void* arg) {
  (void)arg;
  for (;;) spins++;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* how = argv[1];
  const int threads = argc > 2 ? atoi(argv[2]) : 0;
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
  }
  printf("dying by %s with %d threads\n", how, threads);
  fflush(stdout);
  if (!strcmp(how, "abort")) abort();
  if (!strcmp(how, "assert")) assert(threads < 0 && "a failed assertion");
  if (!strcmp(how, "sleep")) {
    puts("ready");
    fflush(stdout);
    for (;;) pause();  // until the SIGTERM from outside
  }
  return 3;
}
