// qplug/qemu_plugins.h: the QEMU plugin host as one static plugin.
//
// QemuPlugins loads the `-plugin lib.so,args` options that name no static
// plugin of the list as unmodified QEMU TCG plugins (API versions 1 to 7) and
// forwards every event to them with the signature of the API version each
// plugin was built for. `qplug` itself is run<plugin_list<QemuPlugins>>.
//
// A tool that lists it must export the QEMU plugin API to the .so files: link
// it with qplug_add_tool() (CMake), which adds the dynamic symbol list.
#pragma once

#include <string>
#include <vector>

#include "qplug/events.h"
#include "qplug/translation.h"

namespace qplug {

class QemuPlugins {
 public:
  // Plugins may redirect the guest (qemu_plugin_set_pc) and filter syscalls.
  using claims = qplug::claims<resource::ProgramCounter>;

  Result<void> load_dynamic(const std::vector<PluginSpec>& specs);
  bool instruments() const;  // a plugin is loaded
  bool watches_syscalls() const;
  void tb_trans(Tb& tb);
  void vcpu_init(unsigned vcpu_index);
  void vcpu_exit(unsigned vcpu_index);
  SyscallVerdict syscall_filter(unsigned vcpu_index, int64_t num, const SyscallArgs& args,
                                int64_t* ret);
  void vcpu_syscall_ret(unsigned vcpu_index, int64_t num, int64_t ret);
  void vcpu_discon(unsigned vcpu_index, DisconType type, uint64_t from_pc, uint64_t to_pc);
  void flush();
  void at_exit();
};

}  // namespace qplug
