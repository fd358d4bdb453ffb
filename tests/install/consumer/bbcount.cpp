// bbcount.cpp: the static C++ plugin of docs/writing-plugins.md, built out of tree
// with qplug_add_tool: blocks and instructions, counted inline in per-vCPU TLS rows.
#include <cinttypes>
#include <cstdio>

#include "qplug/plugin_args.h"
#include "qplug/qplug.h"

struct BbCount {
  static constexpr std::string_view name = "bbcount";  // -plugin bbcount,verbose=on
  qplug::Counter blocks, insns;  // one uint64_t per vCPU
  bool verbose = false;

  qplug::Result<void> install(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      auto [key, value] = qplug::split_arg(arg);
      auto on = qplug::parse_bool(value);
      if (key != "verbose" || !on) return qplug::bad_plugin_arg(arg);
      verbose = *on;
    }
    return {};
  }
  void tb_trans(qplug::Tb& tb) {  // at translation: ask for actions
    tb.add(blocks, 1);             // add qword %fs:row+off, 1 (or 5 flag-free insns)
    tb.add(insns, tb.n_insns());
  }
  void at_exit() {
    char line[96];
    std::snprintf(line, sizeof line, "blocks %" PRIu64 ", insns %" PRIu64 "\n", blocks.sum(),
                  insns.sum());
    qplug::outs(line);  // the -D file or stderr, with -d plugin (as qemu_plugin_outs)
  }
};

int main(int argc, char** argv) {
  // qplug's command line; QemuPlugins also loads -plugin lib.so QEMU plugins.
  return qplug::run<qplug::plugin_list<BbCount, qplug::QemuPlugins>>(argc, argv);
}
