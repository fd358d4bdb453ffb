// The exported QEMU plugin API, part 1: registration of global callbacks,
// exec-time callbacks and inline operations, lifecycle and vCPUs.
//
// One exported symbol serves every API version: functions that gained a
// userdata argument in v7 take it and ignore it for older plugins (their
// callers leave garbage in that register), and callbacks are later invoked
// with the registering plugin's signature (events.cpp).
#include <cstdio>
#include <cstdlib>

#include "qemu/api.h"
#include "qemu/plugin_host.h"
#include "qemu/registry.h"
#include "runtime/thread_state.h"

using namespace qplug;
using qplug::qemu::Event;
using qplug::qemu::registry;

namespace {

void register_global(uint64_t id, Event e, void* cb, void* userdata, const char* function) {
  qemu::PluginContext& p = registry().get(id, function);
  registry().set(p, e, cb, p.version >= 7 ? userdata : nullptr);
}

// `flags`: qemu_plugin_cb_flags; QEMU_PLUGIN_CB_NO_REGS (0) lets the
// callback run as a direct call without the guest's registers in memory.
runtime::Action callback_action(void* cb, void* userdata, int flags) {
  runtime::Action a;
  a.needs_guest_state = flags != 0;
  a.kind = runtime::ActionKind::kCall;
  a.fn = reinterpret_cast<runtime::VcpuCallback>(cb);
  a.userdata = userdata;
  a.owner = qemu::current_plugin();
  a.runner = &qemu::run_callout;
  return a;
}

runtime::Action inline_action(int op, runtime::SlotRef slot, uint64_t imm) {
  runtime::Action a;
  a.kind = op == 1 ? runtime::ActionKind::kInlineStore : runtime::ActionKind::kInlineAdd;
  a.slot = slot;
  a.imm = imm;
  a.owner = qemu::current_plugin();
  return a;
}

runtime::SlotRef scoreboard_slot(QemuU64 entry) {
  runtime::SlotRef s;
  s.base_holder = &entry.score->data;
  s.cache_slot = entry.score->cache_slot;
  s.stride = entry.score->element_size;
  s.offset = entry.offset;
  return s;
}

runtime::Action cond_action(void* cb, int flags, int cond, QemuU64 entry, uint64_t imm,
                            void* userdata) {
  runtime::Action a = callback_action(cb, userdata, flags);
  a.kind = runtime::ActionKind::kCondCall;
  a.cond = static_cast<runtime::Condition>(cond);
  a.slot = scoreboard_slot(entry);
  a.imm = imm;
  return a;
}

std::vector<runtime::Action>& insn_point(qemu_plugin_insn* insn) {
  return insn->tb->instr->before_insn[insn->index];
}

std::vector<runtime::MemAction>& mem_point(qemu_plugin_insn* insn) {
  return insn->tb->instr->mem_of_insn[insn->index];
}

}  // namespace

extern "C" {

// Reset and uninstall are asynchronous, as in QEMU: at the thread's next exit
// from the code cache every translation is dropped (so no code calls the
// plugin any more), its callbacks are unregistered, `cb` runs, and for
// uninstall the library is closed.
QPLUG_API void qemu_plugin_uninstall(uint64_t id, void* cb, void* userdata) {
  qemu::PluginContext& p = registry().get(id, __func__);
  if (p.installing) {
    std::fprintf(stderr,
                 "qplug: Calling qemu_plugin_uninstall from the install function is a bug. "
                 "Instead, return !0 from the install function.\n");
    std::abort();
  }
  qemu::reset_plugin(p, cb, userdata, /*uninstall=*/true);
}
QPLUG_API void qemu_plugin_reset(uint64_t id, void* cb, void* userdata) {
  qemu::reset_plugin(registry().get(id, __func__), cb, userdata, /*uninstall=*/false);
}

QPLUG_API void qemu_plugin_register_vcpu_init_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kVcpuInit, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_exit_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kVcpuExit, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_idle_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kVcpuIdle, cb, userdata, __func__);  // never fires in user mode
}
QPLUG_API void qemu_plugin_register_vcpu_resume_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kVcpuResume, cb, userdata, __func__);  // never fires in user mode
}
QPLUG_API void qemu_plugin_register_vcpu_discon_cb(uint64_t id, int type, void* cb,
                                                   void* userdata) {
  // Types not named keep what was registered for them, as in QEMU.
  if (type & 1) register_global(id, Event::kDisconInterrupt, cb, userdata, __func__);
  if (type & 2) register_global(id, Event::kDisconException, cb, userdata, __func__);
  if (type & 4) register_global(id, Event::kDisconHostcall, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_tb_trans_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kTbTrans, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_syscall_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kSyscall, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_syscall_ret_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kSyscallRet, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_vcpu_syscall_filter_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kSyscallFilter, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_flush_cb(uint64_t id, void* cb, void* userdata) {
  register_global(id, Event::kFlush, cb, userdata, __func__);
}
QPLUG_API void qemu_plugin_register_atexit_cb(uint64_t id, void* cb, void* userdata) {
  // The userdata argument exists in every version; only the callback's shape changed in v7.
  qemu::PluginContext& p = registry().get(id, __func__);
  registry().set(p, Event::kAtexit, cb, userdata);
}

QPLUG_API void qemu_plugin_vcpu_for_each(uint64_t id, void* cb, void* userdata) {
  qemu::PluginContext& p = registry().get(id, __func__);
  qemu::ScopedPlugin running(&p);
  for (unsigned vcpu = 0; vcpu < qemu::num_vcpus(); ++vcpu) {
    if (p.version >= 7)
      reinterpret_cast<void (*)(unsigned, void*)>(cb)(vcpu, userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned)>(cb)(id, vcpu);
  }
}

// ---- exec-time registrations (valid only inside a tb_trans callback) ----

QPLUG_API void qemu_plugin_register_vcpu_tb_exec_cb(qemu_plugin_tb* tb, void* cb, int flags,
                                                    void* userdata) {
  tb->instr->at_entry.push_back(callback_action(cb, userdata, flags));
}
QPLUG_API void qemu_plugin_register_vcpu_tb_exec_cond_cb(qemu_plugin_tb* tb, void* cb, int flags,
                                                         int cond, QemuU64 entry, uint64_t imm,
                                                         void* userdata) {
  tb->instr->at_entry.push_back(cond_action(cb, flags, cond, entry, imm, userdata));
}
QPLUG_API void qemu_plugin_register_vcpu_tb_exec_inline(qemu_plugin_tb* tb, int op, void* ptr,
                                                        uint64_t imm) {
  runtime::SlotRef slot;
  slot.fixed = static_cast<uint64_t*>(ptr);
  tb->instr->at_entry.push_back(inline_action(op, slot, imm));
}
QPLUG_API void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(qemu_plugin_tb* tb, int op,
                                                                 QemuU64 entry, uint64_t imm) {
  tb->instr->at_entry.push_back(inline_action(op, scoreboard_slot(entry), imm));
}
QPLUG_API void qemu_plugin_register_vcpu_insn_exec_cb(qemu_plugin_insn* insn, void* cb, int flags,
                                                      void* userdata) {
  insn_point(insn).push_back(callback_action(cb, userdata, flags));
}
QPLUG_API void qemu_plugin_register_vcpu_insn_exec_cond_cb(qemu_plugin_insn* insn, void* cb,
                                                           int flags, int cond, QemuU64 entry,
                                                           uint64_t imm, void* userdata) {
  insn_point(insn).push_back(cond_action(cb, flags, cond, entry, imm, userdata));
}
QPLUG_API void qemu_plugin_register_vcpu_insn_exec_inline(qemu_plugin_insn* insn, int op, void* ptr,
                                                          uint64_t imm) {
  runtime::SlotRef slot;
  slot.fixed = static_cast<uint64_t*>(ptr);
  insn_point(insn).push_back(inline_action(op, slot, imm));
}
QPLUG_API void qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(qemu_plugin_insn* insn, int op,
                                                                   QemuU64 entry, uint64_t imm) {
  insn_point(insn).push_back(inline_action(op, scoreboard_slot(entry), imm));
}
QPLUG_API void qemu_plugin_register_vcpu_mem_cb(qemu_plugin_insn* insn, void* cb, int flags, int rw,
                                                void* userdata) {
  runtime::Action a = callback_action(nullptr, userdata, flags);
  a.kind = runtime::ActionKind::kMemCall;
  a.mem_fn = reinterpret_cast<runtime::MemCallback>(cb);
  mem_point(insn).push_back({a, static_cast<uint8_t>(rw)});
}
QPLUG_API void qemu_plugin_register_vcpu_mem_inline(qemu_plugin_insn* insn, int rw, int op,
                                                    void* ptr, uint64_t imm) {
  runtime::SlotRef slot;
  slot.fixed = static_cast<uint64_t*>(ptr);
  mem_point(insn).push_back({inline_action(op, slot, imm), static_cast<uint8_t>(rw)});
}
QPLUG_API void qemu_plugin_register_vcpu_mem_inline_per_vcpu(qemu_plugin_insn* insn, int rw, int op,
                                                             QemuU64 entry, uint64_t imm) {
  mem_point(insn).push_back(
      {inline_action(op, scoreboard_slot(entry), imm), static_cast<uint8_t>(rw)});
}

// ---- vCPUs ----

QPLUG_API int qemu_plugin_n_vcpus() { return -1; }      // v1: -1 in user mode
QPLUG_API int qemu_plugin_n_max_vcpus() { return -1; }  // v1: -1 in user mode
QPLUG_API int qemu_plugin_num_vcpus() { return static_cast<int>(qemu::num_vcpus()); }

QPLUG_API void qemu_plugin_set_pc(uint64_t vaddr) { qemu::set_pc(vaddr); }

}  // extern "C"
