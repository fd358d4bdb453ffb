// Fast QEMU callbacks: an exec or memory callback registered with
// QEMU_PLUGIN_CB_NO_REGS promises not to look at the guest's registers, so it
// does not need the callout routine (every guest register stored, the flags,
// XSAVE of the whole vector state). It becomes a direct call to a thunk that
// sets the plugin context and calls it: the emitter saves only the SysV
// caller-saved registers, the flags where live, and the vector state only if
// analysing the callback's code cannot rule out that it touches it.
#include <deque>
#include <map>
#include <mutex>
#include <tuple>

#include "qemu/plugin_host.h"
#include "qemu/registry.h"
#include "runtime/thread_state.h"

namespace qplug::qemu {
namespace {

// Thunks: no vector registers, so they add nothing to the callback's needs.
__attribute__((target("general-regs-only"))) void exec_thunk(unsigned vcpu, uint64_t arg) {
  const auto& a = *reinterpret_cast<const runtime::Action*>(arg);
  // Where the block resumes, as the callout routine records it: a reset or
  // uninstall from the callback unlinks this block's exits (at_next_exit).
  runtime::tls_state.callout_return = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  PluginContext* outer = running_plugin;  // the variables, not the accessors: see thread_state.h
  running_plugin = static_cast<PluginContext*>(a.owner);
  a.fn(vcpu, a.userdata);
  running_plugin = outer;
}

__attribute__((target("general-regs-only"))) void mem_thunk(unsigned vcpu, uint32_t info,
                                                            uint64_t vaddr, uint64_t arg) {
  const auto& a = *reinterpret_cast<const runtime::Action*>(arg);
  runtime::ThreadState& ts = runtime::tls_state;
  ts.mem_info = info;  // for qemu_plugin_mem_get_value
  ts.mem_vaddr = vaddr;
  ts.callout_return = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  PluginContext* outer = running_plugin;
  running_plugin = static_cast<PluginContext*>(a.owner);
  a.mem_fn(vcpu, info, vaddr, a.userdata);
  running_plugin = outer;
}

// One stable copy per distinct callback, which translated code points at.
const runtime::Action* stable(const runtime::Action& a) {
  static std::mutex mutex;
  static auto* copies = new std::map<std::tuple<void*, void*, void*>, runtime::Action>;
  void* fn = a.kind == runtime::ActionKind::kMemCall ? reinterpret_cast<void*>(a.mem_fn)
                                                     : reinterpret_cast<void*>(a.fn);
  std::lock_guard guard(mutex);
  return &copies->try_emplace({fn, a.userdata, a.owner}, a).first->second;
}

void lower(runtime::Action& a) {
  if (a.needs_guest_state) return;
  const runtime::Action* copy = stable(a);
  switch (a.kind) {
    case runtime::ActionKind::kCall:
    case runtime::ActionKind::kCondCall:
      a.kind = a.kind == runtime::ActionKind::kCall ? runtime::ActionKind::kDirectCall
                                                    : runtime::ActionKind::kDirectCondCall;
      a.direct = &exec_thunk;
      a.callee = reinterpret_cast<void*>(a.fn);
      break;
    case runtime::ActionKind::kMemCall:
      a.kind = runtime::ActionKind::kMemDirectCall;
      a.mem_direct = &mem_thunk;
      a.callee = reinterpret_cast<void*>(a.mem_fn);
      break;
    default:
      return;
  }
  a.arg = reinterpret_cast<uint64_t>(copy);
}

}  // namespace

void lower_fast_callbacks(runtime::BlockInstrumentation& instr) {
  for (runtime::Action& a : instr.at_entry) lower(a);
  for (auto& point : instr.before_insn)
    for (runtime::Action& a : point) lower(a);
  for (auto& point : instr.mem_of_insn)
    for (runtime::MemAction& m : point) lower(m.action);
}

}  // namespace qplug::qemu
