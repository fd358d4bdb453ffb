// Synchronous signals raised by guest instructions reach the guest's handlers
// with the exact guest context: si_addr, the faulting instruction's address in
// the ucontext, and registers; handlers may fix the cause and return, or
// siglongjmp out.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile void* fault_addr;
static volatile uint64_t fault_rip, fault_rbx;
static char* page;
static char altstack[64 * 1024];

static void on_segv_jump(int sig, siginfo_t* info, void* ucv) {
  ucontext_t* uc = ucv;
  fault_addr = info->si_addr;
  fault_rip = uc->uc_mcontext.gregs[REG_RIP];
  fault_rbx = uc->uc_mcontext.gregs[REG_RBX];
  siglongjmp(env, sig);
}

static void on_segv_fix(int sig, siginfo_t* info, void* ucv) {
  (void)sig, (void)ucv;
  // Make the page writable and return: the store is executed again.
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
  fault_addr = info->si_addr;
}

static volatile int traps;
static void on_trap(int sig) { (void)sig; traps++; }

static void install(int sig, void (*fn)(int, siginfo_t*, void*), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigaction(sig, &sa, NULL);
}

extern char load_insn[];

int main(void) {
  // 1. NULL-ish load: si_addr and the exact instruction address and registers.
  install(SIGSEGV, on_segv_jump, 0);
  if (sigsetjmp(env, 1) == 0) {
    asm volatile("mov $0x1234, %%rbx\n"
                 "load_insn: mov (%0), %%rax\n" ::"r"(0x40)
                 : "rax", "rbx", "memory");
  }
  printf("segv: si_addr=%p rip_is_insn=%d rbx=0x%lx\n", (void*)fault_addr,
         fault_rip == (uint64_t)(uintptr_t)load_insn, (unsigned long)fault_rbx);

  // 2. A write to a read-only page; the handler, on an alternate stack, fixes
  //    the protection and returns: the store is retried and succeeds.
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, NULL);
  page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  install(SIGSEGV, on_segv_fix, SA_ONSTACK);
  page[100] = 42;
  printf("retried store: %d, si_addr offset %ld\n", page[100], (char*)fault_addr - page);

  // 3. Division by zero and an illegal instruction, recovered with siglongjmp.
  install(SIGFPE, on_segv_jump, 0);
  volatile int zero = 0;
  int r = sigsetjmp(env, 1);
  if (r == 0) r = 10 / zero;
  printf("sigfpe: %s\n", r == SIGFPE ? "caught" : "missed");
  install(SIGILL, on_segv_jump, 0);
  r = sigsetjmp(env, 1);
  if (r == 0) __builtin_trap();
  printf("sigill: %s\n", r == SIGILL ? "caught" : "missed");

  // 4. int3: the handler returns and execution continues after it.
  signal(SIGTRAP, on_trap);
  asm volatile("int3");
  asm volatile("int3");
  printf("sigtrap: %d\n", traps);

  // 5. Deep recursion on the guest stack does not disturb qplug: 1000 faults.
  install(SIGSEGV, on_segv_jump, 0);
  volatile int caught = 0;
  for (volatile int i = 0; i < 1000; i++) {
    if (sigsetjmp(env, 1) == 0) *(volatile int*)(uintptr_t)(8 + i) = i;
    else caught++;
  }
  printf("repeated faults caught: %d\n", caught);
  return 0;
}
