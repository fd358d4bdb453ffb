// The stub's state, shared by the thread and stop logic (stub.cpp) and the
// packet handlers (commands.cpp). Everything here is guarded by Stub::mu;
// the breakpoint maps are also read under the dispatcher's lock (they change
// only with both held).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub/protocol.h"

namespace qplug::runtime {
struct ThreadState;
}

namespace qplug::gdb {

// A blocking connection to gdb, with the protocol's acknowledgements until
// gdb turns them off (QStartNoAckMode).
class Connection {
 public:
  int fd = -1;
  bool no_ack = false;
  bool send(std::string_view payload);  // false once the connection is gone
  // The next packet ("\x03" for an interrupt); nullopt when gdb has gone.
  std::optional<std::string> receive();
  void close();

 private:
  bool fill();
  PacketReader reader_;
};

struct GdbThread {
  runtime::ThreadState* ts = nullptr;
  long tid = 0;
  uint64_t fs_base = 0;          // the thread's FS base as of its last stop
  bool fs_base_written = false;  // gdb changed it: the thread loads it when it resumes
  bool parked = false;           // waiting in at_loop_top
  std::atomic<bool> hold{
      false};  // must not run (all-stop, or not resumed by vCont); may_enter reads it
  bool stepping = false;
  bool ran = false;  // entered translated code since its last pass through at_loop_top
  uint64_t step_pc = 0;
  uint64_t skip_pc = ~uint64_t{0};  // resumed at this breakpoint: do not stop there first
  int resume_signal = 0;            // what gdb's resume said to deliver (on_signal)
};

struct StopEvent {
  int signal = 5;      // SIGTRAP
  std::string reason;  // "swbreak:;", "watch:ADDR;"... ("" for a step or a signal)
  long tid = 0;
};

struct Watch {
  int type = 2;  // 2 write, 3 read, 4 access
  uint64_t addr = 0, len = 0;
  std::string value;  // the bytes as of the last check
};

struct Stub {
  std::mutex mu;
  std::condition_variable cv;
  Connection conn;
  int mem_fd = -1;  // /proc/self/mem: reads and writes whatever the page protection
  std::vector<std::unique_ptr<GdbThread>> threads;
  std::map<uint64_t, int> sw_breaks, hw_breaks;  // address -> insertions
  std::vector<Watch> watches;
  long g_thread = 0;  // Hg: the thread register packets read and write (0: the stopped one)
  long c_thread = 0;  // Hc: the thread legacy s/c packets resume (0 or -1: all)
  StopEvent last_stop;
  std::string auxv;  // the guest's auxiliary vector, as its initial stack held it
};

Stub& stub();
GdbThread* find_thread(Stub& s, long tid);
std::string to_hex_number(uint64_t v);  // "1a2b", as addresses and thread ids go
std::string stop_reply(const StopEvent& e);

// Serves gdb's packets while every thread is stopped, until one resumes the
// guest. With `reply_now`, first sends the stop reply gdb waits for.
enum class Outcome { kResume, kDetach };
struct Served {
  Outcome outcome = Outcome::kResume;
  std::vector<ResumeAction> actions;
};
Served serve(Stub& s, GdbThread& stopped, bool reply_now);

// Inserts or removes a breakpoint or watchpoint (with Stub::mu held; takes
// the dispatcher's lock): 1 done, 0 not supported, -1 invalid.
int change_breakpoint(Stub& s, const BreakpointRequest& r);

}  // namespace qplug::gdb
