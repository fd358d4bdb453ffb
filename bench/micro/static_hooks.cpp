// The hook plugin (hook_plugin.c) as a static C++ plugin, for measuring a
// static plugin against the same plugin built as a .so: same hook kinds, same
// report ("hook_plugin: hook=KIND count=N"), run as
//
//   qplug_bench_static -d plugin -plugin hook,hook=KIND PROGRAM
//
// Callbacks are direct calls to functions that use general registers only
// (touches_vector = false), as a static plugin's author would write them.
// mem-cb-value has no static counterpart (static plugins see addresses, not
// values) and is refused.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <string_view>

#include "qplug/plugin_args.h"
#include "qplug/qplug.h"

namespace {

// The same callback bodies as hook_plugin.c's (a plain counter), so that the
// comparison is of the way they are called.
uint64_t g_calls;

__attribute__((target("general-regs-only"))) void on_exec(unsigned, uint64_t) { g_calls++; }
__attribute__((target("general-regs-only"))) void on_mem(unsigned, uint32_t, uint64_t, uint64_t) {
  g_calls++;
}

constexpr qplug::CallOptions kGeneralOnly{.touches_vector = false};

class StaticHooks {
 public:
  static constexpr std::string_view name = "hook";

  qplug::Result<void> install(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      auto [key, value] = qplug::split_arg(arg);
      if (key != "hook" || !known(value)) return qplug::bad_plugin_arg(arg);
      kind_ = value;
    }
    return {};  // no -plugin hook,...: the tool runs as plain qplug (the baseline)
  }
  bool instruments() const { return !kind_.empty() && kind_ != "syscall-cb"; }
  bool watches_syscalls() const { return kind_ == "syscall-cb"; }

  void tb_trans(qplug::Tb& tb) {
    if (kind_ == "tb-inline-add") return tb.add(count_, 1);
    if (kind_ == "tb-inline-store") return tb.store(count_, 1);
    if (kind_ == "tb-cb") return tb.call<&on_exec>(0, kGeneralOnly);
    if (kind_ == "tb-cond-taken" || kind_ == "tb-cond-not-taken")
      return tb.call_if(zero_, kind_ == "tb-cond-taken" ? qplug::Cond::kEq : qplug::Cond::kNe, 0,
                        &on_exec, 0, kGeneralOnly);
    for (size_t i = 0; i < tb.n_insns(); ++i) {
      qplug::Insn insn = tb.insn(i);
      if (kind_ == "insn-inline-add") insn.add(count_, 1);
      if (kind_ == "insn-cb") insn.call<&on_exec>(0, kGeneralOnly);
      if (kind_ == "insn-cond-taken" || kind_ == "insn-cond-not-taken")
        insn.call_if(zero_, kind_ == "insn-cond-taken" ? qplug::Cond::kEq : qplug::Cond::kNe, 0,
                     &on_exec, 0, kGeneralOnly);
      if (kind_ == "mem-cb") insn.mem_call<&on_mem>(0, qplug::MemRw::kReadWrite, kGeneralOnly);
    }
  }

  void vcpu_syscall(unsigned, int64_t, const qplug::SyscallArgs&) {
    if (kind_ == "syscall-cb") g_calls++;
  }

  void at_exit() {
    if (kind_.empty()) return;
    const bool inline_count = kind_.find("inline") != std::string::npos;
    char line[128];
    std::snprintf(line, sizeof line, "hook_plugin: hook=%s count=%" PRIu64 "\n", kind_.c_str(),
                  inline_count ? count_.sum() : g_calls);
    qplug::outs(line);
  }

 private:
  static bool known(std::string_view kind) {
    for (std::string_view k : {"trans", "tb-inline-add", "tb-inline-store", "insn-inline-add",
                               "tb-cond-taken", "tb-cond-not-taken", "insn-cond-taken",
                               "insn-cond-not-taken", "tb-cb", "insn-cb", "mem-cb", "syscall-cb"})
      if (kind == k) return true;
    return false;
  }

  std::string kind_;
  qplug::Counter count_, zero_;
};

}  // namespace

int main(int argc, char** argv) { return qplug::run<qplug::plugin_list<StaticHooks>>(argc, argv); }
