// Threads and stops of the gdb stub: who stops when, who talks to gdb, and
// how the guest resumes (the design is in stub.h).
#include "gdbstub/stub.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gdbstub/signals.h"
#include "gdbstub/stub_internal.h"
#include "os/linux/fds.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"

namespace qplug::gdb {

namespace detail {
std::atomic<bool> active{false};
std::atomic<bool> single_insn{false};
std::atomic<bool> have_breakpoints{false};
}  // namespace detail

using runtime::ThreadState;

namespace {

// Set (under the dispatcher's lock) from the moment a thread decides to stop
// everything until gdb resumes: may_enter refuses while it is.
std::atomic<bool> stopping{false};
thread_local GdbThread* self = nullptr;

uint64_t read_fs_base() {
  uint64_t base;
  asm volatile("rdgsbase %0" : "=r"(base));  // the guest's FS lives in GS
  return base;
}

GdbThread& self_record(Stub& s, ThreadState& ts) {
  if (self) return *self;
  auto t = std::make_unique<GdbThread>();
  t->ts = &ts;
  t->tid = static_cast<long>(syscall(SYS_gettid));
  t->fs_base = read_fs_base();
  self = t.get();
  s.threads.push_back(std::move(t));
  return *self;
}

// The thread picks up what gdb changed while it was stopped.
void load_changes(GdbThread& me) {
  if (!me.fs_base_written) return;
  asm volatile("wrgsbase %0" ::"r"(me.fs_base) : "memory");
  me.fs_base_written = false;
}

void park(std::unique_lock<std::mutex>& lk, Stub& s, GdbThread& me) {
  while (detail::active && (stopping || me.hold)) {
    me.parked = true;
    s.cv.wait(lk);
    me.parked = false;
  }
  load_changes(me);
}

void refresh_watches(Stub& s) {
  for (Watch& w : s.watches) {
    w.value.assign(w.len, '\0');
    if (pread(s.mem_fd, w.value.data(), w.len, static_cast<off_t>(w.addr)) < 0) w.value.clear();
  }
}

// Every other thread out of translated code: a flush unlinks every block, so
// each leaves at its next block exit and then waits in at_loop_top (or is in
// a system call, and waits when it returns).
void stop_all(std::unique_lock<std::mutex>& lk, Stub& s, GdbThread& me) {
  auto& d = *runtime::rt().dispatcher;
  {
    std::lock_guard guard(d.mutex());
    stopping = true;
    if (s.threads.size() > 1 || d.live_threads() > 1) {
      d.flush_all();
      runtime::rt().tool->flush();
    }
  }
  for (auto& t : s.threads) t->hold = true;
  for (;;) {
    bool settled = true;
    for (auto& t : s.threads) {
      if (t.get() != &me && !t->parked && __atomic_load_n(&t->ts->in_cache, __ATOMIC_ACQUIRE))
        settled = false;
    }
    if (settled) return;
    lk.unlock();
    usleep(100);
    lk.lock();
  }
}

bool matches(const ResumeAction& a, const GdbThread& t, const GdbThread& stopped) {
  return a.thread.all() || a.thread.value == t.tid || (a.thread.any() && &t == &stopped);
}

void resume(Stub& s, GdbThread& stopped, const std::vector<ResumeAction>& actions) {
  bool any_step = false;
  for (auto& t : s.threads) {
    t->stepping = false;
    t->resume_signal = 0;
    t->hold = true;
    for (const ResumeAction& a : actions) {
      if (!matches(a, *t, stopped)) continue;
      if (a.action != 't') {
        t->hold = false;
        t->stepping = a.action == 's';
        t->step_pc = t->ts->rip;
        t->resume_signal = from_gdb_signal(a.signal);
        any_step = any_step || t->stepping;
      }
      break;
    }
  }
  // Like the resume flag of x86: the thread that stopped at a breakpoint
  // runs its instruction before that breakpoint counts again.
  stopped.skip_pc = stopped.ts->rip;
  refresh_watches(s);
  const bool single = any_step || !s.watches.empty();
  auto& d = *runtime::rt().dispatcher;
  {
    std::lock_guard guard(d.mutex());
    if (single != detail::single_insn) {
      detail::single_insn = single;
      d.flush_all();  // the translations of the other mode go
      runtime::rt().tool->flush();
    }
    stopping = false;
  }
  s.cv.notify_all();
}

void detach(Stub& s) {
  auto& d = *runtime::rt().dispatcher;
  {
    std::lock_guard guard(d.mutex());
    s.sw_breaks.clear();
    s.hw_breaks.clear();
    s.watches.clear();
    detail::have_breakpoints = false;
    detail::active = false;
    if (detail::single_insn) {
      detail::single_insn = false;
      d.flush_all();
      runtime::rt().tool->flush();
    }
    stopping = false;
  }
  s.conn.close();
  for (auto& t : s.threads) t->hold = false;
  s.cv.notify_all();
}

// The calling thread stopped for `e`: everything stops, gdb is told and
// served, and the guest resumes as gdb says.
void stop_and_serve(std::unique_lock<std::mutex>& lk, Stub& s, GdbThread& me, const StopEvent& e,
                    bool reply_now = true) {
  s.last_stop = e;
  stop_all(lk, s, me);
  const Served r = serve(s, me, reply_now);
  if (r.outcome == Outcome::kDetach) {
    detach(s);
    return;
  }
  resume(s, me, r.actions);
  park(lk, s, me);
}

std::optional<StopEvent> changed_watch(Stub& s, const GdbThread& me) {
  std::optional<StopEvent> hit;
  std::string now;
  for (Watch& w : s.watches) {
    now.assign(w.len, '\0');
    if (pread(s.mem_fd, now.data(), w.len, static_cast<off_t>(w.addr)) < 0) now.clear();
    if (now == w.value) continue;
    w.value = now;
    if (!hit) hit = StopEvent{SIGTRAP, "watch:" + to_hex_number(w.addr) + ";", me.tid};
  }
  return hit;
}

std::string guest_auxv(uint64_t sp) {
  // The initial stack: argc, argv..., 0, envp..., 0, then the auxv pairs.
  auto word = [](uint64_t addr) {
    uint64_t v = 0;
    runtime::Dispatcher::read_guest(addr, &v, sizeof v);
    return v;
  };
  uint64_t p = sp + 8 * (word(sp) + 2);
  while (word(p)) p += 8;
  p += 8;
  const uint64_t begin = p;
  while (word(p)) p += 16;
  p += 16;  // AT_NULL belongs to it
  std::string auxv(p - begin, '\0');
  runtime::Dispatcher::read_guest(begin, auxv.data(), auxv.size());
  return auxv;
}

[[noreturn]] void cannot_listen(const char* where, const char* what) {
  std::fprintf(stderr, "qplug: -g %s: %s: %s\n", where, what, std::strerror(errno));
  std::exit(1);
}

// A TCP port on every IPv4 interface, as qemu-x86_64 -g PORT; anything else
// is the path of a Unix socket to create (gdb: `target remote PATH`).
int accept_gdb(const char* where) {
  char* end = nullptr;
  const long port = std::strtol(where, &end, 10);
  const bool tcp = *where && *end == '\0';
  int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) cannot_listen(where, "socket");
  fd = os::move_to_reserve(fd);
  int rc;
  if (tcp) {
    if (port <= 0 || port > 65535) {
      errno = EINVAL;
      cannot_listen(where, "bad port");
    }
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (std::strlen(where) >= sizeof addr.sun_path) {
      errno = ENAMETOOLONG;
      cannot_listen(where, "bind");
    }
    std::strcpy(addr.sun_path, where);
    unlink(where);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc < 0) cannot_listen(where, "bind");
  if (listen(fd, 1) < 0) cannot_listen(where, "listen");
  int conn;
  do {
    conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) cannot_listen(where, "accept");
  close(fd);
  if (!tcp) unlink(where);
  const int on = 1;
  if (tcp) setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return os::move_to_reserve(conn);
}

}  // namespace

std::string to_hex_number(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%lx", static_cast<unsigned long>(v));
  return buf;
}

Stub& stub() {
  static Stub s;
  return s;
}

GdbThread* find_thread(Stub& s, long tid) {
  for (auto& t : s.threads)
    if (t->tid == tid) return t.get();
  return nullptr;
}

std::string stop_reply(const StopEvent& e) {
  char head[8];
  std::snprintf(head, sizeof head, "T%02x", to_gdb_signal(e.signal));
  return head + std::string("thread:") + to_hex_number(static_cast<uint64_t>(e.tid)) + ";" +
         e.reason;
}

int change_breakpoint(Stub& s, const BreakpointRequest& r) {
  auto& d = *runtime::rt().dispatcher;
  if (r.type <= 1) {
    std::lock_guard guard(d.mutex());
    auto& m = r.type == 0 ? s.sw_breaks : s.hw_breaks;
    if (r.insert) {
      ++m[r.addr];
    } else if (auto it = m.find(r.addr); it != m.end() && --it->second == 0) {
      m.erase(it);
    }
    detail::have_breakpoints = !s.sw_breaks.empty() || !s.hw_breaks.empty();
    // Blocks holding the address are translated again, to end before it.
    d.invalidate(r.addr, r.addr + 1);
    return 1;
  }
  if (r.type != 2) return 0;  // read and access watchpoints: not supported
  if (r.length == 0 || r.length > 4096) return -1;
  if (r.insert) {
    s.watches.push_back({r.type, r.addr, r.length, {}});
  } else {
    for (auto it = s.watches.begin(); it != s.watches.end(); ++it) {
      if (it->type == r.type && it->addr == r.addr && it->len == r.length) {
        s.watches.erase(it);
        break;
      }
    }
  }
  return 1;
}

void start(const char* where, ThreadState& main_thread) {
  Stub& s = stub();
  s.conn.fd = accept_gdb(where);
  const int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  s.mem_fd = mem < 0 ? -1 : os::move_to_reserve(mem);
  s.auxv = guest_auxv(main_thread.gpr[runtime::kRsp]);
  std::unique_lock lk(s.mu);
  detail::active = true;
  GdbThread& me = self_record(s, main_thread);
  // gdb asks why the guest stopped (`?`) before anything else.
  stop_and_serve(lk, s, me, StopEvent{SIGTRAP, "", me.tid}, false);
}

void at_loop_top(ThreadState& ts) {
  if (ts.separate_process) return;
  Stub& s = stub();
  std::unique_lock lk(s.mu);
  if (!active()) return;
  GdbThread& me = self_record(s, ts);
  park(lk, s, me);
  if (!active()) return;
  me.fs_base = read_fs_base();
  const bool ran = me.ran;
  me.ran = false;
  std::optional<StopEvent> e;
  if (ran && !s.watches.empty()) e = changed_watch(s, me);
  if (!e && me.stepping && ran) {
    // An exit for a pending host signal may come before the instruction ran.
    if (ts.exit_reason != runtime::ExitReason::kSignal || ts.rip != me.step_pc)
      e = StopEvent{SIGTRAP, "", me.tid};
  }
  if (!e && me.skip_pc != ts.rip) {
    if (s.sw_breaks.count(ts.rip)) {
      e = StopEvent{SIGTRAP, "swbreak:;", me.tid};
    } else if (s.hw_breaks.count(ts.rip)) {
      e = StopEvent{SIGTRAP, "hwbreak:;", me.tid};
    }
  }
  if (e) stop_and_serve(lk, s, me, *e);
}

bool may_enter(ThreadState& ts) {
  if (ts.separate_process) return true;
  if (stopping) return false;
  GdbThread* me = self;
  if (!me) return true;
  if (me->hold) return false;
  if (me->skip_pc != ts.rip && is_breakpoint(ts.rip)) return false;
  me->skip_pc = ~uint64_t{0};
  me->ran = true;
  return true;
}

bool is_breakpoint(uint64_t pc) {
  if (!detail::have_breakpoints.load(std::memory_order_relaxed)) return false;
  const Stub& s = stub();
  return s.sw_breaks.count(pc) || s.hw_breaks.count(pc);
}

int on_signal(ThreadState& ts, int sig) {
  if (ts.separate_process || !active()) return sig;
  Stub& s = stub();
  std::unique_lock lk(s.mu);
  if (!active()) return sig;
  GdbThread& me = self_record(s, ts);
  park(lk, s, me);
  if (!active()) return sig;
  me.fs_base = read_fs_base();
  stop_and_serve(lk, s, me, StopEvent{sig, "", me.tid});
  return active() ? me.resume_signal : sig;
}

namespace {
void send_final(const char* reply) {
  Stub& s = stub();
  // Possibly from a signal handler, possibly while another thread serves
  // gdb: a bounded wait for the lock, then the reply regardless.
  bool locked = false;
  for (int i = 0; i < 1000 && !(locked = s.mu.try_lock()); ++i) usleep(1000);
  if (active()) {
    detail::active = false;
    s.conn.send(reply);
    s.conn.close();
  }
  if (locked) s.mu.unlock();
}
}  // namespace

void on_exit(int status) {
  if (!active() || runtime::current_thread().separate_process) return;
  char reply[8];
  std::snprintf(reply, sizeof reply, "W%02x", status & 0xff);
  send_final(reply);
}

void on_killed(int sig) {
  if (!active() || runtime::current_thread().separate_process) return;
  char reply[8];
  std::snprintf(reply, sizeof reply, "X%02x", to_gdb_signal(sig));
  send_final(reply);
}

void on_thread_exit(ThreadState& ts) {
  if (ts.separate_process) return;
  Stub& s = stub();
  std::lock_guard lk(s.mu);
  std::erase_if(s.threads, [&](const std::unique_ptr<GdbThread>& t) { return t->ts == &ts; });
  self = nullptr;
}

void forget_in_child() {
  if (!active()) return;
  // Only this thread exists in the child, and the lock may have been held
  // by another one at the fork: nothing here takes it.
  Stub& s = stub();
  detail::active = false;
  detail::have_breakpoints = false;
  detail::single_insn = false;
  stopping = false;
  close(s.conn.fd);
  if (s.mem_fd >= 0) close(s.mem_fd);
}

}  // namespace qplug::gdb
