/* Guest program for the discontinuity test (discon.sh): ud2, int3 and a
 * division by zero three times each, caught by a handler per signal that
 * moves the pc past the instruction, then a load from address 0 that a
 * handler leaves with siglongjmp. Before each one it prints the exception
 * discontinuity a plugin must see, in the test plugin's format:
 *   expect type=2 from=0xFAULTING_INSN to=0xFAULTING_INSN (as qemu-x86_64)
 * (the page fault none: QEMU's user mode reports page faults as no
 * discontinuity). With the argument "die", a last ud2 has no handler: the
 * process dies of SIGILL after printing its expectation (to = from). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

extern char ud2_insn[], ud2_end[], int3_insn[], div_insn[], div_end[], load_insn[];

static sigjmp_buf env;
static volatile uint64_t zero;  // the compiler must not see the division by zero

__attribute__((noinline)) static void do_ud2(void) {
  __asm__ volatile(".globl ud2_insn, ud2_end\nud2_insn: ud2\nud2_end:");
}

__attribute__((noinline)) static void do_int3(void) {
  __asm__ volatile(".globl int3_insn\nint3_insn: int3");
}

__attribute__((noinline)) static uint64_t do_div(uint64_t divisor) {
  uint64_t lo = 7, hi = 0;
  __asm__ volatile(".globl div_insn, div_end\ndiv_insn: divq %2\ndiv_end:"
                   : "+a"(lo), "+d"(hi)
                   : "r"(divisor));
  return lo;
}

__attribute__((noinline)) static int do_load(volatile int* p) {
  int v;
  __asm__ volatile(".globl load_insn\nload_insn: movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
  return v;
}

static void on_ill(int sig, siginfo_t* info, void* ucv) {
  (void)sig, (void)info;
  ((ucontext_t*)ucv)->uc_mcontext.gregs[REG_RIP] = (greg_t)ud2_end;
}

static void on_trap(int sig, siginfo_t* info, void* ucv) {
  (void)sig, (void)info, (void)ucv;  // the kernel reports int3 after the instruction already
}

static void on_fpe(int sig, siginfo_t* info, void* ucv) {
  (void)sig, (void)info;
  ((ucontext_t*)ucv)->uc_mcontext.gregs[REG_RIP] = (greg_t)div_end;
}

static void on_segv(int sig, siginfo_t* info, void* ucv) {
  (void)info, (void)ucv;
  siglongjmp(env, sig);
}

static void install(int sig, void (*fn)(int, siginfo_t*, void*)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  sigaction(sig, &sa, NULL);
}

// to_pc is from_pc, as qemu-x86_64 reports it in user mode (its hook runs
// before the signal frame is set up); the handler is not named.
static void expect(const void* from, void (*to)(int, siginfo_t*, void*)) {
  (void)to;
  printf("expect type=2 from=%p to=%p\n", from, from);
  fflush(stdout);
}

int main(int argc, char** argv) {
  install(SIGILL, on_ill);
  install(SIGTRAP, on_trap);
  install(SIGFPE, on_fpe);
  install(SIGSEGV, on_segv);
  uint64_t sum = 0;
  for (int i = 0; i < 3; i++) {
    expect(ud2_insn, on_ill);
    do_ud2();
    expect(int3_insn, on_trap);
    do_int3();
    expect(div_insn, on_fpe);
    sum += do_div(zero);
  }
  if (sigsetjmp(env, 1) == 0) do_load((volatile int*)0);
  printf("handled all, load at %p skipped, sum %lu\n", (void*)load_insn, (unsigned long)sum);
  if (argc > 1 && strcmp(argv[1], "die") == 0) {
    signal(SIGILL, SIG_DFL);
    printf("expect type=2 from=%p to=%p\n", (void*)ud2_insn, (void*)ud2_insn);
    fflush(stdout);
    do_ud2();
  }
  return 0;
}
