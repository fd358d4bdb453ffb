// qplug/tool.h: the one interface between the engine (loader, translator,
// dispatcher, OS layer) and the instrumentation it runs.
//
// A tool is what `qplug::run<plugin_list<P...>>` builds from a compile-time
// plugin list: each virtual below is one fold over the list that calls the
// plugins' hooks directly, in list order. The engine calls through this
// interface once per event (not once per plugin), so composing plugins costs
// no indirect calls beyond the first. Execution-time actions never go through
// it: they are generated into translated blocks.
//
// Lifetimes: every pointer and view passed to a hook is valid only during that
// call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qplug/result.h"

namespace qplug {

class Tb;

// Guest syscall arguments rdi, rsi, rdx, r10, r8, r9, then two zeros (QEMU's
// callbacks take eight).
using SyscallArgs = uint64_t[8];

// One -plugin option: `path` is a .so file, or the name of a static plugin of
// the tool; `args` are its key=value arguments.
struct PluginSpec {
  std::string path;
  std::vector<std::string> args;
};

// Kinds of guest pc discontinuity, QEMU's qemu_plugin_discon_type values. In
// user mode only exceptions happen: a fault or trap an instruction raises
// (ud2, int3, a division by zero...), reported before its signal is delivered.
enum class DisconType : uint8_t {
  kInterrupt = 1,
  kException = 2,
  kHostcall = 4,
};

// What the tool decided about a guest syscall before it runs.
enum class SyscallVerdict : uint8_t {
  kRun,         // run it
  kFiltered,    // do not run it; its result is *ret
  kRedirected,  // do not run it; the guest continues at the pc the tool set
};

class Tool {
 public:
  virtual ~Tool() = default;

  // Once, after the command line is parsed and before the guest is loaded,
  // with every -plugin option in command-line order.
  virtual Result<void> install(const std::vector<PluginSpec>& specs) = 0;
  // True if blocks must be shown to the tool (tb_trans). Translation then ends
  // blocks at every branch, as QEMU's TBs do, so per-block counts are exact.
  virtual bool instruments() const = 0;
  // True if the tool wants the syscall events; false skips their cost.
  virtual bool watches_syscalls() const = 0;

  virtual void tb_trans(Tb& tb) = 0;
  virtual void vcpu_init(unsigned vcpu_index) = 0;
  virtual void vcpu_exit(unsigned vcpu_index) = 0;
  virtual SyscallVerdict syscall(unsigned vcpu_index, int64_t num, const SyscallArgs& args,
                                 int64_t* ret) = 0;
  virtual void syscall_ret(unsigned vcpu_index, int64_t num, int64_t ret) = 0;
  // A discontinuity: the guest leaves `from_pc` for `to_pc` other than by
  // executing an instruction's own transfer.
  virtual void discon(unsigned vcpu_index, DisconType type, uint64_t from_pc, uint64_t to_pc) = 0;
  virtual void flush() = 0;
  // Once, when the guest exits (exit_group, or death by signal).
  virtual void at_exit() = 0;

  // For `-h`: the names of the tool's static plugins (always active), and
  // whether it loads `-plugin lib.so` QEMU plugins.
  virtual std::vector<std::string> built_in_plugins() const { return {}; }
  virtual bool loads_so_plugins() const { return true; }
};

// Plugin output, as qemu_plugin_outs: written to the -D file (else stderr)
// when `-d plugin` is given, dropped otherwise.
void outs(std::string_view text);

// Runs the program named on the command line (qemu-x86_64's syntax, see
// `qplug -h`) under `tool`; returns only on errors before the guest starts
// (the guest's exit ends the process with its status).
int run_tool(int argc, char** argv, Tool& tool);

}  // namespace qplug
