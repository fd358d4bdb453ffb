#include "cli/strace.h"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <span>

namespace qplug::cli {
namespace {

struct NameEntry {
  long nr;
  std::string_view name;
};

constexpr NameEntry kNames[] = {
#include "syscall_names.inc"
};

constexpr long kMaxNr = [] {
  long max = 0;
  for (const NameEntry& e : kNames) max = std::max(max, e.nr);
  return max;
}();

constexpr auto kNameByNr = [] {
  std::array<std::string_view, kMaxNr + 1> table{};
  for (const NameEntry& e : kNames) table[e.nr] = e.name;
  return table;
}();

// How one argument is printed.
enum class Arg : uint8_t {
  kNone,  // end of the argument list
  kInt,   // decimal, 32-bit signed: pids, counts, enum-like ints
  kLong,  // decimal, 64-bit signed: offsets
  kULong,
  kHex,
  kPtr,  // NULL or 0x...
  kStr,  // NUL-terminated string
  kBuf,  // bytes whose length is the next argument
  kArgv,
  kFd,
  kDirFd,
  kOpenFlags,
  kOpenMode,   // a mode that only matters (and is only shown) with O_CREAT/O_TMPFILE
  kFileFlags,  // O_CLOEXEC/O_NONBLOCK style flags, without an access mode
  kMode,
  kProt,
  kMapFlags,
  kMremapFlags,
  kSignal,
  kSigHow,
  kWhence,
  kCloneFlags,
  kAtFlags,
  kFutexOp,
  kArchPrctl,
  kFcntlCmd,
  kFcntlArg,  // depends on the command before it
  kAccess,
  kResource,
  kWaitOptions,
};

struct Spec {
  long nr;
  std::array<Arg, 6> args;
};

using enum Arg;

// clang-format off
constexpr Spec kSpecs[] = {
    {SYS_read, {kFd, kPtr, kULong}}, {SYS_write, {kFd, kBuf, kULong}},
    {SYS_open, {kStr, kOpenFlags, kOpenMode}}, {SYS_close, {kFd}}, {SYS_stat, {kStr, kPtr}},
    {SYS_fstat, {kFd, kPtr}}, {SYS_lstat, {kStr, kPtr}}, {SYS_poll, {kPtr, kULong, kInt}},
    {SYS_lseek, {kFd, kLong, kWhence}}, {SYS_mmap, {kPtr, kULong, kProt, kMapFlags, kFd, kHex}},
    {SYS_mprotect, {kPtr, kULong, kProt}}, {SYS_munmap, {kPtr, kULong}}, {SYS_brk, {kPtr}},
    {SYS_rt_sigaction, {kSignal, kPtr, kPtr, kULong}},
    {SYS_rt_sigprocmask, {kSigHow, kPtr, kPtr, kULong}}, {SYS_rt_sigreturn, {}},
    {SYS_ioctl, {kFd, kHex, kHex}}, {SYS_pread64, {kFd, kPtr, kULong, kLong}},
    {SYS_pwrite64, {kFd, kBuf, kULong, kLong}}, {SYS_readv, {kFd, kPtr, kInt}},
    {SYS_writev, {kFd, kPtr, kInt}}, {SYS_access, {kStr, kAccess}}, {SYS_pipe, {kPtr}},
    {SYS_select, {kInt, kPtr, kPtr, kPtr, kPtr}}, {SYS_sched_yield, {}},
    {SYS_mremap, {kPtr, kULong, kULong, kMremapFlags, kPtr}}, {SYS_msync, {kPtr, kULong, kHex}},
    {SYS_madvise, {kPtr, kULong, kInt}}, {SYS_dup, {kFd}}, {SYS_dup2, {kFd, kFd}}, {SYS_pause, {}},
    {SYS_nanosleep, {kPtr, kPtr}}, {SYS_getpid, {}}, {SYS_socket, {kInt, kInt, kInt}},
    {SYS_connect, {kFd, kPtr, kInt}}, {SYS_accept, {kFd, kPtr, kPtr}},
    {SYS_sendto, {kFd, kBuf, kULong, kHex, kPtr, kInt}},
    {SYS_recvfrom, {kFd, kPtr, kULong, kHex, kPtr, kPtr}}, {SYS_bind, {kFd, kPtr, kInt}},
    {SYS_listen, {kFd, kInt}}, {SYS_socketpair, {kInt, kInt, kInt, kPtr}},
    {SYS_clone, {kCloneFlags, kPtr, kPtr, kPtr, kHex}}, {SYS_fork, {}}, {SYS_vfork, {}},
    {SYS_execve, {kStr, kArgv, kPtr}}, {SYS_exit, {kInt}},
    {SYS_wait4, {kInt, kPtr, kWaitOptions, kPtr}}, {SYS_kill, {kInt, kSignal}}, {SYS_uname, {kPtr}},
    {SYS_fcntl, {kFd, kFcntlCmd, kFcntlArg}}, {SYS_flock, {kFd, kInt}}, {SYS_fsync, {kFd}},
    {SYS_fdatasync, {kFd}}, {SYS_truncate, {kStr, kLong}}, {SYS_ftruncate, {kFd, kLong}},
    {SYS_getdents, {kFd, kPtr, kULong}}, {SYS_getcwd, {kPtr, kULong}}, {SYS_chdir, {kStr}},
    {SYS_fchdir, {kFd}}, {SYS_rename, {kStr, kStr}}, {SYS_mkdir, {kStr, kMode}},
    {SYS_rmdir, {kStr}}, {SYS_link, {kStr, kStr}}, {SYS_unlink, {kStr}},
    {SYS_symlink, {kStr, kStr}}, {SYS_readlink, {kStr, kPtr, kULong}}, {SYS_chmod, {kStr, kMode}},
    {SYS_fchmod, {kFd, kMode}}, {SYS_umask, {kMode}}, {SYS_gettimeofday, {kPtr, kPtr}},
    {SYS_getrlimit, {kResource, kPtr}}, {SYS_getrusage, {kInt, kPtr}}, {SYS_sysinfo, {kPtr}},
    {SYS_times, {kPtr}}, {SYS_getuid, {}}, {SYS_getgid, {}}, {SYS_geteuid, {}}, {SYS_getegid, {}},
    {SYS_setpgid, {kInt, kInt}}, {SYS_getppid, {}}, {SYS_getpgrp, {}}, {SYS_setsid, {}},
    {SYS_sigaltstack, {kPtr, kPtr}}, {SYS_statfs, {kStr, kPtr}}, {SYS_fstatfs, {kFd, kPtr}},
    {SYS_prctl, {kInt, kHex, kHex, kHex, kHex}}, {SYS_arch_prctl, {kArchPrctl, kHex}},
    {SYS_setrlimit, {kResource, kPtr}}, {SYS_gettid, {}}, {SYS_tkill, {kInt, kSignal}},
    {SYS_futex, {kPtr, kFutexOp, kInt, kPtr, kPtr, kHex}},
    {SYS_sched_getaffinity, {kInt, kULong, kPtr}}, {SYS_getdents64, {kFd, kPtr, kULong}},
    {SYS_set_tid_address, {kPtr}}, {SYS_clock_gettime, {kInt, kPtr}},
    {SYS_clock_getres, {kInt, kPtr}}, {SYS_clock_nanosleep, {kInt, kInt, kPtr, kPtr}},
    {SYS_exit_group, {kInt}}, {SYS_epoll_wait, {kFd, kPtr, kInt, kInt}},
    {SYS_epoll_ctl, {kFd, kInt, kFd, kPtr}}, {SYS_tgkill, {kInt, kInt, kSignal}},
    {SYS_openat, {kDirFd, kStr, kOpenFlags, kOpenMode}}, {SYS_mkdirat, {kDirFd, kStr, kMode}},
    {SYS_newfstatat, {kDirFd, kStr, kPtr, kAtFlags}}, {SYS_unlinkat, {kDirFd, kStr, kAtFlags}},
    {SYS_renameat, {kDirFd, kStr, kDirFd, kStr}}, {SYS_readlinkat, {kDirFd, kStr, kPtr, kULong}},
    {SYS_fchmodat, {kDirFd, kStr, kMode}}, {SYS_faccessat, {kDirFd, kStr, kAccess}},
    {SYS_pselect6, {kInt, kPtr, kPtr, kPtr, kPtr, kPtr}},
    {SYS_ppoll, {kPtr, kULong, kPtr, kPtr, kULong}}, {SYS_set_robust_list, {kPtr, kULong}},
    {SYS_utimensat, {kDirFd, kStr, kPtr, kAtFlags}},
    {SYS_epoll_pwait, {kFd, kPtr, kInt, kInt, kPtr, kULong}}, {SYS_eventfd2, {kULong, kFileFlags}},
    {SYS_epoll_create1, {kFileFlags}}, {SYS_dup3, {kFd, kFd, kFileFlags}},
    {SYS_pipe2, {kPtr, kFileFlags}}, {SYS_prlimit64, {kInt, kResource, kPtr, kPtr}},
    {SYS_renameat2, {kDirFd, kStr, kDirFd, kStr, kHex}}, {SYS_getrandom, {kPtr, kULong, kHex}},
    {SYS_memfd_create, {kStr, kHex}}, {SYS_execveat, {kDirFd, kStr, kArgv, kPtr, kAtFlags}},
    {SYS_statx, {kDirFd, kStr, kAtFlags, kHex, kPtr}}, {SYS_rseq, {kPtr, kULong, kInt, kHex}},
    {SYS_clone3, {kPtr, kULong}}, {SYS_close_range, {kFd, kFd, kHex}},
    {SYS_faccessat2, {kDirFd, kStr, kAccess, kAtFlags}},
};
// clang-format on

constexpr auto kSpecByNr = [] {
  std::array<const Spec*, kMaxNr + 1> table{};
  for (const Spec& s : kSpecs) table[s.nr] = &s;
  return table;
}();

struct Flag {
  uint64_t bits;
  std::string_view name;
};

// clang-format off
// Kernel values, not the host libc's: glibc defines O_LARGEFILE as 0 on x86-64
// while a guest may still pass the kernel's bit.
constexpr Flag kOpenFlagTable[] = {
    {0100, "O_CREAT"}, {0200, "O_EXCL"}, {0400, "O_NOCTTY"}, {01000, "O_TRUNC"},
    {02000, "O_APPEND"}, {04000, "O_NONBLOCK"}, {04010000, "O_SYNC"}, {010000, "O_DSYNC"},
    {020000, "O_ASYNC"}, {040000, "O_DIRECT"}, {0100000, "O_LARGEFILE"}, {020200000, "O_TMPFILE"},
    {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"}, {010000000, "O_PATH"},
};
constexpr uint64_t kOCreat = 0100, kOTmpfile = 020200000;

constexpr Flag kProtTable[] = {
    {1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}, {0x01000000, "PROT_GROWSDOWN"},
    {0x02000000, "PROT_GROWSUP"},
};

constexpr Flag kMapTypeTable[] = {
    {1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"},
};
constexpr Flag kMapFlagTable[] = {
    {0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"}, {0x40, "MAP_32BIT"}, {0x100, "MAP_GROWSDOWN"},
    {0x800, "MAP_DENYWRITE"}, {0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"},
    {0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"},
    {0x20000, "MAP_STACK"}, {0x40000, "MAP_HUGETLB"}, {0x80000, "MAP_SYNC"},
    {0x100000, "MAP_FIXED_NOREPLACE"}, {0x4000000, "MAP_UNINITIALIZED"},
};

constexpr Flag kMremapTable[] = {
    {1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"},
};

constexpr Flag kCloneTable[] = {
    {0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"}, {0x800, "CLONE_SIGHAND"},
    {0x1000, "CLONE_PIDFD"}, {0x2000, "CLONE_PTRACE"}, {0x4000, "CLONE_VFORK"},
    {0x8000, "CLONE_PARENT"}, {0x10000, "CLONE_THREAD"}, {0x20000, "CLONE_NEWNS"},
    {0x40000, "CLONE_SYSVSEM"}, {0x80000, "CLONE_SETTLS"}, {0x100000, "CLONE_PARENT_SETTID"},
    {0x200000, "CLONE_CHILD_CLEARTID"}, {0x400000, "CLONE_DETACHED"}, {0x800000, "CLONE_UNTRACED"},
    {0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
    {0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"}, {0x80000000, "CLONE_IO"},
};

constexpr Flag kAtFlagTable[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"}, {0x400, "AT_SYMLINK_FOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"}, {0x1000, "AT_EMPTY_PATH"}, {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"},
};

constexpr Flag kAccessTable[] = {
    {4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"},
};

constexpr Flag kWaitTable[] = {
    {1, "WNOHANG"}, {2, "WUNTRACED"}, {8, "WCONTINUED"}, {0x1000000, "WNOWAIT"},
    {0x20000000, "__WNOTHREAD"}, {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
};

constexpr Flag kFutexFlagTable[] = {
    {128, "FUTEX_PRIVATE_FLAG"}, {256, "FUTEX_CLOCK_REALTIME"},
};

constexpr std::string_view kFutexOps[] = {
    "FUTEX_WAIT",           "FUTEX_WAKE",        "FUTEX_FD",          "FUTEX_REQUEUE",
    "FUTEX_CMP_REQUEUE",    "FUTEX_WAKE_OP",     "FUTEX_LOCK_PI",     "FUTEX_UNLOCK_PI",
    "FUTEX_TRYLOCK_PI",     "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
    "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
};

// Tables below hold values, matched whole, not flags.
constexpr Flag kArchPrctlTable[] = {
    {0x1001, "ARCH_SET_GS"}, {0x1002, "ARCH_SET_FS"}, {0x1003, "ARCH_GET_FS"},
    {0x1004, "ARCH_GET_GS"}, {0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"},
    {0x1021, "ARCH_GET_XCOMP_SUPP"}, {0x1022, "ARCH_GET_XCOMP_PERM"},
    {0x1023, "ARCH_REQ_XCOMP_PERM"},
};

constexpr Flag kFcntlTable[] = {
    {0, "F_DUPFD"}, {1, "F_GETFD"}, {2, "F_SETFD"}, {3, "F_GETFL"}, {4, "F_SETFL"}, {5, "F_GETLK"},
    {6, "F_SETLK"}, {7, "F_SETLKW"}, {8, "F_SETOWN"}, {9, "F_GETOWN"}, {10, "F_SETSIG"},
    {11, "F_GETSIG"}, {15, "F_SETOWN_EX"}, {16, "F_GETOWN_EX"}, {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"}, {38, "F_OFD_SETLKW"}, {1024, "F_SETLEASE"}, {1025, "F_GETLEASE"},
    {1026, "F_NOTIFY"}, {1030, "F_DUPFD_CLOEXEC"}, {1031, "F_SETPIPE_SZ"}, {1032, "F_GETPIPE_SZ"},
    {1033, "F_ADD_SEALS"}, {1034, "F_GET_SEALS"},
};

constexpr Flag kWhenceTable[] = {
    {0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"},
};
constexpr Flag kSigHowTable[] = {
    {0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"},
};
constexpr Flag kResourceTable[] = {
    {0, "RLIMIT_CPU"}, {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"}, {3, "RLIMIT_STACK"},
    {4, "RLIMIT_CORE"}, {5, "RLIMIT_RSS"}, {6, "RLIMIT_NPROC"}, {7, "RLIMIT_NOFILE"},
    {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"}, {10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
};

constexpr std::string_view kSignalNames[] = {
    "0",         "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

// clang-format on

constexpr size_t kMaxShown = 64;  // characters of a string or buffer
constexpr size_t kMaxArgv = 32;   // entries of an argv array

std::string decimal(int64_t v) { return std::to_string(v); }

std::string hex(uint64_t v) {
  if (v == 0) return "0";
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

std::string pointer(uint64_t v) { return v == 0 ? "NULL" : hex(v); }

// Names each set flag; bits no name covers are appended in hex.
std::string flags(uint64_t v, std::span<const Flag> table, std::string_view zero = "0") {
  if (v == 0) return std::string(zero);
  std::string out;
  for (const Flag& f : table) {
    if ((v & f.bits) == f.bits) {
      if (!out.empty()) out += '|';
      out += f.name;
      v &= ~f.bits;
    }
  }
  if (v != 0) {
    if (!out.empty()) out += '|';
    out += hex(v);
  }
  return out;
}

std::string value_name(uint64_t v, std::span<const Flag> table, bool is_signed = true) {
  for (const Flag& f : table) {
    if (f.bits == v) return std::string(f.name);
  }
  return is_signed ? decimal(static_cast<int32_t>(v)) : hex(v);
}

std::string open_flags(uint64_t v) {
  static constexpr std::string_view kAccess[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  std::string out(kAccess[v & 3]);
  if (uint64_t rest = v & ~uint64_t{3}) out += "|" + flags(rest, kOpenFlagTable);
  return out;
}

// The low nibble is a type (MAP_SHARED_VALIDATE is 3), not two flags.
std::string map_flags(uint64_t v) {
  uint64_t type = v & 0xf, rest = v & ~uint64_t{0xf};
  std::string out = type != 0 ? value_name(type, kMapTypeTable, false) : "";
  if (rest != 0) out += (out.empty() ? "" : "|") + flags(rest, kMapFlagTable);
  return out.empty() ? "0" : out;
}

std::string signal_name(int64_t sig) {
  if (sig >= 0 && sig < static_cast<int64_t>(std::size(kSignalNames))) {
    return std::string(kSignalNames[sig]);
  }
  if (sig >= 32 && sig <= 64) return "SIGRT_" + decimal(sig - 32);
  return decimal(sig);
}

std::string clone_flags(uint64_t v) {
  std::string out = flags(v & ~uint64_t{0xff}, kCloneTable, "");
  if (uint64_t exit_signal = v & 0xff) {
    if (!out.empty()) out += '|';
    out += signal_name(static_cast<int64_t>(exit_signal));
  }
  return out.empty() ? "0" : out;
}

std::string futex_op(uint64_t v) {
  std::string out;
  uint64_t cmd = v & ~uint64_t{0x180};
  if (uint64_t modifiers = v & 0x180) out = flags(modifiers, kFutexFlagTable) + "|";
  out += cmd < std::size(kFutexOps) ? std::string(kFutexOps[cmd]) : decimal(cmd);
  return out;
}

std::string escape(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        }
    }
  }
  return out;
}

std::string quoted(std::string_view bytes, bool truncated) {
  return "\"" + escape(bytes) + "\"" + (truncated ? "..." : "");
}

// An unreadable or unterminated string prints as its address, as QEMU does.
std::string string_arg(uint64_t addr) {
  if (addr == 0) return "NULL";
  char buf[kMaxShown + 1];
  size_t n = read_guest_memory(addr, buf, sizeof buf);
  const void* nul = std::memchr(buf, '\0', n);
  if (nul != nullptr) {
    return quoted(std::string_view(buf, static_cast<const char*>(nul) - buf), false);
  }
  if (n == sizeof buf) return quoted(std::string_view(buf, kMaxShown), true);
  return hex(addr);
}

std::string buffer_arg(uint64_t addr, uint64_t len) {
  if (addr == 0) return "NULL";
  char buf[kMaxShown];
  size_t want = std::min<uint64_t>(len, kMaxShown);
  if (read_guest_memory(addr, buf, want) != want) return hex(addr);
  return quoted(std::string_view(buf, want), len > kMaxShown);
}

std::string argv_arg(uint64_t addr) {
  if (addr == 0) return "NULL";
  std::string out = "{";
  for (size_t i = 0;; ++i) {
    uint64_t entry;
    if (read_guest_memory(addr + i * sizeof entry, &entry, sizeof entry) != sizeof entry) {
      return i == 0 ? hex(addr) : out + "...}";
    }
    if (entry == 0) return out + "NULL}";
    if (i == kMaxArgv) return out + "...}";
    out += string_arg(entry) + ",";
  }
}

std::string fcntl_arg(uint64_t cmd, uint64_t v) {
  switch (cmd) {
    case 0:     // F_DUPFD
    case 1030:  // F_DUPFD_CLOEXEC
    case 8:     // F_SETOWN
    case 10:    // F_SETSIG
    case 1031:  // F_SETPIPE_SZ
      return decimal(static_cast<int32_t>(v));
    case 2:  // F_SETFD
      return flags(v, std::array{Flag{1, "FD_CLOEXEC"}});
    case 4:  // F_SETFL
      return flags(v, kOpenFlagTable);
    default:
      return hex(v);
  }
}

// Commands that take no third argument, which is then garbage and not shown.
bool fcntl_has_arg(uint64_t cmd) {
  constexpr uint64_t kNoArg[] = {1, 3, 9, 11, 1025, 1032, 1034};  // F_GETFD, F_GETFL, ...
  return std::find(std::begin(kNoArg), std::end(kNoArg), cmd) == std::end(kNoArg);
}

// Returns false for an argument that is not shown at all.
// clang-format off
bool format_arg(Arg kind, const uint64_t args[6], int i, std::string& out) {
  uint64_t v = args[i];
  switch (kind) {
    case kNone: return false;
    case kInt: case kFd: out += decimal(static_cast<int32_t>(v)); break;
    case kLong: out += decimal(static_cast<int64_t>(v)); break;
    case kULong: out += std::to_string(v); break;
    case kHex: out += hex(v); break;
    case kPtr: out += pointer(v); break;
    case kStr: out += string_arg(v); break;
    case kBuf: out += buffer_arg(v, i < 5 ? args[i + 1] : 0); break;
    case kArgv: out += argv_arg(v); break;
    case kDirFd:
      out += static_cast<int32_t>(v) == -100 ? "AT_FDCWD" : decimal(static_cast<int32_t>(v));
      break;
    case kOpenFlags: out += open_flags(v); break;
    case kOpenMode:
      if (i == 0 || ((args[i - 1] & kOCreat) == 0 && (args[i - 1] & kOTmpfile) != kOTmpfile)) {
        return false;
      }
      [[fallthrough]];
    case kMode: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%#lo", static_cast<unsigned long>(v));
      out += buf;
      break;
    }
    case kFileFlags: out += flags(v, kOpenFlagTable); break;
    case kProt: out += flags(v, kProtTable, "PROT_NONE"); break;
    case kMapFlags: out += map_flags(v); break;
    case kMremapFlags: out += flags(v, kMremapTable); break;
    case kSignal: out += signal_name(static_cast<int32_t>(v)); break;
    case kSigHow: out += value_name(v, kSigHowTable); break;
    case kWhence: out += value_name(v, kWhenceTable); break;
    case kCloneFlags: out += clone_flags(v); break;
    case kAtFlags: out += flags(v, kAtFlagTable); break;
    case kFutexOp: out += futex_op(v); break;
    case kArchPrctl: out += value_name(v, kArchPrctlTable, false); break;
    case kFcntlCmd: out += value_name(v, kFcntlTable); break;
    case kFcntlArg:
      if (i == 0 || !fcntl_has_arg(args[i - 1])) return false;
      out += fcntl_arg(args[i - 1], v);
      break;
    case kAccess: out += flags(v, kAccessTable, "F_OK"); break;
    case kResource: out += value_name(v, kResourceTable); break;
    case kWaitOptions: out += flags(v, kWaitTable); break;
  }
  return true;
}
// clang-format on

bool returns_address(long nr) {
  return nr == SYS_mmap || nr == SYS_mremap || nr == SYS_brk || nr == SYS_shmat;
}

}  // namespace

std::string_view syscall_name(long nr) {
  if (nr >= 0 && nr <= kMaxNr && !kNameByNr[nr].empty()) return kNameByNr[nr];
  // Made once per number and kept, so callers may hold on to the view. A
  // guest trying endless bogus numbers gets a shared name past the cap.
  static std::mutex mutex;
  static std::map<long, std::string> made;
  std::lock_guard lock(mutex);
  auto it = made.find(nr);
  if (it != made.end()) return it->second;
  if (made.size() >= 4096) return "syscall_unknown";
  return made.emplace(nr, "syscall_" + std::to_string(nr)).first->second;
}

std::string format_syscall_entry(int pid, long nr, const uint64_t args[6]) {
  std::string out = std::to_string(pid) + " " + std::string(syscall_name(nr)) + "(";
  const Spec* spec = nr >= 0 && nr <= kMaxNr ? kSpecByNr[nr] : nullptr;
  if (spec == nullptr) {
    for (int i = 0; i < 6; ++i) out += (i ? "," : "") + hex(args[i]);
  } else {
    bool first = true;
    for (int i = 0; i < 6 && spec->args[i] != kNone; ++i) {
      std::string text;
      if (!format_arg(spec->args[i], args, i, text)) continue;
      out += (first ? "" : ",") + text;
      first = false;
    }
  }
  out += ")";
  if (nr == SYS_exit || nr == SYS_exit_group) out += "\n";
  return out;
}

std::string format_syscall_return(long ret) {
  if (ret < 0 && ret >= -4095) {
    int err = static_cast<int>(-ret);
    const char* desc = strerrordesc_np(err);
    std::string text = desc != nullptr ? desc : "Unknown error " + std::to_string(err);
    return " = -1 errno=" + std::to_string(err) + " (" + text + ")\n";
  }
  return " = " + std::to_string(ret) + "\n";
}

std::string format_syscall_return(long nr, long ret) {
  if (returns_address(nr) && !(ret < 0 && ret >= -4095)) {
    return " = " + hex(static_cast<uint64_t>(ret)) + "\n";
  }
  return format_syscall_return(ret);
}

size_t read_guest_memory(uint64_t addr, void* out, size_t size) {
  // One remote iovec per page: a page that cannot be read then only cuts the
  // copy short, and the bytes before it still arrive.
  constexpr uint64_t kPage = 4096;
  size_t done = 0;
  while (done < size) {
    uint64_t at = addr + done;
    if (at < addr) break;  // wrapped around the address space
    size_t chunk = std::min<uint64_t>(size - done, kPage - at % kPage);
    iovec local{static_cast<char*>(out) + done, chunk};
    iovec remote{reinterpret_cast<void*>(at), chunk};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < chunk) break;
  }
  return done;
}

}  // namespace qplug::cli
