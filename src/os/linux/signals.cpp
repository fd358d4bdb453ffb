#include "os/linux/signals.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "os/linux/code_pages.h"
#include "os/linux/raw_syscall.h"
#include "os/linux/ucontext_regs.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "x86_64/decoder.h"

namespace qplug::os {

using runtime::ThreadState;

namespace {

constexpr int kMaxSig = 64;

// The kernel's struct sigaction for x86-64 (not glibc's).
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
constexpr uint64_t kSaRestorer = 0x04000000;

KernelSigaction guest_actions[kMaxSig + 1];

struct GuestAltStack {
  uint64_t sp = 0;
  int flags = SS_DISABLE;
  uint64_t size = 0;
};

struct PendingSignals {
  uint64_t set = 0;  // bit (sig - 1)
  siginfo_t info[kMaxSig + 1];
};

thread_local PendingSignals pending __attribute__((tls_model("initial-exec")));
thread_local GuestAltStack guest_altstack __attribute__((tls_model("initial-exec")));
thread_local siginfo_t fault_info __attribute__((tls_model("initial-exec")));
thread_local CopyFault copy_fault __attribute__((tls_model("initial-exec")));

bool is_synchronous(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

void write_stderr(const char* s) {
  raw_syscall(SYS_write, 2, reinterpret_cast<long>(s), static_cast<long>(strlen(s)));
}

[[noreturn]] void die_of_signal(int sig) {
  runtime::finish_tool();  // QEMU runs the plugins' atexit callbacks on death by signal too
  fflush(nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raw_syscall(SYS_tgkill, getpid(), raw_syscall(SYS_gettid), sig);
  _exit(128 + sig);
}

// Host handler for every signal the guest handles, and for faults.
void on_host_signal(int sig, siginfo_t* info, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  auto& R = runtime::rt();
  auto* pc = reinterpret_cast<uint8_t*>(uc->uc_mcontext.gregs[REG_RIP]);
  if (is_synchronous(sig) && info->si_code > 0) {
    // A write to a page qplug protects because it holds translated code.
    if (sig == SIGSEGV && info->si_code == SEGV_ACCERR &&
        handle_code_write(reinterpret_cast<uint64_t>(info->si_addr)))
      return;
    if (pc >= R.ctx.copy_begin && pc < R.ctx.copy_end) {  // qplug reading guest memory
      copy_fault = CopyFault{sig, info->si_code, reinterpret_cast<uint64_t>(info->si_addr)};
      uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(R.ctx.copy_fault);
      return;
    }
    if (R.cache.contains(pc)) {
      // A blocked fault never gets here: the kernel kills, as it does natively.
      // The guest state first: it also settles the plugins' counters (inline_merge.h),
      // which a death by the signal prints.
      ThreadState& ts = runtime::current_thread();
      const bool located = R.dispatcher->guest_state_at_fault(uc, ts);
      if (guest_actions[sig].handler <= 1) die_of_signal(sig);  // default/ignore: die as natively
      if (!located) {
        char msg[160];
        snprintf(msg, sizeof msg, "qplug: internal error: signal %d in translated code at %p\n",
                 sig, static_cast<void*>(pc));
        write_stderr(msg);
        die_of_signal(sig);
      }
      fault_info = *info;
      uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(R.ctx.fault_exit);
      return;
    }
    char msg[160];
    snprintf(msg, sizeof msg,
             "qplug: internal error: signal %d (%s) at host pc %p, guest pc 0x%lx\n", sig,
             strsignal(sig), static_cast<void*>(pc),
             static_cast<unsigned long>(runtime::current_thread().rip));
    write_stderr(msg);
    die_of_signal(sig);
  }

  PendingSignals& p = pending;
  p.info[sig] = *info;
  p.set |= 1ull << (sig - 1);
  ThreadState& ts = runtime::current_thread();
  ts.signal_pending = 1;

  const auto& cs = R.ctx;
  if (pc >= cs.critical_begin && pc < cs.critical_end) {
    uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(cs.bail);
  } else if (pc >= cs.syscall_begin && pc <= cs.syscall_end) {
    uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(cs.syscall_interrupted);
  } else if (R.cache.contains(pc)) {
    R.dispatcher->force_exit(uc);
  }
}

void install_host_action(int sig, const KernelSigaction& guest) {
  struct sigaction act {};
  if (is_synchronous(sig)) {
    act.sa_sigaction = on_host_signal;
    act.sa_flags = SA_SIGINFO | SA_ONSTACK;
  } else if (guest.handler == reinterpret_cast<uint64_t>(SIG_DFL) ||
             guest.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
    act.sa_handler = reinterpret_cast<void (*)(int)>(guest.handler);
  } else {
    act.sa_sigaction = on_host_signal;
    // No SA_RESTART: an interrupted syscall returns to the dispatcher, which
    // restarts it after the guest handler if the guest asked for SA_RESTART.
    act.sa_flags = SA_SIGINFO | SA_ONSTACK;
  }
  sigfillset(&act.sa_mask);
  sigaction(sig, &act, nullptr);
}

bool on_guest_altstack(uint64_t sp) {
  return guest_altstack.flags != SS_DISABLE && sp > guest_altstack.sp &&
         sp <= guest_altstack.sp + guest_altstack.size;
}

uint64_t current_mask() {
  uint64_t mask = 0;
  raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, reinterpret_cast<long>(&mask), 8);
  return mask;
}

void set_mask(uint64_t mask) {
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, 8);
}

// Builds the rt_sigframe the kernel would: [return address = sa_restorer]
// [ucontext][siginfo][xsave area], and points the guest at the handler.
// `old_mask` is the guest's mask at delivery; returns the handler's mask.
uint64_t deliver(ThreadState& ts, int sig, const siginfo_t& info, uint64_t old_mask) {
  KernelSigaction& act = guest_actions[sig];
  uint64_t sp = ts.gpr[runtime::kRsp];
  const bool was_on_altstack = on_guest_altstack(sp);
  if ((act.flags & SA_ONSTACK) && guest_altstack.flags == 0 && !was_on_altstack)
    sp = guest_altstack.sp + guest_altstack.size;
  else
    sp -= 128;  // red zone
  const size_t xsave_size = runtime::rt().xsave_size;
  sp = (sp - xsave_size) & ~uint64_t{63};
  const uint64_t fpstate = sp;
  sp = (sp - sizeof(siginfo_t)) & ~uint64_t{15};
  const uint64_t info_addr = sp;
  sp = (sp - sizeof(ucontext_t)) & ~uint64_t{15};
  const uint64_t uc_addr = sp;
  sp -= 8;

  std::memcpy(reinterpret_cast<void*>(fpstate), ts.xsave_area, xsave_size);
  std::memcpy(reinterpret_cast<void*>(info_addr), &info, sizeof info);
  auto* uc = reinterpret_cast<ucontext_t*>(uc_addr);
  std::memset(uc, 0, sizeof *uc);
  uc->uc_flags = 0x1 | 0x2;  // UC_FP_XSTATE | UC_SIGCONTEXT_SS
  uc->uc_stack.ss_sp = reinterpret_cast<void*>(guest_altstack.sp);
  uc->uc_stack.ss_size = guest_altstack.size;
  uc->uc_stack.ss_flags = guest_altstack.flags;
  greg_t* g = uc->uc_mcontext.gregs;
  guest_to_gregs(ts.gpr, g);
  g[REG_RIP] = static_cast<greg_t>(ts.rip);
  g[REG_EFL] = static_cast<greg_t>(ts.rflags);
  g[REG_CSGSFS] = 0x33;
  if (sig == SIGSEGV || sig == SIGBUS) g[REG_CR2] = reinterpret_cast<greg_t>(info.si_addr);
  uc->uc_mcontext.fpregs = reinterpret_cast<fpregset_t>(fpstate);
  std::memcpy(&uc->uc_sigmask, &old_mask, sizeof old_mask);
  *reinterpret_cast<uint64_t*>(sp) = act.restorer;

  ts.gpr[runtime::kRsp] = sp;
  ts.gpr[runtime::kRdi] = static_cast<uint64_t>(sig);
  ts.gpr[runtime::kRsi] = info_addr;
  ts.gpr[runtime::kRdx] = uc_addr;
  ts.gpr[runtime::kRax] = 0;
  ts.rip = act.handler;
  ts.rflags &= ~uint64_t{0x400 | 0x100};  // DF and TF clear, as the kernel does

  uint64_t mask = old_mask | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= 1ull << (sig - 1);
  if (act.flags & SA_RESETHAND) {
    act.handler = reinterpret_cast<uint64_t>(SIG_DFL);
    install_host_action(sig, act);
  }
  return mask;
}

}  // namespace

void init_thread_signals() {
  static constexpr size_t kAltStackSize = 256 * 1024;
  stack_t ss{};
  ss.ss_sp =
      mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ss.ss_size = kAltStackSize;
  sigaltstack(&ss, nullptr);
}

void install_signal_handlers() {
  init_thread_signals();
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    struct sigaction cur {};
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, nullptr, &cur) != 0) continue;
    // Dispositions the guest inherits (e.g. SIG_IGN from a shell for `nohup`).
    guest_actions[sig].handler = reinterpret_cast<uint64_t>(cur.sa_handler);
    if (is_synchronous(sig)) install_host_action(sig, guest_actions[sig]);
  }
}

int64_t guest_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t sigsetsize) {
  if (sigsetsize != 8) return -EINVAL;
  if (sig < 1 || sig > kMaxSig) return -EINVAL;
  KernelSigaction next{};
  if (act && runtime::Dispatcher::read_guest(act, &next, sizeof next) != sizeof next)
    return -EFAULT;
  if (act && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
  if (oact) {
    const KernelSigaction old = guest_actions[sig];
    std::memcpy(reinterpret_cast<void*>(oact), &old, sizeof old);
  }
  if (act) {
    guest_actions[sig] = next;
    install_host_action(sig, next);
  }
  return 0;
}

int64_t guest_sigaltstack(ThreadState& ts, uint64_t ss_addr, uint64_t old_addr) {
  if (old_addr) {
    stack_t old{};
    old.ss_sp = reinterpret_cast<void*>(guest_altstack.sp);
    old.ss_size = guest_altstack.size;
    old.ss_flags = on_guest_altstack(ts.gpr[runtime::kRsp]) ? SS_ONSTACK : guest_altstack.flags;
    std::memcpy(reinterpret_cast<void*>(old_addr), &old, sizeof old);
  }
  if (ss_addr) {
    stack_t ss;
    if (runtime::Dispatcher::read_guest(ss_addr, &ss, sizeof ss) != sizeof ss) return -EFAULT;
    if (on_guest_altstack(ts.gpr[runtime::kRsp])) return -EPERM;
    if (ss.ss_flags & SS_DISABLE) {
      guest_altstack = GuestAltStack{};
    } else {
      if (ss.ss_flags & ~(1 << 31)) return -EINVAL;  // only SS_AUTODISARM may be set
      if (ss.ss_size < static_cast<size_t>(MINSIGSTKSZ)) return -ENOMEM;
      guest_altstack.sp = reinterpret_cast<uint64_t>(ss.ss_sp);
      guest_altstack.size = ss.ss_size;
      guest_altstack.flags = 0;
    }
  }
  return 0;
}

void guest_rt_sigreturn(ThreadState& ts) {
  auto* uc = reinterpret_cast<ucontext_t*>(ts.gpr[runtime::kRsp]);
  const greg_t* g = uc->uc_mcontext.gregs;
  gregs_to_guest(g, ts.gpr);
  ts.rip = static_cast<uint64_t>(g[REG_RIP]);
  constexpr uint64_t kUserFlags = 0x40dd5;  // CF PF AF ZF SF TF DF OF AC (FIX_EFLAGS)
  ts.rflags = (ts.rflags & ~kUserFlags) | (static_cast<uint64_t>(g[REG_EFL]) & kUserFlags);
  if (uc->uc_mcontext.fpregs)
    std::memcpy(ts.xsave_area, uc->uc_mcontext.fpregs, runtime::rt().xsave_size);
  uint64_t mask;
  std::memcpy(&mask, &uc->uc_sigmask, sizeof mask);
  mask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
  set_mask(mask);
}

bool pending_signal_restarts() {
  const uint64_t set = pending.set;
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    if ((set & (1ull << (sig - 1))) && !(guest_actions[sig].flags & SA_RESTART)) return false;
  }
  return true;
}

void deliver_pending_signals(ThreadState& ts) {
  // Signals must not be queued while the queue is being drained.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  uint64_t guest_mask;
  std::memcpy(&guest_mask, &old, sizeof guest_mask);
  ts.signal_pending = 0;
  uint64_t set = pending.set;
  pending.set = 0;
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    if (!(set & (1ull << (sig - 1)))) continue;
    const uint64_t h = guest_actions[sig].handler;
    if (h == reinterpret_cast<uint64_t>(SIG_IGN)) continue;
    if (h == reinterpret_cast<uint64_t>(SIG_DFL)) {
      sigprocmask(SIG_SETMASK, &old, nullptr);
      die_of_signal(sig);  // the default action of a signal the guest reset meanwhile
    }
    // Several pending signals nest, as the kernel nests their frames.
    guest_mask = deliver(ts, sig, pending.info[sig], guest_mask);
  }
  set_mask(guest_mask);
}

void deliver_fault(ThreadState& ts) {
  const int sig = fault_info.si_signo;
  set_mask(deliver(ts, sig, fault_info, current_mask()));
}

CopyFault last_copy_fault() { return copy_fault; }

void raise_synchronous(ThreadState& ts, int sig, int si_code, uint64_t fault_pc, uint64_t addr) {
  const uint64_t h = guest_actions[sig].handler;
  const uint64_t blocked = current_mask() & (1ull << (sig - 1));
  if (h <= 1 || blocked) {
    uint8_t code[16];
    size_t n = runtime::Dispatcher::read_guest(fault_pc, code, sizeof code);
    const std::string bytes = x86_64::hex_bytes(code, std::min<size_t>(n, 8));
    std::fprintf(stderr, "qplug: uncaught guest signal %d (%s) at 0x%lx (bytes %s)\n", sig,
                 strsignal(sig), static_cast<unsigned long>(fault_pc),
                 n ? bytes.c_str() : "unreadable");
    std::fflush(stderr);
    die_of_signal(sig);
  }
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = si_code;
  info.si_addr = reinterpret_cast<void*>(addr);
  set_mask(deliver(ts, sig, info, current_mask()));
}

}  // namespace qplug::os
