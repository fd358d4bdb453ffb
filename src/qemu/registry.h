// Registry (internal to the plugin host): loaded plugins, their callbacks per
// event, and the opaque handles the C API hands out.
//
// Ordering invariant (QEMU's, docs/abi.md "Decisions"): each plugin holds at most one
// callback per event; a plugin's first registration for an event puts it at
// the head of that event's list, so the most recently registering plugin runs
// first. Registering again replaces the callback in place; NULL unregisters.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "runtime/instrumentation.h"
#include "runtime/thread_state.h"
#include "x86_64/decoder.h"

// Opaque handles of the C API, in the global namespace as the header declares them.
struct qemu_plugin_tb;
struct qemu_plugin_insn {
  const qplug::x86_64::DecodedInsn* decoded;
  size_t index;
  qemu_plugin_tb* tb;
};
struct qemu_plugin_tb {
  std::span<const qplug::x86_64::DecodedInsn> insns;
  std::vector<qemu_plugin_insn> handles;
  qplug::runtime::BlockInstrumentation* instr;
};
struct qemu_plugin_scoreboard {
  uint8_t* data;  // element_size * capacity bytes, zeroed; moves when it grows
  size_t element_size;
  size_t capacity;  // vCPUs
  int cache_slot;   // index in ThreadState::scoreboard_element, or -1
};

namespace qplug::qemu {

enum class Event : int {
  kVcpuInit,
  kVcpuExit,
  kTbTrans,
  kVcpuIdle,
  kVcpuResume,
  kSyscall,
  kSyscallRet,
  kFlush,
  kAtexit,
  kSyscallFilter,
  // One list per discontinuity type, as QEMU keeps them: a registration
  // names a set of types and fills each of their lists.
  kDisconInterrupt,
  kDisconException,
  kDisconHostcall,
  kCount
};

struct Callback {
  void* fn = nullptr;
  void* userdata = nullptr;
};

struct PluginContext {
  uint64_t id = 0;
  int version = 0;  // the plugin's qemu_plugin_version: selects callback signatures
  std::string path;
  void* handle = nullptr;  // dlopen handle
  std::vector<std::string> args;
  std::vector<char*> argv;
  Callback callbacks[static_cast<int>(Event::kCount)];
  bool installing = false;
  bool crashed = false;  // its code faulted: none of its callbacks runs again
};

// Locking (the invariant this class owns): callbacks are registered and
// unregistered by any thread, from inside callbacks too, while other threads
// dispatch events. Every read and write of the per-event lists and of a
// plugin's callbacks takes `mutex_`; dispatch works on a snapshot taken under
// it and calls plugins without it, so a callback may register, reset or
// uninstall. The plugin list itself grows only while plugins install, before
// any guest thread exists. A plugin's library is closed only once no thread
// can be running its code (reset_plugin).
class Registry {
 public:
  PluginContext* find(uint64_t id) const;
  // Looks the plugin up by id; a bad id is a plugin bug reported and fatal.
  PluginContext& get(uint64_t id, const char* function) const;
  void set(PluginContext& p, Event e, void* fn, void* userdata);
  void clear(PluginContext& p);  // every callback of p
  // The plugins registered for `e`, with their callbacks, most recent first.
  std::vector<std::pair<PluginContext*, Callback>> snapshot(Event e) const;
  PluginContext& add(std::unique_ptr<PluginContext> p);
  const std::vector<std::unique_ptr<PluginContext>>& plugins() const { return plugins_; }

 private:
  void set_locked(PluginContext& p, Event e, void* fn, void* userdata);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<PluginContext>> plugins_;
  std::vector<PluginContext*> lists_[static_cast<int>(Event::kCount)];
};

Registry& registry();

// The plugin whose code is running on this thread (set around every call
// into a plugin), for the API functions that take no plugin id. Inline: the
// fast callback thunks set it around every call.
extern constinit thread_local PluginContext* running_plugin;
inline PluginContext* current_plugin() { return running_plugin; }
// Closes a plugin's library (uninstall).
void unload_library(void* handle);

// After a longjmp (set_pc) skipped ScopedPlugin destructors.
inline void restore_current_plugin(PluginContext* p) { running_plugin = p; }
class ScopedPlugin {
 public:
  explicit ScopedPlugin(PluginContext* p) : saved_(running_plugin) { running_plugin = p; }
  ~ScopedPlugin() { running_plugin = saved_; }

 private:
  PluginContext* saved_;
};

// Writes plugin output as QEMU's log does: only with `-d plugin`, to stderr
// or the -D file.
void log_plugin_output(const char* text);

// Unregisters every callback of `p` once no translated code can call it any
// more, then calls `cb` (and dlcloses the plugin for uninstall).
void reset_plugin(PluginContext& p, void* cb, void* userdata, bool uninstall);

// Scoreboards grow with the number of vCPUs.
unsigned num_vcpus();

// Scoreboards (scoreboards.cpp). Each thread caches the address of its own
// element of the first kScoreboardCache scoreboards in its ThreadState, so an
// inline add on a scoreboard entry is one load and one add; growth and new
// threads keep the caches right.
qemu_plugin_scoreboard* new_scoreboard(size_t element_size);
void grow_scoreboard(qemu_plugin_scoreboard* s, size_t vcpus);
void attach_scoreboards(runtime::ThreadState& ts);
void free_scoreboard(qemu_plugin_scoreboard* s);

}  // namespace qplug::qemu
