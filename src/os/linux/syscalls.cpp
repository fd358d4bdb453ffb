#include "os/linux/syscalls.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/strace.h"
#include "gdbstub/stub.h"
#include "loader/elf_loader.h"
#include "os/linux/code_pages.h"
#include "os/linux/exec.h"
#include "os/linux/fds.h"
#include "os/linux/raw_syscall.h"
#include "os/linux/signals.h"
#include "os/linux/threads.h"
#include "runtime/dispatcher.h"
#include "runtime/log_stream.h"
#include "runtime/runtime.h"

namespace qplug::os {

using runtime::ThreadState;

namespace {

constexpr long kNotStarted = -512;  // ERESTARTSYS: safe_syscall saw a pending signal

bool is_restartable(long nr) {
  switch (nr) {
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2:
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_msgrcv:
    case SYS_msgsnd:
    case SYS_semop:
    case SYS_semtimedop:
    case SYS_clock_nanosleep:
    case SYS_nanosleep:
    case SYS_io_getevents:
    case SYS_rt_sigtimedwait:
    case SYS_rt_sigsuspend:
    case SYS_pause:
      return false;
    default:
      return true;
  }
}

// The first address of [lo, hi) that qplug holds reserved for the guest where
// the kernel would have nothing mapped: the brk beyond the pages in use, and
// the images' holes.
uint64_t first_guest_hole(uint64_t lo, uint64_t hi) {
  auto& R = runtime::rt();
  uint64_t first = loader::first_hole(R.program, lo, hi);
  const runtime::GuestBrk& b = R.brk;
  if (b.mapped < hi && b.limit > lo && b.limit > b.mapped)
    first = std::min(first, std::max(b.mapped, lo));
  return first;
}

bool is_own_exe(const char* path) {
  if (!path) return false;
  if (!strcmp(path, "/proc/self/exe") || !strcmp(path, "/proc/thread-self/exe")) return true;
  char mine[64];
  snprintf(mine, sizeof mine, "/proc/%d/exe", getpid());
  return !strcmp(path, mine);
}

int64_t emulate_brk(uint64_t requested) {
  runtime::GuestBrk& b = runtime::rt().brk;
  if (requested < b.start || requested > b.limit) return static_cast<int64_t>(b.current);
  const uint64_t page_end = (requested + 4095) & ~uint64_t{4095};
  if (page_end > b.mapped) {
    if (mprotect(reinterpret_cast<void*>(b.mapped), page_end - b.mapped, PROT_READ | PROT_WRITE))
      return static_cast<int64_t>(b.current);
    b.mapped = page_end;
  } else if (page_end < b.mapped) {
    // Released pages must read as zero if the break grows again.
    mmap(reinterpret_cast<void*>(page_end), b.mapped - page_end, PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    b.mapped = page_end;
  }
  b.current = requested;
  return static_cast<int64_t>(requested);
}

int64_t emulate_arch_prctl(uint64_t code, uint64_t addr) {
  switch (code) {
    case 0x1002:  // ARCH_SET_FS: the guest's FS lives in GS
      if (addr >= (1ull << 47)) return -EPERM;
      asm volatile("wrgsbase %0" ::"r"(addr) : "memory");
      return 0;
    case 0x1003: {  // ARCH_GET_FS
      uint64_t base;
      asm volatile("rdgsbase %0" : "=r"(base));
      std::memcpy(reinterpret_cast<void*>(addr), &base, sizeof base);
      return 0;
    }
    case 0x1001:  // ARCH_SET_GS
    case 0x1004:  // ARCH_GET_GS
      std::fprintf(stderr, "qplug: guest uses the GS segment (arch_prctl 0x%lx): not supported\n",
                   static_cast<unsigned long>(code));
      std::exit(1);
    default:
      return raw_syscall(SYS_arch_prctl, static_cast<long>(code), static_cast<long>(addr));
  }
}

int64_t emulate_clone(ThreadState& ts, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
                      uint64_t tls) {
  if (flags & CLONE_THREAD) return create_guest_thread(ts, flags, stack, ptid, ctid, tls);
  if (flags & CLONE_VM) return create_vm_child(ts, flags, stack, ptid, ctid, tls);
  flags &= ~static_cast<uint64_t>(CLONE_VFORK | CLONE_SETTLS);
  fflush(nullptr);
  // No other thread may hold the translation lock across the fork: the child
  // would inherit it locked.
  auto& dispatcher = *runtime::rt().dispatcher;
  std::unique_lock guard(dispatcher.mutex());
  const long pid = raw_syscall(SYS_clone, static_cast<long>(flags), 0, static_cast<long>(ptid),
                               static_cast<long>(ctid), 0);
  if (pid == 0) {
    dispatcher.forget_other_threads(&ts);
    gdb::forget_in_child();
    if (stack) ts.gpr[runtime::kRsp] = stack;
    if (tls) asm volatile("wrgsbase %0" ::"r"(tls) : "memory");
  }
  return pid;
}

// clone3 is clone with its arguments in a struct; the stack is given as its
// lowest address and size. Features clone lacks (pidfd, set_tid, cgroup) get
// ENOSYS, on which libc falls back to clone.
int64_t emulate_clone3(ThreadState& ts, uint64_t args_addr, uint64_t size) {
  struct CloneArgs {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
  } args{};
  if (size < 64 || size > 4096) return -EINVAL;
  const size_t n = std::min<size_t>(size, sizeof args);
  if (runtime::Dispatcher::read_guest(args_addr, &args, n) != n) return -EFAULT;
  constexpr uint64_t kPidfd = 0x1000, kIntoCgroup = 0x200000000ull;
  if ((args.flags & (kPidfd | kIntoCgroup)) || args.set_tid_size) return -ENOSYS;
  if (args.exit_signal > 64 || (args.flags & 0xff)) return -EINVAL;
  const uint64_t stack = args.stack ? args.stack + args.stack_size : 0;
  return emulate_clone(ts, args.flags | args.exit_signal, stack, args.parent_tid, args.child_tid,
                       args.tls);
}

}  // namespace

void dispatch_syscall(ThreadState& ts);
void dispatch_traced(ThreadState& ts);

namespace {

// Seccomp's strict mode, enforced by qplug on the guest's own system calls:
// entered in the kernel it would also bind qplug's (translating new code,
// the plugins' output, the exit_group that ends a process whose guest called
// exit), and kill the process where the guest would have run on.
thread_local bool seccomp_strict = false;

constexpr long kPrSetSeccomp = 22, kSeccompModeStrict = 1, kSeccompSetModeStrict = 0;

bool enters_strict_seccomp(long nr, uint64_t a1, uint64_t a2) {
  return (nr == SYS_prctl && a1 == kPrSetSeccomp && a2 == kSeccompModeStrict) ||
         (nr == SYS_seccomp && a1 == kSeccompSetModeStrict);
}

// The kernel's __secure_computing_strict: anything but read, write, exit and
// rt_sigreturn ends the calling thread as if by SIGKILL.
void check_strict_seccomp(ThreadState& ts, long nr) {
  if (nr == SYS_read || nr == SYS_write || nr == SYS_exit || nr == SYS_rt_sigreturn) return;
  if (runtime::rt().dispatcher->live_threads() <= 1) {
    fflush(nullptr);
    raw_syscall(SYS_kill, getpid(), SIGKILL);
  }
  exit_guest_thread(ts, 0);
}

}  // namespace

void exit_group(int status) {
  if (runtime::current_thread().separate_process) raw_syscall(SYS_exit_group, status);
  runtime::finish_tool();
  if (getenv("QPLUG_STATS")) runtime::rt().dispatcher->print_stats(runtime::rt().log);
  fflush(nullptr);
  runtime::flush_log_line();
  gdb::on_exit(status);  // last: gdb's exit message follows the plugins' output
  raw_syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void handle_syscall(ThreadState& ts) {
  auto& R = runtime::rt();
  ts.orig_rax = ts.gpr[runtime::kRax];
  if (R.tool->watches_syscalls()) {
    const long nr = static_cast<long>(ts.gpr[runtime::kRax]);
    const SyscallArgs args = {ts.gpr[runtime::kRdi],
                              ts.gpr[runtime::kRsi],
                              ts.gpr[runtime::kRdx],
                              ts.gpr[runtime::kR10],
                              ts.gpr[runtime::kR8],
                              ts.gpr[runtime::kR9],
                              0,
                              0};
    const auto vcpu = static_cast<unsigned>(ts.vcpu_index);
    int64_t filtered_ret = 0;
    const SyscallVerdict verdict = R.tool->syscall(vcpu, nr, args, &filtered_ret);
    // A plugin's set_pc in these callbacks skips the syscall (QEMU's ESETPC).
    if (verdict == SyscallVerdict::kRedirected) return;
    if (verdict == SyscallVerdict::kFiltered) {
      ts.gpr[runtime::kRax] = static_cast<uint64_t>(filtered_ret);
      ts.gpr[runtime::kRcx] = ts.rip;
      ts.gpr[runtime::kR11] = ts.rflags;
    } else {
      dispatch_traced(ts);
    }
    if (nr != SYS_rt_sigreturn)
      R.tool->syscall_ret(vcpu, nr, static_cast<int64_t>(ts.gpr[runtime::kRax]));
    return;
  }
  dispatch_traced(ts);
}

void dispatch_traced(ThreadState& ts) {
  auto& R = runtime::rt();
  if (R.options.strace) {
    const uint64_t args[6] = {ts.gpr[runtime::kRdi], ts.gpr[runtime::kRsi], ts.gpr[runtime::kRdx],
                              ts.gpr[runtime::kR10], ts.gpr[runtime::kR8],  ts.gpr[runtime::kR9]};
    const long nr = static_cast<long>(ts.gpr[runtime::kRax]);
    // No object with a destructor may live across dispatch_syscall: a
    // thread's exit(2) unwinds this frame (pthread_exit), and a cleanup here
    // made that unwind abort (the personality routine linked into qplug is
    // not the unwinder's that pthread_exit loads).
    std::fputs(cli::format_syscall_entry(getpid(), nr, args).c_str(), R.log);
    // These do not return (to print their result after): the line ends here.
    if (nr == SYS_execve || nr == SYS_execveat || nr == SYS_rt_sigreturn) std::fputs("\n", R.log);
    std::fflush(R.log);
    dispatch_syscall(ts);
    if (nr != SYS_rt_sigreturn) {
      const auto ret = static_cast<long>(ts.gpr[runtime::kRax]);
      std::fputs(cli::format_syscall_return(nr, ret).c_str(), R.log);
    }
    return;
  }
  dispatch_syscall(ts);
}

// Guest memory and its translations change as one step: the dispatcher's
// lock is held from dropping the translations of a range to the end of the
// syscall that changes the range, so that no thread translates the old
// contents in between, and no thread finds a block the change made stale
// (a munmap'd page mapped again by another thread with new code, say).
void dispatch_syscall(ThreadState& ts) {
  const long nr = static_cast<long>(ts.gpr[runtime::kRax]);
  const uint64_t a1 = ts.gpr[runtime::kRdi], a2 = ts.gpr[runtime::kRsi], a3 = ts.gpr[runtime::kRdx],
                 a4 = ts.gpr[runtime::kR10], a5 = ts.gpr[runtime::kR8], a6 = ts.gpr[runtime::kR9];
  auto& R = runtime::rt();
  if (seccomp_strict) check_strict_seccomp(ts, nr);
  int64_t ret;
  switch (enters_strict_seccomp(nr, a1, a2) ? -1 : nr) {
    case -1:
      seccomp_strict = true;
      ret = 0;
      break;
    case SYS_brk:
      ret = emulate_brk(a1);
      break;
    case SYS_arch_prctl:
      ret = emulate_arch_prctl(a1, a2);
      break;
    case SYS_mmap: {
      std::lock_guard guard(R.dispatcher->mutex());  // see above dispatch_syscall
      if (a4 & MAP_FIXED) R.dispatcher->invalidate(a1, a1 + a2);
      ret = raw_syscall(nr, a1, a2, a3, a4, a5, a6);
      if (ret >= 0) {
        note_mmap(ret, a2, static_cast<int>(a3), static_cast<int>(a4), static_cast<int>(a5), a6);
        loader::forget_holes(R.program, ret, ret + a2);
      }
      break;
    }
    case SYS_munmap: {
      std::lock_guard guard(R.dispatcher->mutex());
      R.dispatcher->invalidate(a1, a1 + a2);
      ret = raw_syscall(nr, a1, a2);
      if (ret == 0) {
        note_munmap(a1, a2);
        loader::forget_holes(R.program, a1, a1 + a2);
      }
      break;
    }
    case SYS_mprotect: {
      // Where qplug holds pages the kernel would leave unmapped, mprotect must
      // stop as natively: it changes the mappings before the hole, then fails.
      std::lock_guard guard(R.dispatcher->mutex());
      const uint64_t end = a1 + ((a2 + 4095) & ~uint64_t{4095});
      const uint64_t hole = (a1 & 4095) == 0 && end > a1 ? first_guest_hole(a1, end) : end;
      if (hole > a1) R.dispatcher->invalidate(a1, hole);
      ret = raw_syscall(nr, a1, hole - a1, a3);
      if (ret == 0 && hole > a1) note_mprotect(a1, hole - a1, static_cast<int>(a3));
      if (ret == 0 && hole < end) ret = -ENOMEM;
      break;
    }
    case SYS_mremap: {
      std::lock_guard guard(R.dispatcher->mutex());
      R.dispatcher->invalidate(a1, a1 + a2);
      if (a4 & MREMAP_FIXED) R.dispatcher->invalidate(a5, a5 + a3);
      release_protection(a1, a2);
      ret = raw_syscall(nr, a1, a2, a3, a4, a5);
      if (ret >= 0) {
        note_mremap(a1, a2, static_cast<uint64_t>(ret), a3);
        loader::forget_holes(R.program, static_cast<uint64_t>(ret),
                             static_cast<uint64_t>(ret) + a3);
      }
      break;
    }
    case SYS_madvise: {
      // Advice that empties pages changes the code they hold.
      std::lock_guard guard(R.dispatcher->mutex());
      if (a3 == MADV_DONTNEED || a3 == MADV_FREE || a3 == MADV_REMOVE)
        R.dispatcher->invalidate(a1, a1 + a2);
      ret = raw_syscall(nr, a1, a2, a3);
      break;
    }
    case SYS_getrlimit:
    case SYS_setrlimit:
    case SYS_prlimit64: {
      const bool self = nr != SYS_prlimit64 || a1 == 0 || a1 == static_cast<uint64_t>(getpid());
      const uint64_t resource = nr == SYS_prlimit64 ? a2 : a1;
      const uint64_t new_limit = nr == SYS_prlimit64 ? a3 : nr == SYS_setrlimit ? a2 : 0;
      const uint64_t old_limit = nr == SYS_prlimit64 ? a4 : nr == SYS_getrlimit ? a2 : 0;
      // Lowering RLIMIT_AS below what qplug holds in reserve would leave no
      // room for anything new: the reserves shrink first.
      std::lock_guard guard(R.dispatcher->mutex());
      struct rlimit want;
      if (self && resource == RLIMIT_AS && new_limit &&
          runtime::Dispatcher::read_guest(new_limit, &want, sizeof want) == sizeof want)
        runtime::fit_reservations(want.rlim_cur);
      bool handled = false;  // RLIMIT_NOFILE: the guest's share of it (fds.h)
      ret = guest_nofile_limit(nr, self ? 0 : a1, resource, new_limit, old_limit, &handled);
      if (!handled) ret = raw_syscall(nr, a1, a2, a3, a4);
      break;
    }
    // Descriptors by number: qplug's own stay out of reach (fds.h).
    case SYS_close:
      ret = guest_close(a1);
      break;
    case SYS_close_range:
      ret = guest_close_range(a1, a2, a3);
      break;
    case SYS_dup2:
    case SYS_dup3:
      ret = guest_dup2(nr, a1, a2, a3);
      break;
    case SYS_fcntl:
      ret = guest_fcntl(a1, a2, a3);
      break;
    case SYS_getdents64:
      ret = guest_getdents64(a1, a2, a3);
      break;
    case SYS_dup:
    case SYS_socket:
    case SYS_eventfd2:
    case SYS_epoll_create1:
    case SYS_signalfd4:
    case SYS_timerfd_create:
    case SYS_inotify_init1:
    case SYS_memfd_create:
    case SYS_accept:
    case SYS_accept4:
      ret = check_new_fd(R.ctx.safe_syscall(nr, a1, a2, a3, a4, a5, a6));
      break;
    case SYS_pipe:
    case SYS_pipe2:
    case SYS_socketpair: {
      ret = R.ctx.safe_syscall(nr, a1, a2, a3, a4, a5, a6);
      const uint64_t pair = nr == SYS_socketpair ? a4 : a1;
      int fds[2];
      if (ret == 0 && runtime::Dispatcher::read_guest(pair, fds, sizeof fds) == sizeof fds &&
          (is_reserved_fd(fds[0]) || is_reserved_fd(fds[1]))) {
        raw_syscall(SYS_close, fds[0]);
        raw_syscall(SYS_close, fds[1]);
        ret = -EMFILE;
      }
      break;
    }
    case SYS_rt_sigaction:
      ret = guest_rt_sigaction(static_cast<int>(a1), a2, a3, a4);
      break;
    case SYS_rt_sigreturn:
      guest_rt_sigreturn(ts);
      return;  // every register comes from the signal frame
    case SYS_sigaltstack:
      ret = guest_sigaltstack(ts, a1, a2);
      break;
    case SYS_rseq:
      ret = -ENOSYS;  // the host's libc owns this thread's rseq area
      break;
    case SYS_clone:
      ret = emulate_clone(ts, a1, a2, a3, a4, a5);
      break;
    case SYS_fork:
      ret = emulate_clone(ts, SIGCHLD, 0, 0, 0, 0);
      break;
    case SYS_vfork:
      ret = emulate_clone(ts, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
      break;
    case SYS_clone3:
      ret = emulate_clone3(ts, a1, a2);
      break;
    case SYS_execve:
      ret = follow_execve(AT_FDCWD, a1, a2, a3, 0);
      break;
    case SYS_execveat:
      ret = follow_execve(static_cast<int>(a1), a2, a3, a4, static_cast<int>(a5));
      break;
    case SYS_exit:
      exit_guest_thread(ts, static_cast<int>(a1));
    case SYS_exit_group:
      exit_group(static_cast<int>(a1));
    case SYS_set_tid_address:
      ret = guest_set_tid_address(ts, a1);
      break;
    case SYS_readlink:
    case SYS_readlinkat: {
      const char* path = reinterpret_cast<const char*>(nr == SYS_readlink ? a1 : a2);
      if (is_own_exe(path)) {
        char* buf = reinterpret_cast<char*>(nr == SYS_readlink ? a2 : a3);
        const size_t size = nr == SYS_readlink ? a3 : a4;
        const size_t n = std::min(size, R.exe_realpath.size());
        std::memcpy(buf, R.exe_realpath.data(), n);
        ret = static_cast<int64_t>(n);
      } else {
        ret = raw_syscall(nr, a1, a2, a3, a4);
      }
      break;
    }
    case SYS_uname:
      ret = raw_syscall(nr, a1);
      // -r (QEMU_UNAME): the kernel release the guest sees, as QEMU's
      // qemu_uname_release (cut to the field's 65 bytes with its NUL).
      if (ret == 0 && !R.options.uname_release.empty()) {
        char release[sizeof(utsname::release)] = {};
        std::memcpy(release, R.options.uname_release.data(),
                    std::min(R.options.uname_release.size(), sizeof release - 1));
        if (R.ctx.safe_copy(reinterpret_cast<void*>(a1 + offsetof(utsname, release)), release,
                            sizeof release) != 0)
          ret = -EFAULT;
      }
      break;
    case SYS_open:
    case SYS_openat: {
      uint64_t path_arg = nr == SYS_open ? a1 : a2;
      if (is_own_exe(reinterpret_cast<const char*>(path_arg)))
        path_arg = reinterpret_cast<uint64_t>(R.exe_realpath.c_str());
      ret = nr == SYS_open ? R.ctx.safe_syscall(nr, path_arg, a2, a3, 0, 0, 0)
                           : R.ctx.safe_syscall(nr, a1, path_arg, a3, a4, 0, 0);
      ret = check_new_fd(ret);
      note_opened_dir(ret, path_arg);
      break;
    }
    default:
      ret = R.ctx.safe_syscall(nr, a1, a2, a3, a4, a5, a6);
      break;
  }
  if (ret == kNotStarted ||
      (ret == -EINTR && ts.signal_pending && pending_signal_restarts() && is_restartable(nr))) {
    ts.rip -= 2;  // re-execute the syscall after the guest's handler returns
    return;
  }
  ts.gpr[runtime::kRax] = static_cast<uint64_t>(ret);
  ts.gpr[runtime::kRcx] = ts.rip;
  ts.gpr[runtime::kR11] = ts.rflags;
}

}  // namespace qplug::os
