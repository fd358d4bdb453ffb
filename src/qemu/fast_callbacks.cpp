// Fast QEMU callbacks: an exec or memory callback registered with
// QEMU_PLUGIN_CB_NO_REGS promises not to look at the guest's registers, so it
// does not need the callout routine (every guest register stored, the flags,
// XSAVE of the whole vector state). It becomes a direct call to the callback
// itself, with the plugin context stored around it by the generated code: the
// emitter saves only the caller-saved registers the callback may write, the
// flags where live, and the vector registers it may change (callee analysis).

#include "qemu/plugin_host.h"
#include "qemu/registry.h"
#include "runtime/thread_state.h"

namespace qplug::qemu {
namespace {

void lower(runtime::Action& a) {
  if (a.needs_guest_state) return;
  switch (a.kind) {
    case runtime::ActionKind::kCall:
    case runtime::ActionKind::kCondCall:
      a.kind = a.kind == runtime::ActionKind::kCall ? runtime::ActionKind::kDirectCall
                                                    : runtime::ActionKind::kDirectCondCall;
      // Same registers: (vcpu, userdata) as (vcpu, arg). Cast through a
      // generic function pointer: only the address is used.
      a.direct = reinterpret_cast<runtime::DirectCallback>(reinterpret_cast<void (*)()>(a.fn));
      break;
    case runtime::ActionKind::kMemCall:
      a.kind = runtime::ActionKind::kMemDirectCall;
      a.mem_direct =
          reinterpret_cast<runtime::MemDirectCallback>(reinterpret_cast<void (*)()>(a.mem_fn));
      break;
    default:
      return;
  }
  a.arg = reinterpret_cast<uint64_t>(a.userdata);
  a.qemu_callback = true;
  a.context = a.owner;
}

}  // namespace

void lower_fast_callbacks(runtime::BlockInstrumentation& instr) {
  for (runtime::Action& a : instr.at_entry) lower(a);
  for (auto& point : instr.before_insn)
    for (runtime::Action& a : point) lower(a);
  for (auto& point : instr.mem_of_insn)
    for (runtime::MemAction& m : point) lower(m.action);
}

int64_t plugin_context_tls_offset() { return runtime::tls_offset_of(&running_plugin); }

}  // namespace qplug::qemu
