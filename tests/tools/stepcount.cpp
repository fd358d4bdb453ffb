// stepcount: count the user-mode instructions a program executes by ptrace
// single-stepping it. Ground truth for qplug's instruction-counting tests;
// deliberately independent of qplug (no shared code, no Zydis). See README.md
// for exactly what is counted.
//
//   stepcount [options] -- PROGRAM [ARGS...]

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#if !defined(__x86_64__) || !defined(__linux__)
#error "stepcount is for x86-64 Linux only"
#endif

namespace {

// si_code values of the SIGTRAP the kernel raises for a completed single step
// (TRAP_TRACE: debug exception with DR6.BS) and for a step over a syscall
// instruction (TRAP_BRKPT: the syscall-exit single-step report).
#ifndef TRAP_BRKPT
#define TRAP_BRKPT 1
#endif
#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif
// si_code of the ptrace_notify(SIGTRAP) stop the kernel makes when it has set
// up a signal handler frame for a single-stepped tracee (no instruction ran).
constexpr int kSiCodeHandlerEntry = SIGTRAP;

constexpr int kExitInternalError = 125;
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;

struct Range {
  std::string spec;  // as given on the command line
  bool exe = false;  // "exe": the executable mappings of the main program
  uint64_t lo = 0;
  uint64_t hi = 0;
  uint64_t count = 0;
};

struct Options {
  bool blocks = false;
  bool stats = false;
  bool no_aslr = false;
  std::string pcs_file;
  std::string output_file;
  std::vector<Range> ranges;
  uint64_t max_steps = 200'000'000;
  char** program = nullptr;
};

[[noreturn]] void Usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: stepcount [options] -- PROGRAM [ARGS...]\n"
               "Single-steps PROGRAM with ptrace and counts the user-mode instructions it\n"
               "executes (all threads; forked children are not followed; exec is).\n"
               "\n"
               "  --output FILE    write the counts to FILE instead of stderr\n"
               "  --blocks         also count executed control-transfer instructions\n"
               "  --pcs FILE       write \"0xADDR COUNT\" for every executed address, sorted\n"
               "  --range LO-HI    also count instructions at addresses in [LO,HI) (hex or\n"
               "                   decimal); --range exe: the main executable's code\n"
               "                   (repeatable)\n"
               "  --max N          give up after N ptrace stops (default 200000000)\n"
               "  --no-aslr        run PROGRAM with address randomization disabled\n"
               "  --stats          also report stops, REP iterations, signals, syscall\n"
               "                   restarts, execs, threads, speed\n"
               "  -h, --help       this help\n"
               "\n"
               "Output: \"insns: N\" [\"transfers: M\"] [\"range SPEC: K\"...].\n"
               "Exit status: PROGRAM's, or 128+signal if it was killed; 125 on a stepcount\n"
               "error or when --max is reached, 126/127 if PROGRAM cannot be executed.\n");
  std::exit(status);
}

[[noreturn]] void Die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void Die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("stepcount: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(kExitInternalError);
}

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  int i = 1;
  auto value = [&](const char* name) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "stepcount: %s needs an argument\n", name);
      Usage(kExitInternalError);
    }
    return argv[++i];
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    } else if (a == "-h" || a == "--help") {
      Usage(0);
    } else if (a == "--blocks") {
      o.blocks = true;
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--no-aslr") {
      o.no_aslr = true;
    } else if (a == "--pcs") {
      o.pcs_file = value("--pcs");
    } else if (a == "--output") {
      o.output_file = value("--output");
    } else if (a == "--max") {
      if (!ParseU64(value("--max"), &o.max_steps) || o.max_steps == 0)
        Die("--max: bad number '%s'", argv[i]);
    } else if (a == "--range") {
      Range r;
      r.spec = value("--range");
      if (r.spec == "exe") {
        r.exe = true;
      } else {
        size_t dash = r.spec.find('-');
        if (dash == std::string::npos || !ParseU64(r.spec.substr(0, dash), &r.lo) ||
            !ParseU64(r.spec.substr(dash + 1), &r.hi) || r.lo >= r.hi)
          Die("--range: expected LO-HI with LO < HI, or 'exe', got '%s'", r.spec.c_str());
      }
      o.ranges.push_back(r);
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "stepcount: unknown option '%s'\n", a.c_str());
      Usage(kExitInternalError);
    } else {
      break;  // PROGRAM without a preceding "--"
    }
  }
  if (i >= argc) {
    std::fprintf(stderr, "stepcount: no program given\n");
    Usage(kExitInternalError);
  }
  o.program = argv + i;
  return o;
}

// ---------------------------------------------------------------------------
// A tiny x86-64 instruction classifier: only what stepcount needs to know
// about an instruction: is it a control transfer, is it a REP string
// instruction. Written from the opcode map, independent of qplug's decoder.

enum class InsnClass : uint8_t { kOther, kTransfer, kRepString };

InsnClass Classify(const uint8_t* b, size_t n) {
  bool rep = false;
  size_t i = 0;
  // Legacy prefixes and REX, in any order (a REX not directly before the
  // opcode is ignored by the CPU, which does not matter here).
  for (; i < n; ++i) {
    uint8_t p = b[i];
    if (p == 0xF2 || p == 0xF3) {
      rep = true;
    } else if (p == 0xF0 || p == 0x2E || p == 0x36 || p == 0x3E || p == 0x26 || p == 0x64 ||
               p == 0x65 || p == 0x66 || p == 0x67 || (p >= 0x40 && p <= 0x4F)) {
      // other prefix
    } else {
      break;
    }
  }
  if (i >= n) return InsnClass::kOther;
  const uint8_t op = b[i];
  const uint8_t next = i + 1 < n ? b[i + 1] : 0;
  if ((op >= 0x70 && op <= 0x7F) ||  // jcc rel8
      (op >= 0xE0 && op <= 0xE3) ||  // loopne, loope, loop, jrcxz
      op == 0xE8 ||                  // call rel32
      op == 0xE9 || op == 0xEB ||    // jmp rel32, jmp rel8
      op == 0xEA || op == 0x9A ||    // jmp far, call far (invalid in 64-bit mode)
      op == 0xC2 || op == 0xC3 ||    // ret imm16, ret
      op == 0xCA || op == 0xCB ||    // retf imm16, retf
      op == 0xCC || op == 0xCD ||    // int3, int imm8
      op == 0xCE || op == 0xF1 ||    // into (invalid in 64-bit mode), int1
      op == 0xCF)                    // iret
    return InsnClass::kTransfer;
  if (op == 0xFF) {  // group 5: /2 call, /3 call far, /4 jmp, /5 jmp far
    const unsigned reg = (next >> 3) & 7;
    return reg >= 2 && reg <= 5 ? InsnClass::kTransfer : InsnClass::kOther;
  }
  if (op == 0x0F) {
    if ((next >= 0x80 && next <= 0x8F) ||  // jcc rel32
        next == 0x05 || next == 0x07 ||    // syscall, sysret
        next == 0x34 || next == 0x35)      // sysenter, sysexit
      return InsnClass::kTransfer;
    return InsnClass::kOther;
  }
  if ((op >= 0x6C && op <= 0x6F) ||  // ins, outs
      (op >= 0xA4 && op <= 0xA7) ||  // movs, cmps
      (op >= 0xAA && op <= 0xAF))    // stos, lods, scas
    return rep ? InsnClass::kRepString : InsnClass::kOther;
  // Everything else, including VEX (C4/C5), EVEX (62) and XOP (8F) encoded
  // instructions, none of which transfers control.
  return InsnClass::kOther;
}

// ---------------------------------------------------------------------------

struct Thread {
  uint64_t pc = 0;  // address of the next instruction this thread executes
  // The thread's execve was counted at its PTRACE_EVENT_EXEC stop; if its
  // next stop is the kernel's syscall-exit step report for that execve, that
  // report is not counted again.
  bool exec_counted = false;
  // The last instruction retired was a syscall instruction at syscall_pc and
  // nothing but signal stops came since: if the kernel restarts that syscall
  // (a signal without handler interrupted it), it moves the pc back to
  // syscall_pc after the signal stop, where stepcount cannot see it.
  bool after_syscall = false;
  bool signal_since_syscall = false;
  uint64_t syscall_pc = 0;
};

class Stepper {
 public:
  explicit Stepper(Options opts) : o_(std::move(opts)) {}
  int Run();

 private:
  void Launch();
  void Loop();
  void Report();
  void Retire(pid_t tid, uint64_t pc, bool is_transfer);
  InsnClass ClassAt(pid_t tid, uint64_t pc);
  void UpdateExeRanges();
  uint64_t ReadPc(pid_t tid);
  void Resume(pid_t tid, int sig, int request = PTRACE_SINGLESTEP);

  Options o_;
  pid_t pid_ = -1;
  int exit_status_ = kExitInternalError;
  std::unordered_map<pid_t, Thread> threads_;
  std::unordered_map<uint64_t, InsnClass> classes_;  // cleared at exec
  std::unordered_map<uint64_t, uint64_t> pcs_;
  uint64_t insns_ = 0;
  uint64_t transfers_ = 0;
  uint64_t stops_ = 0;
  uint64_t rep_iterations_ = 0;
  uint64_t signals_ = 0;
  uint64_t restarts_ = 0;
  uint64_t execs_ = 0;
  uint64_t threads_seen_ = 0;
  double seconds_ = 0;
  bool limit_reached_ = false;
  FILE* out_ = stderr;
};

uint64_t Stepper::ReadPc(pid_t tid) {
  errno = 0;
  long v = ptrace(PTRACE_PEEKUSER, tid, offsetof(struct user_regs_struct, rip), nullptr);
  if (v == -1 && errno != 0) return 0;  // thread is gone; its next event tells
  return static_cast<uint64_t>(v);
}

void Stepper::Resume(pid_t tid, int sig, int request) {
  if (ptrace(static_cast<__ptrace_request>(request), tid, nullptr,
             reinterpret_cast<void*>(static_cast<intptr_t>(sig))) != 0 &&
      errno != ESRCH)
    Die("ptrace resume of %d: %s", tid, std::strerror(errno));
  // ESRCH: the thread was killed meanwhile; waitpid will report it.
}

InsnClass Stepper::ClassAt(pid_t tid, uint64_t pc) {
  auto it = classes_.find(pc);
  if (it != classes_.end()) return it->second;
  uint8_t bytes[16] = {};
  size_t n = 0;
  for (size_t off = 0; off < sizeof bytes; off += 8) {
    errno = 0;
    long w = ptrace(PTRACE_PEEKTEXT, tid, reinterpret_cast<void*>(pc + off), nullptr);
    if (w == -1 && errno != 0) break;  // end of the mapping
    std::memcpy(bytes + off, &w, 8);
    n = off + 8;
  }
  InsnClass c = Classify(bytes, n);
  classes_.emplace(pc, c);
  return c;
}

void Stepper::UpdateExeRanges() {
  bool any = false;
  for (const Range& r : o_.ranges) any |= r.exe;
  if (!any) return;
  char exe[4096];
  std::string link = "/proc/" + std::to_string(pid_) + "/exe";
  ssize_t n = readlink(link.c_str(), exe, sizeof exe - 1);
  if (n < 0) Die("readlink %s: %s", link.c_str(), std::strerror(errno));
  exe[n] = '\0';
  std::ifstream maps("/proc/" + std::to_string(pid_) + "/maps");
  std::string line;
  uint64_t lo = UINT64_MAX, hi = 0;
  while (std::getline(maps, line)) {
    // start-end perms offset dev inode path
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (perms.size() < 3 || perms[2] != 'x' || path != exe) continue;
    size_t dash = range.find('-');
    uint64_t s = std::stoull(range.substr(0, dash), nullptr, 16);
    uint64_t e = std::stoull(range.substr(dash + 1), nullptr, 16);
    lo = std::min(lo, s);
    hi = std::max(hi, e);
  }
  if (lo >= hi) Die("no executable mapping of %s found in /proc/%d/maps", exe, pid_);
  for (Range& r : o_.ranges) {
    if (!r.exe) continue;
    r.lo = lo;
    r.hi = hi;
  }
}

void Stepper::Retire(pid_t tid, uint64_t pc, bool is_transfer) {
  ++insns_;
  for (Range& r : o_.ranges)
    if (pc >= r.lo && pc < r.hi) ++r.count;
  if (!o_.pcs_file.empty()) ++pcs_[pc];
  if (o_.blocks && (is_transfer || ClassAt(tid, pc) == InsnClass::kTransfer)) ++transfers_;
}

void Stepper::Launch() {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) Die("pipe: %s", std::strerror(errno));
  pid_ = fork();
  if (pid_ < 0) Die("fork: %s", std::strerror(errno));
  if (pid_ == 0) {
    close(pipefd[0]);
    if (o_.no_aslr) {
      int pers = personality(0xffffffff);
      if (pers == -1 || personality(pers | ADDR_NO_RANDOMIZE) == -1) {
        int err = errno;
        (void)!write(pipefd[1], &err, sizeof err);
        _exit(kExitInternalError);
      }
    }
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
      int err = errno;
      (void)!write(pipefd[1], &err, sizeof err);
      _exit(kExitInternalError);
    }
    execvp(o_.program[0], o_.program);
    int err = errno;
    (void)!write(pipefd[1], &err, sizeof err);
    _exit(err == ENOENT ? kExitNotFound : kExitCannotExecute);
  }
  close(pipefd[1]);
  // Ctrl-C and friends go to the program (and kill it if it wants); stepcount
  // stays to report, like time(1).
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);

  // The first stop is the SIGTRAP after the successful execve (PTRACE_TRACEME
  // without options). Signals arriving before it are passed on.
  for (;;) {
    int st;
    if (waitpid(pid_, &st, 0) != pid_) Die("waitpid: %s", std::strerror(errno));
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      int err = 0;
      if (read(pipefd[0], &err, sizeof err) == sizeof err)
        std::fprintf(stderr, "stepcount: cannot run %s: %s\n", o_.program[0], std::strerror(err));
      else
        std::fprintf(stderr, "stepcount: %s died before its exec\n", o_.program[0]);
      std::exit(WIFEXITED(st) ? WEXITSTATUS(st) : kExitInternalError);
    }
    if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) break;
    Resume(pid_, WIFSTOPPED(st) ? WSTOPSIG(st) : 0, PTRACE_CONT);
  }
  close(pipefd[0]);
  long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT;
  if (ptrace(PTRACE_SETOPTIONS, pid_, nullptr, reinterpret_cast<void*>(opts)) != 0)
    Die("PTRACE_SETOPTIONS: %s", std::strerror(errno));
  threads_[pid_].pc = ReadPc(pid_);
  threads_seen_ = 1;
  UpdateExeRanges();
}

// Reads /proc/TID/status for the thread group id; -1 if the task is gone.
pid_t TgidOf(pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "Tgid:") {
      pid_t tgid;
      if (status >> tgid) return tgid;
      return -1;
    }
    status.ignore(1 << 20, '\n');
  }
  return -1;
}

void Stepper::Loop() {
  Resume(pid_, 0);
  for (;;) {
    int st;
    pid_t tid = waitpid(-1, &st, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      Die("waitpid: %s", std::strerror(errno));
    }
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      threads_.erase(tid);
      if (tid == pid_) {
        exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return;
      }
      continue;
    }
    if (!WIFSTOPPED(st)) continue;
    const int sig = WSTOPSIG(st);
    const int event = st >> 16;

    auto it = threads_.find(tid);
    if (it == threads_.end()) {
      // A new task auto-attached by PTRACE_O_TRACECLONE; its first stop is
      // SIGSTOP. Threads of the program are counted; a clone() that made a
      // new process (no CLONE_THREAD, exit signal not SIGCHLD) is let go.
      if (TgidOf(tid) != pid_) {
        ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        continue;
      }
      it = threads_.emplace(tid, Thread{ReadPc(tid)}).first;
      ++threads_seen_;
      if (sig == SIGSTOP && event == 0) {
        Resume(tid, 0);
        continue;
      }
      // Otherwise (not expected) handle the stop as usual.
    }
    Thread& t = it->second;
    const bool exec_counted = std::exchange(t.exec_counted, false);

    if (++stops_ > o_.max_steps) {
      limit_reached_ = true;
      kill(pid_, SIGKILL);
      return;
    }

    if (event != 0) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
      switch (event) {
        case PTRACE_EVENT_EXEC: {
          // Reported inside execve, with the new image's registers. When a
          // non-leader thread execs it takes over the leader's tid.
          pid_t former = static_cast<pid_t>(msg);
          if (former != tid) {
            auto f = threads_.find(former);
            if (f != threads_.end()) {
              t = f->second;
              threads_.erase(f);
            }
          }
          Thread& cur = threads_[tid];
          // The execve syscall instruction is counted now, at its address in
          // the old image; the kernel's syscall-exit step report that follows
          // (at the new entry point) is then not counted again.
          Retire(tid, cur.pc, /*is_transfer=*/true);
          ++execs_;
          classes_.clear();
          UpdateExeRanges();
          cur.pc = ReadPc(tid);
          cur.exec_counted = true;
          Resume(tid, 0);
          break;
        }
        case PTRACE_EVENT_EXIT: {
          // A thread ends. It executed an instruction to get here only if it
          // called exit or exit_group itself (not when it was killed by a
          // signal or by another thread's exit_group/execve).
          user_regs_struct regs;
          if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0 && WIFEXITED(msg) &&
              (regs.orig_rax == SYS_exit || regs.orig_rax == SYS_exit_group))
            Retire(tid, t.pc, /*is_transfer=*/true);
          Resume(tid, 0, PTRACE_CONT);
          break;
        }
        default:  // PTRACE_EVENT_CLONE, inside the clone syscall: nothing ran yet.
          Resume(tid, 0);
          break;
      }
      continue;
    }

    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) != 0) {
      if (errno == EINVAL) {  // group-stop: resume (stepcount keeps it running)
        t.signal_since_syscall = true;
        Resume(tid, 0);
        continue;
      }
      if (errno == ESRCH) continue;  // killed meanwhile
      Die("PTRACE_GETSIGINFO: %s", std::strerror(errno));
    }

    if (sig == SIGTRAP && si.si_code == TRAP_TRACE) {
      // A single step completed: the instruction at t.pc retired.
      uint64_t next = ReadPc(tid);
      if (next == t.pc && ClassAt(tid, t.pc) == InsnClass::kRepString)
        ++rep_iterations_;  // one iteration of a REP string instruction, not done yet
      else
        Retire(tid, t.pc, /*is_transfer=*/false);
      t.pc = next;
      t.after_syscall = false;
      Resume(tid, 0);
    } else if (sig == SIGTRAP && si.si_code == TRAP_BRKPT) {
      // The kernel's report after a single-stepped syscall instruction.
      uint64_t next = ReadPc(tid);
      uint64_t pc = t.pc;
      if (t.after_syscall && t.signal_since_syscall && next == t.syscall_pc + 2) {
        pc = t.syscall_pc;  // the previous syscall again, restarted by the kernel
        ++restarts_;
      }
      // After an execve, its report: the execve counted at PTRACE_EVENT_EXEC.
      if (!exec_counted) Retire(tid, pc, /*is_transfer=*/true);
      t.after_syscall = !exec_counted;
      t.signal_since_syscall = false;
      t.syscall_pc = pc;
      t.pc = next;
      Resume(tid, 0);
    } else if (sig == SIGTRAP && si.si_code == kSiCodeHandlerEntry && si.si_pid == tid) {
      // The kernel set up a signal handler frame: no instruction ran; the next
      // one is the handler's first.
      t.pc = ReadPc(tid);
      t.after_syscall = false;
      Resume(tid, 0);
    } else if (sig == SIGTRAP && si.si_code == SI_KERNEL) {
      // int3 retired and raised SIGTRAP: count it, deliver the signal.
      Retire(tid, t.pc, /*is_transfer=*/true);
      t.pc = ReadPc(tid);
      t.after_syscall = false;
      ++signals_;
      Resume(tid, sig);
    } else {
      // Any other signal: delivered to the program. No instruction retired (a
      // faulting instruction raises its signal without retiring).
      ++signals_;
      t.signal_since_syscall = true;
      Resume(tid, sig);
    }
  }
}

void Stepper::Report() {
  std::fprintf(out_, "insns: %" PRIu64 "\n", insns_);
  if (o_.blocks) std::fprintf(out_, "transfers: %" PRIu64 "\n", transfers_);
  for (const Range& r : o_.ranges)
    std::fprintf(out_, "range %s: %" PRIu64 "\n", r.spec.c_str(), r.count);
  if (o_.stats) {
    std::fprintf(out_, "stops: %" PRIu64 "\n", stops_);
    std::fprintf(out_, "rep_iterations: %" PRIu64 "\n", rep_iterations_);
    std::fprintf(out_, "signals: %" PRIu64 "\n", signals_);
    std::fprintf(out_, "syscall_restarts: %" PRIu64 "\n", restarts_);
    std::fprintf(out_, "execs: %" PRIu64 "\n", execs_);
    std::fprintf(out_, "threads: %" PRIu64 "\n", threads_seen_);
    std::fprintf(out_, "seconds: %.3f\n", seconds_);
    std::fprintf(out_, "stops_per_second: %.0f\n", seconds_ > 0 ? stops_ / seconds_ : 0.0);
  }
  if (out_ != stderr && std::fclose(out_) != 0)
    Die("cannot write %s: %s", o_.output_file.c_str(), std::strerror(errno));

  if (!o_.pcs_file.empty()) {
    std::vector<std::pair<uint64_t, uint64_t>> v(pcs_.begin(), pcs_.end());
    std::sort(v.begin(), v.end());
    FILE* f = std::fopen(o_.pcs_file.c_str(), "w");
    if (!f) Die("cannot write %s: %s", o_.pcs_file.c_str(), std::strerror(errno));
    for (auto& [pc, n] : v) std::fprintf(f, "0x%" PRIx64 " %" PRIu64 "\n", pc, n);
    if (std::fclose(f) != 0) Die("cannot write %s: %s", o_.pcs_file.c_str(), std::strerror(errno));
  }
}

int Stepper::Run() {
  if (!o_.output_file.empty()) {  // opened first, to fail before running anything
    out_ = std::fopen(o_.output_file.c_str(), "we");
    if (!out_) Die("cannot write %s: %s", o_.output_file.c_str(), std::strerror(errno));
  }
  timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  Launch();
  Loop();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  seconds_ = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (limit_reached_) {
    // Reap the killed program so it does not outlive stepcount. Its threads
    // still make their PTRACE_EVENT_EXIT stops, which must be resumed.
    for (;;) {
      int st;
      pid_t tid = waitpid(-1, &st, __WALL);
      if (tid < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (WIFSTOPPED(st)) ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    }
  }
  Report();
  if (limit_reached_) {
    std::fprintf(stderr, "stepcount: gave up after %" PRIu64 " stops (--max)\n", o_.max_steps);
    return kExitInternalError;
  }
  return exit_status_;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  Stepper s(std::move(o));
  return s.Run();
}
