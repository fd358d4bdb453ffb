// QemuPlugins: the QEMU plugin host as one static plugin of a list
// (qplug/qemu_plugins.h). Each hook forwards to the registry's callbacks.
#include "qplug/qemu_plugins.h"

#include <cstdlib>

#include "qemu/plugin_host.h"
#include "runtime/runtime.h"
#include "runtime/tb_impl.h"

namespace qplug {

Result<void> QemuPlugins::load_dynamic(const std::vector<PluginSpec>& specs) {
  std::vector<cli::PluginSpec> cli_specs;
  for (const PluginSpec& s : specs) cli_specs.push_back({s.path, s.args});
  runtime::rt().env.plugin_context_tls = qemu::plugin_context_tls_offset();
  runtime::rt().describe_plugin_crash = &qemu::describe_plugin_crash;
  return qemu::load_plugins(cli_specs);
}

bool QemuPlugins::instruments() const { return qemu::active(); }
bool QemuPlugins::watches_syscalls() const { return qemu::active(); }

void QemuPlugins::tb_trans(Tb& tb) {
  qemu::translate_block(detail::impl_of(tb)->insns, *detail::impl_of(tb)->instr);
  // QPLUG_SLOW_CALLBACKS=1 keeps every callback on the callout routine (for
  // measuring the difference, and as a fallback).
  static const bool slow = std::getenv("QPLUG_SLOW_CALLBACKS") != nullptr;
  if (!slow) qemu::lower_fast_callbacks(*detail::impl_of(tb)->instr);
}

void QemuPlugins::vcpu_init(unsigned vcpu) { qemu::vcpu_init(vcpu); }
void QemuPlugins::vcpu_exit(unsigned vcpu) { qemu::vcpu_exit(vcpu); }

SyscallVerdict QemuPlugins::syscall_filter(unsigned vcpu, int64_t num, const SyscallArgs& args,
                                           int64_t* ret) {
  struct Call {
    unsigned vcpu;
    int64_t num;
    const uint64_t* args;
    int64_t* ret;
    bool filtered = false;
  } call{vcpu, num, args, ret};
  // A plugin's set_pc in these callbacks skips the syscall (QEMU's ESETPC).
  if (qemu::run_allowing_set_pc(
          [](void* p) {
            auto& c = *static_cast<Call*>(p);
            qemu::syscall_entry(c.vcpu, c.num, c.args);
            c.filtered = qemu::syscall_filter(c.vcpu, c.num, c.args, c.ret);
          },
          &call))
    return SyscallVerdict::kRedirected;
  return call.filtered ? SyscallVerdict::kFiltered : SyscallVerdict::kRun;
}

void QemuPlugins::vcpu_syscall_ret(unsigned vcpu, int64_t num, int64_t ret) {
  qemu::syscall_return(vcpu, num, ret);
}

void QemuPlugins::vcpu_discon(unsigned vcpu, DisconType type, uint64_t from_pc, uint64_t to_pc) {
  qemu::discon(vcpu, static_cast<int>(type), from_pc, to_pc);
}

void QemuPlugins::flush() { qemu::flushed(); }
void QemuPlugins::at_exit() { qemu::at_exit(); }

}  // namespace qplug
