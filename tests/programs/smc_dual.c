// Double-mapped JIT code: one memfd mapped twice, RW and RX at different
// addresses; code written through the RW view and run through the RX view,
// rewritten 200 times.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn_t)(void);

int main(void) {
  int fd = memfd_create("jit", 0);
  if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
  uint8_t* rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  uint8_t* rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  if (rw == MAP_FAILED || rx == MAP_FAILED) return 1;
  long sum = 0;
  for (int i = 0; i < 200; i++) {
    rw[0] = 0xB8;  // mov eax, imm32 ; ret
    int value = 5 * i;
    memcpy(rw + 1, &value, 4);
    rw[5] = 0xC3;
    sum += ((fn_t)rx)();
  }
  printf("double-mapped rewrites: sum=%ld\n", sum);
  return 0;
}
