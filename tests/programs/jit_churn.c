// A JIT in a loop: map a page, write 150 instructions into it, run them,
// unmap it; ROUNDS times (argv[1]). Every round's code is new to a
// translator, so a code cache that never gives space back grows with the
// rounds. Prints the sum of what the code returned. argv[2] threads do the
// same at once (the code cache is flushed while the others run translated
// code); with a third argument, the peak resident memory (VmHWM) goes to
// stderr, for tests/e2e/jit_memory.sh.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef uint32_t (*fn_t)(void);

static long peak_rss_kib(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kib = atol(line + 6);
  if (f) fclose(f);
  return kib;
}

static long rounds;

static void* churn(void* arg) {
  const uint32_t salt = (uint32_t)(uintptr_t)arg;
  uint64_t sum = 0;
  for (long r = 0; r < rounds; r++) {
    uint8_t* page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) exit(2);
    uint8_t* p = page;
    *p++ = 0x31, *p++ = 0xC0;        // xor eax, eax
    for (int i = 0; i < 148; i++) {  // add eax, imm32 (the round and the index)
      const uint32_t imm = (uint32_t)(r * 7 + i) + salt;
      *p++ = 0x05;
      memcpy(p, &imm, 4);
      p += 4;
    }
    *p++ = 0xC3;  // ret
    sum += ((fn_t)page)();
    munmap(page, 4096);
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  rounds = argc > 1 ? atol(argv[1]) : 1000;
  const int threads = argc > 2 ? atoi(argv[2]) : 0;
  uint64_t sum = (uint64_t)(uintptr_t)churn(NULL);
  pthread_t t[16];
  for (int i = 0; i < threads && i < 16; i++)
    pthread_create(&t[i], NULL, churn, (void*)(uintptr_t)(i + 1));
  for (int i = 0; i < threads && i < 16; i++) {
    void* r;
    pthread_join(t[i], &r);
    sum += (uint64_t)(uintptr_t)r;
  }
  printf("%ld rounds x %d threads, sum %llu\n", rounds, threads + 1, (unsigned long long)sum);
  if (argc > 3) fprintf(stderr, "peak rss %ld KiB\n", peak_rss_kib());
  return 0;
}
