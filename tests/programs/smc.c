// Self-modifying code: a function in an RWX page is rewritten 200 times
// (changing the constant it returns) and called after each rewrite; then the
// same with W^X flips (mprotect RW -> RX), as JITs do.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(void);

static void write_fn(uint8_t* code, int value) {
  // mov eax, imm32 ; ret
  code[0] = 0xB8;
  memcpy(code + 1, &value, 4);
  code[5] = 0xC3;
}

int main(void) {
  uint8_t* rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long sum = 0;
  for (int i = 0; i < 200; i++) {
    write_fn(rwx, i);
    sum += ((fn_t)rwx)();
  }
  printf("rwx rewrites: sum=%ld\n", sum);

  uint8_t* wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  sum = 0;
  for (int i = 0; i < 200; i++) {
    mprotect(wx, 4096, PROT_READ | PROT_WRITE);
    write_fn(wx, 3 * i);
    mprotect(wx, 4096, PROT_READ | PROT_EXEC);
    sum += ((fn_t)wx)();
  }
  printf("w^x rewrites: sum=%ld\n", sum);
  return 0;
}
