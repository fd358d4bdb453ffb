// The control: every rule above satisfied, so this must compile (if it did
// not, the compile_fail tests would pass for the wrong reason).
#include "qplug/qplug.h"
void count(unsigned, uint64_t) {}
struct Good {
  static constexpr std::string_view name = "good";
  qplug::Counter blocks;
  void vcpu_init(unsigned) {}
  void tb_trans(qplug::Tb& tb) {
    tb.add(blocks, 1);
    tb.call<&count>(1);
  }
  void at_exit() {}
};
struct Filter {
  qplug::SyscallVerdict syscall_filter(unsigned, int64_t, const qplug::SyscallArgs&, int64_t*) {
    return qplug::SyscallVerdict::kRun;
  }
};
qplug::plugin_list<Good, Filter> list;  // QemuPlugins filters syscalls itself
qplug::plugin_list<Good, qplug::QemuPlugins> with_so_plugins;
void fire() {
  list.fire<qplug::Atexit>();
  with_so_plugins.fire<qplug::VcpuInit>(0u);
}
