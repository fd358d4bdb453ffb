// The QEMU plugin host: loads unmodified QEMU TCG plugin .so files (API
// versions 1 to 7) and turns their registrations into qplug events and
// instrumentation. Split as QEMU splits it: loader (plugin_loader.cpp),
// registry (registry.cpp), and the exported C API (api_*.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cli/options.h"
#include "qplug/result.h"
#include "runtime/instrumentation.h"
#include "x86_64/decoder.h"

namespace qplug::qemu {

// Loads and installs every -plugin in command-line order (docs/abi.md, "Plugin entry points").
// Errors carry QEMU's wording: "qplug: Could not load plugin <path>: ...".
Result<void> load_plugins(const std::vector<cli::PluginSpec>& specs);

// A fault at host `pc` in a plugin's code (its library, or anything it called
// while running on this thread): one line naming the plugin and the function,
// e.g. "plugin ./libcrash.so crashed in vcpu_insn_exec (libcrash.so+0x1139)",
// and the plugin is marked so that none of its callbacks runs again (the
// others' exit callbacks still run). Empty if no plugin was running there.
// Called from the fault handler: allocates, but takes no lock.
std::string describe_plugin_crash(const void* pc);

// True once at least one plugin is installed.
bool active();

// Runs the tb_trans callbacks for a decoded block; the plugins' exec-time
// registrations land in `instr`.
void translate_block(std::span<const x86_64::DecodedInsn> insns,
                     runtime::BlockInstrumentation& instr);

// Events.
void vcpu_init(unsigned vcpu_index);
void vcpu_exit(unsigned vcpu_index);  // a thread's exit(2) while others remain
void syscall_entry(unsigned vcpu_index, int64_t num, const uint64_t args[8]);
// True if a plugin's filter handled the syscall; *sysret is then its result.
bool syscall_filter(unsigned vcpu_index, int64_t num, const uint64_t args[8], int64_t* sysret);
void syscall_return(unsigned vcpu_index, int64_t num, int64_t ret);
// A discontinuity of qemu_plugin_discon_type `type` (a single bit); the
// guest's registers are readable and writable in the callbacks, as in QEMU.
void discon(unsigned vcpu_index, int type, uint64_t from_pc, uint64_t to_pc);
void flushed();  // after every translation was dropped
void at_exit();  // at exit_group (runtime::finish_tool runs it once); last registered first

// Called by the callout routine (guest state saved) for a callback action.
// Returns 1 when the callback called qemu_plugin_set_pc (ThreadState::rip is
// the new pc and the routine leaves to the dispatcher), else 0.
int run_callout(const runtime::Action& action);
// Turns callbacks that promised not to touch guest registers into direct calls.
void lower_fast_callbacks(runtime::BlockInstrumentation& instr);
// %fs offset of the running-plugin word those direct calls set.
int64_t plugin_context_tls_offset();
void run_action(const void* action);

// Runs `body(arg)` so that qemu_plugin_set_pc inside it unwinds back here:
// returns true if it did (ThreadState::rip is then the new pc).
bool run_allowing_set_pc(void (*body)(void*), void* arg);
[[noreturn]] void set_pc(uint64_t vaddr);

}  // namespace qplug::qemu
