// The packets gdb sends while the guest is stopped, and the connection they
// come over.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gdbstub/registers.h"
#include "gdbstub/signals.h"
#include "gdbstub/stub.h"
#include "gdbstub/stub_internal.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"

namespace qplug::gdb {

namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

bool Connection::fill() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      reader_.feed(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;  // a guest signal arrived meanwhile
    return false;
  }
}

bool Connection::send(std::string_view payload) {
  if (fd < 0) return false;
  const std::string packet = frame(payload);
  for (int tries = 0; tries < 16; ++tries) {
    if (!write_all(fd, packet)) return false;
    if (no_ack) return true;
    for (;;) {
      auto e = reader_.next();
      if (!e) {
        if (!fill()) return false;
        continue;
      }
      if (e->kind == PacketReader::Kind::kAck) return true;
      if (e->kind == PacketReader::Kind::kNack) break;  // sent again
    }
  }
  return false;
}

std::optional<std::string> Connection::receive() {
  if (fd < 0) return std::nullopt;
  for (;;) {
    auto e = reader_.next();
    if (!e) {
      if (!fill()) return std::nullopt;
      continue;
    }
    switch (e->kind) {
      case PacketReader::Kind::kPacket:
        if (!no_ack && !write_all(fd, "+")) return std::nullopt;
        return std::move(e->payload);
      case PacketReader::Kind::kBadChecksum:
        if (!no_ack && !write_all(fd, "-")) return std::nullopt;
        break;
      case PacketReader::Kind::kInterrupt:
        return std::string("\x03");
      default:
        break;
    }
  }
}

void Connection::close() {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

namespace {

struct Session {
  Stub& s;
  GdbThread& stopped;

  GdbThread& selected(long which) {
    if (which > 0)
      if (GdbThread* t = find_thread(s, which)) return *t;
    return stopped;
  }
  ThreadRegs regs_of(GdbThread& t) { return {t.ts, &t.fs_base}; }

  std::string read_registers() {
    GdbThread& t = selected(s.g_thread);
    std::string out;
    for (size_t n = 0; n < register_count(); ++n) out += read_register_hex(regs_of(t), n);
    return out;
  }

  std::string write_registers(std::string_view hex) {
    const auto bytes = from_hex(hex);
    if (!bytes) return "E01";
    GdbThread& t = selected(s.g_thread);
    size_t at = 0;
    for (size_t n = 0; n < register_count() && at + register_size(n) <= bytes->size(); ++n) {
      const uint64_t before = t.fs_base;
      // Values gdb sends back unchanged for registers the guest cannot set
      // (segment selectors) are accepted as they are: only changes fail.
      write_register(regs_of(t), n, reinterpret_cast<const uint8_t*>(bytes->data() + at));
      if (t.fs_base != before) t.fs_base_written = true;
      at += register_size(n);
    }
    return "OK";
  }

  std::string read_one(std::string_view arg) {
    const auto n = parse_hex(arg);
    if (!n || *n >= register_count()) return "E01";
    return read_register_hex(regs_of(selected(s.g_thread)), *n);
  }

  std::string write_one(std::string_view arg) {
    const size_t eq = arg.find('=');
    const auto n = parse_hex(arg.substr(0, eq));
    if (eq == std::string_view::npos || !n || *n >= register_count()) return "E01";
    const auto bytes = from_hex(arg.substr(eq + 1));
    if (!bytes || bytes->size() < register_size(*n)) return "E01";
    GdbThread& t = selected(s.g_thread);
    const uint64_t before = t.fs_base;
    if (!write_register(regs_of(t), *n, reinterpret_cast<const uint8_t*>(bytes->data())))
      return "E01";
    if (t.fs_base != before) t.fs_base_written = true;
    return "OK";
  }

  // "addr,length" of m, M and X packets.
  static bool address_range(std::string_view text, uint64_t& addr, uint64_t& len) {
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos) return false;
    const auto a = parse_hex(text.substr(0, comma));
    const auto l = parse_hex(text.substr(comma + 1));
    if (!a || !l) return false;
    addr = *a;
    len = *l;
    return true;
  }

  std::string read_memory(std::string_view arg) {
    uint64_t addr, len;
    if (!address_range(arg, addr, len)) return "E01";
    std::string buf(std::min<uint64_t>(len, 8192), '\0');
    const ssize_t n = pread(s.mem_fd, buf.data(), buf.size(), static_cast<off_t>(addr));
    if (n <= 0) return "E0e";  // EFAULT
    return to_hex(buf.data(), static_cast<size_t>(n));
  }

  std::string write_memory(uint64_t addr, std::string_view data) {
    if (data.empty()) return "OK";
    // /proc/self/mem writes as ptrace does, into read-only code pages too;
    // translations of the bytes are dropped.
    const ssize_t n = pwrite(s.mem_fd, data.data(), data.size(), static_cast<off_t>(addr));
    if (n != static_cast<ssize_t>(data.size())) return "E0e";
    runtime::rt().dispatcher->invalidate(addr, addr + data.size());
    return "OK";
  }

  std::string thread_list() {
    std::string out = "m";
    for (auto& t : s.threads) {
      if (out.size() > 1) out += ',';
      out += to_hex_number(static_cast<uint64_t>(t->tid));
    }
    return out;
  }

  std::string set_thread(std::string_view arg) {
    if (arg.empty()) return "E01";
    const auto id = parse_thread_id(arg.substr(1));
    if (!id || (id->value > 0 && !find_thread(s, id->value))) return "E01";
    (arg[0] == 'g' ? s.g_thread : s.c_thread) = id->value;
    return "OK";
  }

  std::string xfer(std::string_view packet) {
    const auto r = parse_xfer_read(packet);
    if (!r) return "E00";
    if (r->object == "features") {
      if (r->annex != "target.xml") return "E00";
      return xfer_reply(target_xml(), r->offset, r->length);
    }
    if (r->object == "auxv") return xfer_reply(s.auxv, r->offset, r->length);
    if (r->object == "exec-file")
      return xfer_reply(runtime::rt().exe_realpath, r->offset, r->length);
    return "";
  }

  // c, C, s and S act on the Hc thread, and the others continue.
  std::vector<ResumeAction> legacy_resume(std::string_view packet) {
    const char kind = packet[0];
    std::string_view rest = packet.substr(1);
    ResumeAction a;
    a.action = kind == 's' || kind == 'S' ? 's' : 'c';
    if (kind == 'C' || kind == 'S') {
      const size_t semi = rest.find(';');
      a.signal = static_cast<int>(parse_hex(rest.substr(0, semi)).value_or(0));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    }
    if (const auto addr = parse_hex(rest)) stopped.ts->rip = *addr;
    a.thread = ThreadId{s.c_thread > 0 ? s.c_thread : stopped.tid};
    std::vector<ResumeAction> actions{a};
    if (a.action == 's' || s.c_thread > 0) actions.push_back(ResumeAction{'c', 0, ThreadId{-1}});
    return actions;
  }
};

[[noreturn]] void kill_guest() {
  // No exit callbacks, no reply: gdb's kill is SIGKILL's.
  ::kill(getpid(), SIGKILL);
  _exit(137);
}

}  // namespace

Served serve(Stub& s, GdbThread& stopped, bool reply_now) {
  Session session{s, stopped};
  // gdb takes a stop reply's thread as the one register packets now address
  // (it sends no Hg for it).
  s.g_thread = stopped.tid;
  if (reply_now && !s.conn.send(stop_reply(s.last_stop))) return {Outcome::kDetach, {}};
  for (;;) {
    const std::optional<std::string> got = s.conn.receive();
    if (!got) return {Outcome::kDetach, {}};  // gdb went away: the guest runs on
    const std::string_view p = *got;
    if (p.empty() || p == "\x03") continue;  // already stopped
    std::string reply;
    switch (p[0]) {
      case '?':
        reply = stop_reply(s.last_stop);
        break;
      case 'g':
        reply = session.read_registers();
        break;
      case 'G':
        reply = session.write_registers(p.substr(1));
        break;
      case 'p':
        reply = session.read_one(p.substr(1));
        break;
      case 'P':
        reply = session.write_one(p.substr(1));
        break;
      case 'm':
        reply = session.read_memory(p.substr(1));
        break;
      case 'M':
      case 'X': {
        const size_t colon = p.find(':');
        uint64_t addr, len;
        if (colon == std::string_view::npos ||
            !Session::address_range(p.substr(1, colon - 1), addr, len)) {
          reply = "E01";
          break;
        }
        std::string data;
        if (p[0] == 'X') {
          data = unescape_binary(p.substr(colon + 1));
        } else if (auto bytes = from_hex(p.substr(colon + 1))) {
          data = std::move(*bytes);
        } else {
          reply = "E01";
          break;
        }
        reply = data.size() == len ? session.write_memory(addr, data) : "E01";
        break;
      }
      case 'Z':
      case 'z': {
        const auto r = parse_breakpoint(p);
        const int done = r ? change_breakpoint(s, *r) : -1;
        reply = done > 0 ? "OK" : done == 0 ? "" : "E01";
        break;
      }
      case 'H':
        reply = session.set_thread(p.substr(1));
        break;
      case 'T': {
        const auto id = parse_thread_id(p.substr(1));
        reply = id && find_thread(s, id->value) ? "OK" : "E01";
        break;
      }
      case 'c':
      case 'C':
      case 's':
      case 'S':
        return {Outcome::kResume, session.legacy_resume(p)};
      case 'D':
        s.conn.send("OK");
        return {Outcome::kDetach, {}};
      case 'k':
        kill_guest();
      default:
        if (p == "qSupported" || p.starts_with("qSupported:")) {
          reply =
              "PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;"
              "swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+";
        } else if (p == "QStartNoAckMode") {
          s.conn.send("OK");
          s.conn.no_ack = true;
          continue;
        } else if (p == "qAttached" || p.starts_with("qAttached:")) {
          reply = "1";  // as QEMU: gdb detaches when it quits, and the guest runs on
        } else if (p == "qC") {
          reply = "QC" + to_hex_number(static_cast<uint64_t>(session.selected(s.g_thread).tid));
        } else if (p == "qfThreadInfo") {
          reply = session.thread_list();
        } else if (p == "qsThreadInfo") {
          reply = "l";
        } else if (p.starts_with("qXfer:")) {
          reply = session.xfer(p);
        } else if (p.starts_with("qSymbol")) {
          reply = "OK";
        } else if (p == "vCont?") {
          reply = "vCont;c;C;s;S";
        } else if (p.starts_with("vCont;")) {
          if (auto actions = parse_vcont(p.substr(5))) return {Outcome::kResume, *actions};
          reply = "E01";
        } else if (p.starts_with("vKill")) {
          s.conn.send("OK");
          kill_guest();
        }
        // Anything else is not supported: the empty reply says so.
        break;
    }
    if (!s.conn.send(reply)) return {Outcome::kDetach, {}};
  }
}

}  // namespace qplug::gdb
