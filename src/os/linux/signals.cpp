#include "os/linux/signals.h"

#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gdbstub/stub.h"
#include "os/linux/code_pages.h"
#include "os/linux/raw_syscall.h"
#include "os/linux/ucontext_regs.h"
#include "runtime/dispatcher.h"
#include "runtime/log_stream.h"
#include "runtime/runtime.h"
#include "x86_64/decoder.h"
#include "x86_64/xstate.h"

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
constexpr uint64_t kAllSignals = ~uint64_t{0};
constexpr int kSsAutodisarm = 1 << 31;

// The guest's dispositions, per process: every thread of the process points
// at the same table, and a clone(CLONE_VM) child without CLONE_SIGHAND, a
// process of its own in qplug's address space, at its own copy.
struct SignalActions {
  KernelSigaction action[kMaxSig + 1];
};
SignalActions process_actions;
thread_local SignalActions* actions __attribute__((tls_model("initial-exec"))) = &process_actions;

// The guest's alternate signal stack, as the kernel keeps it per task
// (sas_ss_sp, sas_ss_size, sas_ss_flags).
struct GuestAltStack {
  uint64_t sp = 0;
  uint64_t size = 0;
  int flags = SS_DISABLE;
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

uint64_t sig_bit(int sig) { return uint64_t{1} << (sig - 1); }

// The kernel's rt_sigaction, not glibc's: glibc refuses the two signals it
// keeps for itself (SIGCANCEL 32 for pthread_cancel, SIGSETXID 33 for setuid
// in threaded programs), which the guest's own libc must be able to install.
// Host handlers return through qplug_restore_rt, as glibc's go through its
// __restore_rt.
extern "C" void qplug_restore_rt();
asm(R"(
  .text
  .globl qplug_restore_rt
  .hidden qplug_restore_rt
  .type qplug_restore_rt, @function
  nop
qplug_restore_rt:
  mov $15, %eax  # rt_sigreturn
  syscall
  hlt
  .size qplug_restore_rt, . - qplug_restore_rt
)");

void set_host_action(int sig, uint64_t handler, uint64_t flags) {
  KernelSigaction act{handler, flags | kSaRestorer, reinterpret_cast<uint64_t>(&qplug_restore_rt),
                      kAllSignals};
  raw_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&act), 0, 8);
}

KernelSigaction host_action(int sig) {
  KernelSigaction cur{};
  raw_syscall(SYS_rt_sigaction, sig, 0, reinterpret_cast<long>(&cur), 8);
  return cur;
}

uint64_t current_mask() {
  uint64_t mask = 0;
  raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, reinterpret_cast<long>(&mask), 8);
  return mask;
}

void set_mask(uint64_t mask) {
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, 8);
}

// Blocks every signal; returns the mask before.
uint64_t block_all() {
  uint64_t old = 0;
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&kAllSignals),
              reinterpret_cast<long>(&old), 8);
  return old;
}

// The faults and traps QEMU's x86 user mode reports as exception
// discontinuities: those an instruction raises (#UD, #BP, #DE, #GP, FP
// exceptions, in its raise_interrupt2), not page faults, which it turns into
// SIGSEGV or SIGBUS without passing there (SIGSEGV other than SI_KERNEL,
// SIGBUS of a file page).
bool reported_as_exception(int sig, int si_code) {
  switch (sig) {
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
      return true;
    case SIGSEGV:
      return si_code == SI_KERNEL;
    case SIGBUS:
      return si_code == BUS_ADRALN;
    default:
      return false;
  }
}

// Called before the signal frame is built, so the callbacks see (and may
// change) the registers at the fault, as QEMU's do. `from_pc` is the
// instruction; `to_pc` is passed as `from_pc`, as QEMU's user mode does
// (its hook runs before the signal is set up, so a drop-in reports the same).
void report_exception(ThreadState& ts, int sig, int si_code, uint64_t from_pc, uint64_t to_pc) {
  if (!reported_as_exception(sig, si_code)) return;
  // The pc reads as the instruction's (QEMU's, after int3 too); the frame
  // keeps the kernel's.
  const uint64_t frame_pc = ts.rip;
  ts.rip = from_pc;
  runtime::rt().tool->discon(static_cast<unsigned>(ts.vcpu_index), DisconType::kException, from_pc,
                             to_pc);
  ts.rip = frame_pc;
}

[[noreturn]] void die_of_signal(int sig) {
  gdb::on_killed(sig);
  runtime::finish_tool();  // QEMU runs the plugins' atexit callbacks on death by signal too
  fflush(nullptr);
  runtime::flush_log_line();
  set_host_action(sig, reinterpret_cast<uint64_t>(SIG_DFL), 0);
  const uint64_t unblock = sig_bit(sig);
  raw_syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&unblock), 0, 8);
  raw_syscall(SYS_tgkill, getpid(), raw_syscall(SYS_gettid), sig);
  _exit(128 + sig);
}

// Host handler for every signal the guest handles, and for faults.
void on_host_signal(int sig, siginfo_t* info, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  auto& R = runtime::rt();
  auto* pc = reinterpret_cast<uint8_t*>(uc->uc_mcontext.gregs[REG_RIP]);
  if (is_synchronous(sig) && info->si_code > 0) {
    // A write to a page qplug protects because it holds translated code. If
    // the block doing the write was about to run code it changed, it must not
    // go on: the writing instruction runs alone, and what follows it is
    // translated afresh (QEMU's restart of the current TB with one insn).
    if (sig == SIGSEGV && info->si_code == SEGV_ACCERR) {
      const auto addr = reinterpret_cast<uint64_t>(info->si_addr);
      if (handle_code_write(addr)) {
        const uint64_t page = addr & ~uint64_t{4095};
        if (R.cache.contains(pc) && R.dispatcher->write_hits_rest_of_block(uc, page, page + 4096) &&
            R.dispatcher->guest_state_at_fault(uc, runtime::current_thread()))
          uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(R.ctx.code_changed_exit);
        return;
      }
    }
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
      // Default or ignored: die as natively, unless gdb is to see the fault first.
      if (actions->action[sig].handler <= 1 && !gdb::active()) {
        if (located) report_exception(ts, sig, info->si_code, ts.rip, ts.rip);
        die_of_signal(sig);
      }
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
    // A plugin's code: named as the culprit; the others' exit callbacks run
    // and the process dies of the signal, as the guest would have.
    const uint64_t guest_pc = runtime::current_thread().rip;
    if (R.describe_plugin_crash) {
      if (const std::string what = R.describe_plugin_crash(pc); !what.empty()) {
        char tail[96];
        snprintf(tail, sizeof tail, ": signal %d (%s), last guest pc 0x%lx\n", sig, strsignal(sig),
                 static_cast<unsigned long>(guest_pc));
        write_stderr(("qplug: " + what + tail).c_str());
        die_of_signal(sig);
      }
    }
    Dl_info at{};
    const bool named = dladdr(pc, &at) && at.dli_sname;
    char msg[320];
    snprintf(msg, sizeof msg,
             "qplug: internal error: signal %d (%s) at host pc %p (%s), guest pc 0x%lx\n", sig,
             strsignal(sig), static_cast<void*>(pc), named ? at.dli_sname : "?",
             static_cast<unsigned long>(guest_pc));
    write_stderr(msg);
    die_of_signal(sig);
  }

  PendingSignals& p = pending;
  p.info[sig] = *info;
  p.set |= sig_bit(sig);
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

// Signals whose default action ends the process (with or without a core).
bool kills_by_default(int sig) {
  switch (sig) {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGKILL:
      return false;
    default:
      return true;
  }
}

void install_host_action(int sig, const KernelSigaction& guest) {
  // What the kernel does without calling a handler stays the kernel's to do,
  // except dying: a signal that would kill the process comes to qplug first,
  // so that the plugins' exit callbacks run before it dies of it
  // (die_of_signal), as QEMU runs them on its fatal-signal path.
  const uint64_t child_flags = guest.flags & (SA_NOCLDSTOP | SA_NOCLDWAIT);
  const auto own = reinterpret_cast<uint64_t>(&on_host_signal);
  const bool dfl = guest.handler == reinterpret_cast<uint64_t>(SIG_DFL);
  if (is_synchronous(sig) || (dfl && kills_by_default(sig))) {
    set_host_action(sig, own, SA_SIGINFO | SA_ONSTACK | child_flags);
  } else if (dfl || guest.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
    set_host_action(sig, guest.handler, child_flags);
  } else {
    // No SA_RESTART: an interrupted syscall returns to the dispatcher, which
    // restarts it after the guest handler if the guest asked for SA_RESTART.
    set_host_action(sig, own, SA_SIGINFO | SA_ONSTACK | child_flags);
  }
}

// The kernel's on_sig_stack(): a stack armed with SS_AUTODISARM never counts
// as in use (it is disarmed while a handler runs on it).
bool on_guest_altstack(uint64_t sp) {
  if (guest_altstack.flags & kSsAutodisarm) return false;
  return sp > guest_altstack.sp && sp - guest_altstack.sp <= guest_altstack.size;
}

// The kernel's sas_ss_flags(): SS_DISABLE, SS_ONSTACK or 0.
int altstack_state(uint64_t sp) {
  if (guest_altstack.size == 0) return SS_DISABLE;
  return on_guest_altstack(sp) ? SS_ONSTACK : 0;
}

// Writes guest memory without faulting; false if some byte is not writable.
bool write_guest(uint64_t addr, const void* data, size_t len) {
  return runtime::rt().ctx.safe_copy(reinterpret_cast<void*>(addr), data, len) == 0;
}

// Builds the rt_sigframe the kernel would (arch/x86/kernel/signal.c):
// [return address = sa_restorer][ucontext][siginfo][fpstate], and points the
// guest at the handler. `old_mask` is the guest's mask at delivery; returns
// the handler's mask. A frame that cannot be written (the stack overflowed)
// or that does not fit the alternate stack is the kernel's force_sigsegv: the
// process dies of SIGSEGV.
uint64_t deliver(ThreadState& ts, int sig, const siginfo_t& info, uint64_t old_mask) {
  KernelSigaction& act = actions->action[sig];
  const uint64_t interrupted_sp = ts.gpr[runtime::kRsp];
  uint64_t sp = interrupted_sp - 128;  // red zone
  const bool nested_altstack = on_guest_altstack(sp);
  bool entering_altstack = false;
  if ((act.flags & SA_ONSTACK) && altstack_state(sp) == 0) {
    sp = guest_altstack.sp + guest_altstack.size;
    entering_altstack = true;
  }
  const size_t fpstate_size = x86_64::exported_fpstate_size();
  sp = (sp - fpstate_size) & ~uint64_t{63};
  const uint64_t fpstate = sp;
  sp = (sp - sizeof(siginfo_t)) & ~uint64_t{15};
  const uint64_t info_addr = sp;
  sp = (sp - sizeof(ucontext_t)) & ~uint64_t{15};
  const uint64_t uc_addr = sp;
  sp -= 8;
  const bool fits = !(nested_altstack || entering_altstack) ||
                    (sp > guest_altstack.sp && sp - guest_altstack.sp <= guest_altstack.size);

  ucontext_t uc{};
  uc.uc_flags = 0x2 | 0x4;                        // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
  if (x86_64::xstate().mask) uc.uc_flags |= 0x1;  // UC_FP_XSTATE: an XSAVE image with its sw bytes
  uc.uc_stack.ss_sp = reinterpret_cast<void*>(guest_altstack.sp);
  uc.uc_stack.ss_size = guest_altstack.size;
  uc.uc_stack.ss_flags = guest_altstack.flags;
  greg_t* g = uc.uc_mcontext.gregs;
  guest_to_gregs(ts.gpr, g);
  g[REG_RIP] = static_cast<greg_t>(ts.rip);
  g[REG_EFL] = static_cast<greg_t>(ts.rflags);
  g[REG_CSGSFS] = 0x33;
  if (sig == SIGSEGV || sig == SIGBUS) g[REG_CR2] = reinterpret_cast<greg_t>(info.si_addr);
  uc.uc_mcontext.fpregs = reinterpret_cast<fpregset_t>(fpstate);
  std::memcpy(&uc.uc_sigmask, &old_mask, sizeof old_mask);
  const uint64_t restorer = act.restorer;
  if (!fits || !x86_64::export_fpstate(fpstate, ts.xsave_area, write_guest) ||
      !write_guest(info_addr, &info, sizeof info) || !write_guest(uc_addr, &uc, sizeof uc) ||
      !write_guest(sp, &restorer, sizeof restorer)) {
    die_of_signal(SIGSEGV);
  }
  if (guest_altstack.flags & kSsAutodisarm) guest_altstack = GuestAltStack{};

  ts.gpr[runtime::kRsp] = sp;
  ts.gpr[runtime::kRdi] = static_cast<uint64_t>(sig);
  ts.gpr[runtime::kRsi] = info_addr;
  ts.gpr[runtime::kRdx] = uc_addr;
  ts.gpr[runtime::kRax] = 0;
  ts.rip = act.handler;
  ts.rflags &= ~uint64_t{0x400 | 0x100};  // DF and TF clear, as the kernel does

  uint64_t mask = old_mask | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= sig_bit(sig);
  if (act.flags & SA_RESETHAND) {
    act.handler = reinterpret_cast<uint64_t>(SIG_DFL);
    install_host_action(sig, act);
  }
  return mask;
}

// The kernel's do_sigaltstack() for a new stack, without the reporting of
// the old one. Whether a size is enough is the kernel's rule (2048 bytes at
// least, and more once the process may use AMX tiles, whose state signal
// frames then carry): the kernel itself judges it, with the guest's stack
// set on this host thread for a moment, signals blocked, and qplug's own
// alternate stack put back.
int64_t set_guest_altstack(uint64_t sp, const stack_t& ss) {
  if (on_guest_altstack(sp)) return -EPERM;
  const int mode = ss.ss_flags & ~kSsAutodisarm;
  if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return -EINVAL;
  const auto ss_sp = reinterpret_cast<uint64_t>(ss.ss_sp);
  if (ss_sp == guest_altstack.sp && ss.ss_size == guest_altstack.size &&
      ss.ss_flags == guest_altstack.flags)
    return 0;  // no change (every rt_sigreturn restores the stack it saved)
  if (mode == SS_DISABLE) {
    guest_altstack = GuestAltStack{0, 0, ss.ss_flags};
    return 0;
  }
  const uint64_t old_mask = block_all();
  stack_t host{};
  long rc =
      raw_syscall(SYS_sigaltstack, reinterpret_cast<long>(&ss), reinterpret_cast<long>(&host));
  if (rc == 0) raw_syscall(SYS_sigaltstack, reinterpret_cast<long>(&host), 0);
  set_mask(old_mask);
  if (rc != 0) return rc;
  guest_altstack = GuestAltStack{ss_sp, ss.ss_size, ss.ss_flags};
  return 0;
}

}  // namespace

void init_thread_signals() {
  // The kernel's frame for a host handler holds the whole extended state the
  // process may use (AT_MINSIGSTKSZ tells its size; about 12 KiB with AMX):
  // leave room for several nested frames and the handler's own calls.
  static const size_t size =
      std::max<size_t>(256 * 1024, (8 * getauxval(AT_MINSIGSTKSZ) + 4095) & ~size_t{4095});
  stack_t ss{};
  ss.ss_sp = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ss.ss_size = size;
  sigaltstack(&ss, nullptr);
}

void install_signal_handlers() {
  init_thread_signals();
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // Dispositions the guest inherits across execve (SIG_IGN from a shell for
    // `nohup`, say). A handler here is the host libc's own (for SIGCANCEL and
    // SIGSETXID): the guest, freshly exec'd, has the default there.
    const uint64_t handler = host_action(sig).handler;
    const bool inherited = handler == reinterpret_cast<uint64_t>(SIG_IGN);
    actions->action[sig].handler = reinterpret_cast<uint64_t>(inherited ? SIG_IGN : SIG_DFL);
    if (is_synchronous(sig) || !inherited) install_host_action(sig, actions->action[sig]);
  }
}

uint64_t signal_mask() { return current_mask(); }

void set_signal_mask(uint64_t mask) { set_mask(mask); }

void* signal_actions() { return actions; }

void use_signal_actions(void* table) { actions = static_cast<SignalActions*>(table); }

void* copy_signal_actions() { return new SignalActions(*actions); }

void free_signal_actions(void* table) { delete static_cast<SignalActions*>(table); }

void reinstall_reserved_signals() {
  for (int sig : {32, 33}) install_host_action(sig, actions->action[sig]);
}

int64_t guest_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t sigsetsize) {
  if (sigsetsize != 8) return -EINVAL;
  if (sig < 1 || sig > kMaxSig) return -EINVAL;
  KernelSigaction next{};
  if (act && runtime::Dispatcher::read_guest(act, &next, sizeof next) != sizeof next)
    return -EFAULT;
  if (act && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
  const KernelSigaction old = actions->action[sig];
  if (act) {
    next.mask &= ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
    actions->action[sig] = next;
    install_host_action(sig, next);
  }
  if (oact && !write_guest(oact, &old, sizeof old)) return -EFAULT;
  return 0;
}

int64_t guest_sigaltstack(ThreadState& ts, uint64_t ss_addr, uint64_t old_addr) {
  const uint64_t sp = ts.gpr[runtime::kRsp];
  stack_t old{};
  old.ss_sp = reinterpret_cast<void*>(guest_altstack.sp);
  old.ss_size = guest_altstack.size;
  old.ss_flags = altstack_state(sp) | (guest_altstack.flags & kSsAutodisarm);
  if (ss_addr) {
    stack_t ss;
    if (runtime::Dispatcher::read_guest(ss_addr, &ss, sizeof ss) != sizeof ss) return -EFAULT;
    if (const int64_t rc = set_guest_altstack(sp, ss); rc != 0) return rc;
  }
  if (old_addr && !write_guest(old_addr, &old, sizeof old)) return -EFAULT;
  return 0;
}

void guest_rt_sigreturn(ThreadState& ts) {
  // The frame is guest memory: the guest may have built or changed it, and
  // it may not be there at all, which the kernel answers with SIGSEGV.
  ucontext_t uc;
  const uint64_t uc_addr = ts.gpr[runtime::kRsp];
  if (runtime::Dispatcher::read_guest(uc_addr, &uc, sizeof uc) != sizeof uc) die_of_signal(SIGSEGV);
  const greg_t* g = uc.uc_mcontext.gregs;
  gregs_to_guest(g, ts.gpr);
  ts.rip = static_cast<uint64_t>(g[REG_RIP]);
  constexpr uint64_t kUserFlags = 0x40dd5;  // CF PF AF ZF SF TF DF OF AC (FIX_EFLAGS)
  ts.rflags = (ts.rflags & ~kUserFlags) | (static_cast<uint64_t>(g[REG_EFL]) & kUserFlags);
  if (const auto fpstate = reinterpret_cast<uint64_t>(uc.uc_mcontext.fpregs)) {
    alignas(64) static thread_local uint8_t frame[16384];
    const size_t n = std::min(sizeof frame, x86_64::exported_fpstate_size());
    if (runtime::Dispatcher::read_guest(fpstate, frame, n) < 512) die_of_signal(SIGSEGV);
    x86_64::import_fpstate(ts.xsave_area, frame);
  }
  // As the kernel's restore_altstack(): errors are not reported.
  set_guest_altstack(uc_addr, uc.uc_stack);
  uint64_t mask;
  std::memcpy(&mask, &uc.uc_sigmask, sizeof mask);
  mask &= ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
  set_mask(mask);
}

bool pending_signal_restarts() {
  const uint64_t set = pending.set;
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    if ((set & (sig_bit(sig))) && !(actions->action[sig].flags & SA_RESTART)) return false;
  }
  return true;
}

void deliver_pending_signals(ThreadState& ts) {
  // Signals must not be queued while the queue is being drained.
  const uint64_t old = block_all();
  uint64_t guest_mask = old;
  ts.signal_pending = 0;
  uint64_t set = pending.set;
  pending.set = 0;
  for (int sig = 1; sig <= kMaxSig; ++sig) {
    if (!(set & (sig_bit(sig)))) continue;
    if (actions->action[sig].handler == reinterpret_cast<uint64_t>(SIG_IGN)) continue;
    // gdb decides whether the guest gets it (and may take its time: the
    // handler's disposition is read afterwards).
    if (gdb::active() && gdb::on_signal(ts, sig) == 0) continue;
    const uint64_t h = actions->action[sig].handler;
    if (h == reinterpret_cast<uint64_t>(SIG_IGN)) continue;
    if (h == reinterpret_cast<uint64_t>(SIG_DFL)) {
      set_mask(old);
      die_of_signal(sig);  // the default action of a signal the guest reset meanwhile
    }
    // Several pending signals nest, as the kernel nests their frames.
    guest_mask = deliver(ts, sig, pending.info[sig], guest_mask);
  }
  set_mask(guest_mask);
}

void deliver_fault(ThreadState& ts) {
  const int sig = fault_info.si_signo;
  if (gdb::active()) {
    // gdb sees the fault before the guest's handler, or the death by it
    // (on_host_signal came here for a default action only because of gdb).
    if (gdb::on_signal(ts, sig) == 0) return;  // runs the instruction again
    if (actions->action[sig].handler <= 1 || (current_mask() & sig_bit(sig))) {
      report_exception(ts, sig, fault_info.si_code, ts.rip, ts.rip);
      die_of_signal(sig);
    }
  }
  report_exception(ts, sig, fault_info.si_code, ts.rip, ts.rip);  // to_pc as QEMU's user mode
  set_mask(deliver(ts, sig, fault_info, current_mask()));
}

CopyFault last_copy_fault() { return copy_fault; }

void raise_synchronous(ThreadState& ts, int sig, int si_code, uint64_t fault_pc, uint64_t addr) {
  if (gdb::active() && gdb::on_signal(ts, sig) == 0) return;
  const uint64_t h = actions->action[sig].handler;
  const uint64_t blocked = current_mask() & (sig_bit(sig));
  if (h <= 1 || blocked) {
    report_exception(ts, sig, si_code, fault_pc, fault_pc);
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
  report_exception(ts, sig, si_code, fault_pc, fault_pc);  // to_pc as QEMU's user mode
  set_mask(deliver(ts, sig, info, current_mask()));
}

}  // namespace qplug::os
