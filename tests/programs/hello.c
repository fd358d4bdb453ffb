// qtest_hello: printf, malloc/realloc/free and qsort with deterministic output.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a;
  uint32_t y = *(const uint32_t*)b;
  return (x > y) - (x < y);
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int main(int argc, char** argv) {
  printf("hello, world\n");
  printf("argc=%d\n", argc);
  for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);

  // qsort 100k pseudo-random integers.
  const size_t n = 100000;
  uint32_t* v = malloc(n * sizeof *v);
  if (!v) return 1;
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    v[i] = x >> 1;
  }
  qsort(v, n, sizeof *v, cmp_u32);
  int sorted = 1;
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (i && v[i - 1] > v[i]) sorted = 0;
    sum = sum * 31 + v[i];
  }
  printf("sorted=%d min=%u median=%u max=%u hash=%llu\n", sorted, v[0], v[n / 2], v[n - 1],
         (unsigned long long)sum);
  free(v);

  // Many small allocations, string building with realloc, qsort of strings.
  enum { kWords = 2000 };
  char** words = malloc(kWords * sizeof *words);
  char* joined = NULL;
  size_t len = 0;
  for (int i = 0; i < kWords; i++) {
    char buf[32];
    int k = snprintf(buf, sizeof buf, "w%d", (i * 7919) % kWords);
    words[i] = strdup(buf);
    joined = realloc(joined, len + (size_t)k + 2);
    memcpy(joined + len, buf, (size_t)k);
    len += (size_t)k;
    joined[len++] = ',';
    joined[len] = '\0';
  }
  qsort(words, kWords, sizeof *words, cmp_str);
  printf("first=%s last=%s joined_len=%zu prefix=%.30s\n", words[0], words[kWords - 1], len,
         joined);
  for (int i = 0; i < kWords; i++) free(words[i]);
  free(words);
  free(joined);

  // A few formatting paths.
  printf("%5.2f|%-8s|%08x|%lld|%e|%c\n", 3.14159, "left", 0xbeefu, -1234567890123LL, 6.02214076e23,
         'q');
  puts("bye");
  return 0;
}
