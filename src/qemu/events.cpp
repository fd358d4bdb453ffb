// Event dispatch: calls each plugin's callbacks with the signature of the API
// version the plugin was built for (docs/abi.md, "Struct layouts by version").
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "qemu/plugin_host.h"
#include "qemu/registry.h"
#include "runtime/thread_state.h"

namespace qplug::qemu {
namespace {

constexpr int kUserdataVersion = 7;  // v7 passes userdata to every callback and drops the id

bool v7(const PluginContext* p) { return p->version >= kUserdataVersion; }

template <class Fn>
void each(Event e, Fn&& fn) {
  // A snapshot: a callback may register or unregister callbacks. While the
  // thread is in plugin code, no plugin is unloaded (reset_plugin).
  auto& ts = runtime::current_thread();
  __atomic_add_fetch(&ts.in_plugin_events, 1, __ATOMIC_ACQ_REL);
  for (const auto& [p, cb] : registry().snapshot(e)) {
    if (!cb.fn || p->crashed) continue;
    ScopedPlugin running(p);
    fn(p, cb);
  }
  __atomic_sub_fetch(&ts.in_plugin_events, 1, __ATOMIC_ACQ_REL);
}

// Where qemu_plugin_set_pc unwinds to: the innermost callback invocation
// that allows it (exec callbacks and syscall callbacks).
thread_local std::jmp_buf* set_pc_target = nullptr;

}  // namespace

bool run_allowing_set_pc(void (*body)(void*), void* arg) {
  std::jmp_buf here;
  std::jmp_buf* outer = set_pc_target;
  PluginContext* running = current_plugin();
  auto& ts = runtime::current_thread();
  const uint32_t events = ts.in_plugin_events;
  set_pc_target = &here;
  if (setjmp(here) != 0) {  // set_pc: runtime::ThreadState::rip already holds the new pc
    set_pc_target = outer;
    restore_current_plugin(running);
    __atomic_store_n(&ts.in_plugin_events, events, __ATOMIC_RELEASE);  // longjmp skipped each()'s
    return true;
  }
  body(arg);
  set_pc_target = outer;
  return false;
}

void set_pc(uint64_t vaddr) {
  if (!set_pc_target) {
    std::fprintf(stderr, "qplug: qemu_plugin_set_pc called outside an exec or syscall callback\n");
    std::exit(1);
  }
  runtime::current_thread().rip = vaddr;
  std::longjmp(*set_pc_target, 1);
}

void translate_block(std::span<const x86_64::DecodedInsn> insns,
                     runtime::BlockInstrumentation& instr) {
  qemu_plugin_tb tb{insns, {}, &instr};
  tb.handles.reserve(insns.size());
  for (size_t i = 0; i < insns.size(); ++i) tb.handles.push_back({&insns[i], i, &tb});
  instr.before_insn.resize(insns.size());
  instr.mem_of_insn.resize(insns.size());
  each(Event::kTbTrans, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(qemu_plugin_tb*, void*)>(cb.fn)(&tb, cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, qemu_plugin_tb*)>(cb.fn)(p->id, &tb);
  });
}

void vcpu_init(unsigned vcpu) {
  attach_scoreboards(runtime::current_thread());  // on the new vCPU's thread, before it runs
  each(Event::kVcpuInit, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(unsigned, void*)>(cb.fn)(vcpu, cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned)>(cb.fn)(p->id, vcpu);
  });
}

void vcpu_exit(unsigned vcpu) {
  each(Event::kVcpuExit, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(unsigned, void*)>(cb.fn)(vcpu, cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned)>(cb.fn)(p->id, vcpu);
  });
}

void syscall_entry(unsigned vcpu, int64_t num, const uint64_t a[8]) {
  each(Event::kSyscall, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(unsigned, int64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                uint64_t, uint64_t, uint64_t, void*)>(cb.fn)(
          vcpu, num, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned, int64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                uint64_t, uint64_t, uint64_t, uint64_t)>(cb.fn)(
          p->id, vcpu, num, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  });
}

bool syscall_filter(unsigned vcpu, int64_t num, const uint64_t a[8], int64_t* sysret) {
  bool filtered = false;
  each(Event::kSyscallFilter, [&](PluginContext* p, const Callback& cb) {
    if (filtered) return;  // the first filter that returns true stops the iteration
    if (v7(p))
      filtered =
          reinterpret_cast<bool (*)(unsigned, int64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                    uint64_t, uint64_t, uint64_t, uint64_t, int64_t*, void*)>(
              cb.fn)(vcpu, num, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], sysret,
                     cb.userdata);
    else
      filtered =
          reinterpret_cast<bool (*)(uint64_t, unsigned, int64_t, uint64_t, uint64_t, uint64_t,
                                    uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, int64_t*)>(
              cb.fn)(p->id, vcpu, num, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], sysret);
  });
  return filtered;
}

void syscall_return(unsigned vcpu, int64_t num, int64_t ret) {
  each(Event::kSyscallRet, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(unsigned, int64_t, int64_t, void*)>(cb.fn)(vcpu, num, ret,
                                                                           cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned, int64_t, int64_t)>(cb.fn)(p->id, vcpu, num,
                                                                              ret);
  });
}

void discon(unsigned vcpu, int type, uint64_t from_pc, uint64_t to_pc) {
  const Event e = type == 1   ? Event::kDisconInterrupt
                  : type == 2 ? Event::kDisconException
                              : Event::kDisconHostcall;
  each(e, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(unsigned, int, uint64_t, uint64_t, void*)>(cb.fn)(
          vcpu, type, from_pc, to_pc, cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, unsigned, int, uint64_t, uint64_t)>(cb.fn)(
          p->id, vcpu, type, from_pc, to_pc);
  });
}

void flushed() {
  each(Event::kFlush, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(void*)>(cb.fn)(cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t)>(cb.fn)(p->id);
  });
}

void at_exit() {
  // Called once: runtime::finish_tool guards it (a plugin may call exit() from its atexit).
  // QEMU unregisters every other callback first.
  each(Event::kAtexit, [&](PluginContext* p, const Callback& cb) {
    if (v7(p))
      reinterpret_cast<void (*)(void*)>(cb.fn)(cb.userdata);
    else
      reinterpret_cast<void (*)(uint64_t, void*)>(cb.fn)(p->id, cb.userdata);
  });
}

int run_callout(const runtime::Action& action) {
  return run_allowing_set_pc([](void* p) { run_action(p); }, const_cast<runtime::Action*>(&action))
             ? 1
             : 0;
}

void run_action(const void* action_ptr) {
  const auto& a = *static_cast<const runtime::Action*>(action_ptr);
  runtime::ThreadState& ts = runtime::current_thread();
  const auto vcpu = static_cast<unsigned>(ts.vcpu_index);
  if (a.kind == runtime::ActionKind::kMemCall) {
    ts.mem_info = a.mem_info;
    ts.mem_vaddr = ts.mem_addr[a.mem_slot];
    ScopedPlugin running(static_cast<PluginContext*>(a.owner));
    a.mem_fn(vcpu, a.mem_info, ts.mem_vaddr, a.userdata);
    return;
  }
  // kCondCall: the translated code tested the condition before calling out.
  ScopedPlugin running(static_cast<PluginContext*>(a.owner));
  a.fn(vcpu, a.userdata);
}

}  // namespace qplug::qemu
