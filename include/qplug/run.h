// qplug/run.h: a complete qplug-like tool from a compile-time plugin list.
//
//   #include <qplug/qplug.h>
//   int main(int argc, char** argv) {
//     return qplug::run<qplug::plugin_list<Drcov, BbCount, qplug::QemuPlugins>>(argc, argv);
//   }
//
// gives a program with qplug's command line (`mytool [options] PROGRAM ARGS`)
// that runs PROGRAM with Drcov and BbCount, and loads `-plugin lib.so` QEMU
// plugins too because QemuPlugins (the .so host) is in the list.
// `-plugin NAME,k=v` configures the static plugin whose `name` is NAME.
#pragma once

#include <string>
#include <vector>

#include "qplug/plugin_list.h"
#include "qplug/tool.h"
#include "qplug/translation.h"

namespace qplug {

namespace detail {

// The engine's view of a plugin list: every virtual is one fold over it.
template <class List>
class ListTool;

template <class... P>
class ListTool<plugin_list<P...>> final : public Tool {
  using List = plugin_list<P...>;

 public:
  explicit ListTool(List& list) : list_(list) {}

  Result<void> install(const std::vector<PluginSpec>& specs) override {
    std::vector<bool> claimed(specs.size(), false);
    Result<void> status;
    list_.for_each([&](auto& plugin) {
      using Plugin = std::remove_reference_t<decltype(plugin)>;
      if (!status) return;
      std::vector<std::string> args;
      constexpr std::string_view name = name_of<Plugin>();
      for (size_t i = 0; i < specs.size(); ++i) {
        if (name.empty() || specs[i].path != name) continue;
        claimed[i] = true;
        args.insert(args.end(), specs[i].args.begin(), specs[i].args.end());
      }
      if constexpr (has_hook<Plugin, Install>) status = Install::invoke(plugin, args);
    });
    if (!status) return status;
    std::vector<PluginSpec> rest;
    for (size_t i = 0; i < specs.size(); ++i)
      if (!claimed[i]) rest.push_back(specs[i]);
    if constexpr (List::template any<LoadDynamic>) {
      list_.for_each([&](auto& plugin) {
        if constexpr (has_hook<std::remove_reference_t<decltype(plugin)>, LoadDynamic>)
          status = LoadDynamic::invoke(plugin, rest);
      });
    } else if (!rest.empty()) {
      return make_error("qplug: -plugin " + rest.front().path +
                        ": no static plugin of that name, and this tool loads no .so plugins");
    }
    return status;
  }

  bool instruments() const override {
    bool any = false;
    const_cast<List&>(list_).for_each([&](auto& plugin) {
      using Plugin = std::remove_reference_t<decltype(plugin)>;
      if constexpr (has_hook<Plugin, VcpuTbTrans>) {
        if constexpr (requires { plugin.instruments(); })
          any = any || plugin.instruments();
        else
          any = true;
      }
    });
    return any;
  }

  bool watches_syscalls() const override {
    bool any = false;
    const_cast<List&>(list_).for_each([&](auto& plugin) {
      using Plugin = std::remove_reference_t<decltype(plugin)>;
      if constexpr (has_hook<Plugin, VcpuSyscall> || has_hook<Plugin, VcpuSyscallRet> ||
                    has_hook<Plugin, SyscallFilter>) {
        if constexpr (requires { plugin.watches_syscalls(); })
          any = any || plugin.watches_syscalls();
        else
          any = true;
      }
    });
    return any;
  }

  void tb_trans(Tb& tb) override { list_.template fire<VcpuTbTrans>(tb); }
  void vcpu_init(unsigned vcpu) override { list_.template fire<VcpuInit>(vcpu); }
  void vcpu_exit(unsigned vcpu) override { list_.template fire<VcpuExit>(vcpu); }

  SyscallVerdict syscall(unsigned vcpu, int64_t num, const SyscallArgs& args,
                         int64_t* ret) override {
    list_.template fire<VcpuSyscall>(vcpu, num, args);
    SyscallVerdict verdict = SyscallVerdict::kRun;
    if constexpr (List::template any<SyscallFilter>) {
      list_.for_each([&](auto& plugin) {
        if constexpr (has_hook<std::remove_reference_t<decltype(plugin)>, SyscallFilter>)
          verdict = SyscallFilter::invoke(plugin, vcpu, num, args, ret);
      });
    }
    return verdict;
  }

  void syscall_ret(unsigned vcpu, int64_t num, int64_t ret) override {
    list_.template fire<VcpuSyscallRet>(vcpu, num, ret);
  }
  void discon(unsigned vcpu, DisconType type, uint64_t from_pc, uint64_t to_pc) override {
    list_.template fire<VcpuDiscon>(vcpu, type, from_pc, to_pc);
  }
  void flush() override { list_.template fire<Flush>(); }
  void at_exit() override { list_.template fire<Atexit>(); }

  std::vector<std::string> built_in_plugins() const override {
    std::vector<std::string> names;
    const_cast<List&>(list_).for_each([&](auto& plugin) {
      constexpr std::string_view name = name_of<std::remove_reference_t<decltype(plugin)>>();
      if (!name.empty()) names.emplace_back(name);
    });
    return names;
  }
  bool loads_so_plugins() const override { return List::template any<LoadDynamic>; }

 private:
  List& list_;
};

}  // namespace detail

// Runs the program on the command line under the plugins of List (each
// default-constructed, in a static so that atexit reports can run late).
template <class List>
int run(int argc, char** argv) {
  static List list;
  static detail::ListTool<List> tool(list);
  return run_tool(argc, argv, tool);
}

// The same with a list the caller built (and keeps alive).
template <class List>
int run(List& list, int argc, char** argv) {
  static detail::ListTool<List> tool(list);
  return run_tool(argc, argv, tool);
}

}  // namespace qplug
