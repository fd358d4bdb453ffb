// Self-modifying code within the running block: an instruction stores into
// the immediate of the instruction right after it, which must then run with
// the new value (QEMU retranslates the rest of the block; so must qplug). Then
// a loop that rewrites a later instruction of its own body every iteration,
// and a store that rewrites the instruction doing the store.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(void);
typedef long (*loop_t)(long);

int main(void) {
  uint8_t* page =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 2;

  // mov byte [rip+1], 42 ; mov eax, 7 ; ret   (the store hits the 7)
  static const uint8_t next_imm[] = {0xC6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2A,
                                     0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3};
  memcpy(page, next_imm, sizeof next_imm);
  int first = ((fn_t)page)();
  int again = ((fn_t)page)();
  page[8] = 7;  // back to 7 from the outside: the store must change it again
  int third = ((fn_t)page)();
  printf("patched next instruction: %d %d %d\n", first, again, third);

  // loop: rcx = n; rax = 0
  //   top: mov byte [rip+disp], cl  -> the imm8 of the add below
  //        add rax, imm8
  //        dec rcx ; jnz top ; ret
  uint8_t* loop = page + 256;
  static const uint8_t body[] = {0x48, 0x89, 0xF9,                    // mov rcx, rdi
                                 0x31, 0xC0,                          // xor eax, eax
                                 0x88, 0x0D, 0x00, 0x00, 0x00, 0x00,  // top: mov [rip+disp32], cl
                                 0x48, 0x83, 0xC0, 0x00,              // add rax, imm8 (patched)
                                 0x48, 0xFF, 0xC9,                    // dec rcx
                                 0x75, 0xF1,                          // jnz top
                                 0xC3};
  memcpy(loop, body, sizeof body);
  const int32_t disp = (14) - (11);  // imm8 at offset 14, next insn at 11
  memcpy(loop + 7, &disp, 4);
  long sum = ((loop_t)loop)(100);  // adds 100 + 99 + ... + 1
  printf("loop patching its own body: %ld\n", sum);

  // An instruction that overwrites its own first byte with a ret: the store
  // completes, then the next pass runs the ret.
  uint8_t* self = page + 512;
  static const uint8_t self_store[] = {0xB8, 0x05, 0x00, 0x00, 0x00,  // mov eax, 5
                                       0xC6, 0x05, 0xF9, 0xFF, 0xFF, 0xFF,
                                       0xC3,  // mov byte [rip-7], 0xc3 (its own opcode)
                                       0xB8, 0x09, 0x00, 0x00, 0x00, 0xC3};  // mov eax, 9 ; ret
  memcpy(self, self_store, sizeof self_store);
  int a = ((fn_t)self)();
  int b = ((fn_t)(self + 5))();  // now a lone ret: eax keeps whatever it had
  (void)b;
  printf("store over itself: %d, then byte %#x\n", a, self[5]);
  return 0;
}
