// A guest that asks the kernel for AMX and computes with tiles gets what it
// gets natively: qplug leaves the tile registers to the guest (host code never
// touches them) and signal handlers in between do not disturb them. On a CPU
// without AMX the program says so and checks the kernel's answer only.
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

static volatile int signals;
static void on_usr1(int sig) {
  (void)sig;
  signals++;
}

struct tile_config {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Written in assembly: the compiler's AMX intrinsics need -mamx-* flags that
// older compilers lack, and the program must build on every machine.
static int dot_tiles(void) {
  static int8_t a[16][64], b[16][64];
  static int32_t c[16][16];
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++) a[i][j] = (int8_t)(i + j), b[i][j] = (int8_t)(j % 7 - 3);
  struct tile_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 3; t++) cfg.rows[t] = 16, cfg.colsb[t] = 64;
  const long stride = 64;
  asm volatile(".byte 0xc4,0xe2,0x78,0x49,0x07" ::"D"(&cfg) : "memory");  // ldtilecfg (%rdi)
  asm volatile(".byte 0xc4,0xe2,0x7b,0x4b,0x04,0x06" ::"S"(a), "a"(stride)
               : "memory");  // tileloadd (%rsi,%rax), %tmm0
  asm volatile(".byte 0xc4,0xe2,0x7b,0x4b,0x0c,0x06" ::"S"(b), "a"(stride)
               : "memory");                                     // tileloadd (%rsi,%rax), %tmm1
  asm volatile(".byte 0xc4,0xe2,0x7b,0x49,0xd0" ::: "memory");  // tilezero %tmm2
  raise(SIGUSR1);  // a trip through qplug's host code with live tiles
  asm volatile(".byte 0xc4,0xe2,0x73,0x5e,0xd0" ::: "memory");  // tdpbssd %tmm1, %tmm0, %tmm2
  raise(SIGUSR1);
  asm volatile(".byte 0xc4,0xe2,0x7a,0x4b,0x14,0x07" ::"D"(c), "a"(stride)
               : "memory");                                     // tilestored %tmm2, (%rdi,%rax)
  asm volatile(".byte 0xc4,0xe2,0x78,0x49,0xc0" ::: "memory");  // tilerelease
  int sum = 0;
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) sum += c[i][j];
  return sum;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  const int has_amx = (d >> 24) & 1 && (d >> 25) & 1;  // AMX-TILE, AMX-INT8
  uint64_t perm = 0;
  long got = syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm);
  printf("get perm: %s\n", got == 0 ? "ok" : "refused");
  if (!has_amx) {
    long req = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
    printf("no AMX on this CPU; request refused: %d\n", req != 0);
    return 0;
  }
  long req = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
  syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm);
  printf("request: %ld, tile data permitted: %d\n", req, (int)((perm >> 18) & 1));
  const int dot = dot_tiles();
  printf("tile dot product: %d (signals %d)\n", dot, signals);
  return 0;
}
