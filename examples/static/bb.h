// Bb: the static C++ twin of examples/bb.c (QEMU's bb plugin): counts blocks
// and instructions per vCPU, inline (inline=on: two inline adds per block) or
// with a direct call per block, and prints what libbb.so prints.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <string>

#include "qplug/plugin_args.h"
#include "qplug/qplug.h"

namespace qplug::examples {

class Bb {
 public:
  static constexpr std::string_view name = "bb";

  Result<void> install(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      auto [key, value] = split_arg(arg);
      std::optional<bool> on = parse_bool(value);
      if (key == "inline" && on)
        inline_ = *on;
      else if (key == "idle" && on)
        continue;  // user mode never idles
      else
        return bad_plugin_arg(arg);
    }
    self_ = this;
    return {};
  }

  void tb_trans(Tb& tb) {
    if (inline_) {
      tb.add(blocks_, 1);
      tb.add(insns_, tb.n_insns());
    } else {
      // A direct call that touches only general registers: no flags or
      // vector state saved for it.
      tb.call<&count_block>(tb.n_insns(), {.touches_vector = false});
    }
  }

  void at_exit() {
    std::string report;
    char line[128];
    for (unsigned v = 0; v < vcpu_count(); ++v) {
      if (!blocks_.get(v)) continue;
      std::snprintf(line, sizeof line, "CPU%u: bb's: %" PRIu64 ", insns: %" PRIu64 "\n", v,
                    blocks_.get(v), insns_.get(v));
      report += line;
    }
    std::snprintf(line, sizeof line, "Total: bb's: %" PRIu64 ", insns: %" PRIu64 "\n",
                  blocks_.sum(), insns_.sum());
    report += line;
    outs(report);
  }

 private:
  __attribute__((target("general-regs-only"))) static void count_block(unsigned, uint64_t n_insns) {
    self_->blocks_.mine() += 1;
    self_->insns_.mine() += n_insns;
  }

  static inline Bb* self_ = nullptr;
  bool inline_ = false;
  Counter blocks_;
  Counter insns_;
};

}  // namespace qplug::examples
