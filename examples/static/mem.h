// Mem: the static C++ twin of examples/mem.c (QEMU's mem plugin), named
// "mem": counts guest memory accesses per vCPU, with an inline add after each
// access (inline=on) or a direct call (callback=on), and prints what
// libmem.so (API v7) prints:
//   mem accesses: <n>    if inline or callback counting is on
//   io accesses: <n>     if haddr=on (always 0: there is no IO in user mode)
// Arguments as mem.c: inline=, callback= (not both), haddr=, track=r|w|rw.
// print-accesses= and region-summary= need the accessed values, which static
// plugins do not see: they are rejected ("option parsing failed").
#pragma once

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "qplug/plugin_args.h"
#include "qplug/qplug.h"

namespace qplug::examples {

class Mem {
 public:
  static constexpr std::string_view name = "mem";

  Result<void> install(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      auto [key, value] = split_arg(arg);
      std::optional<bool> on = parse_bool(value);
      if (key == "inline" && on) {
        inline_ = *on;
      } else if (key == "callback" && on) {
        callback_ = *on;
      } else if (key == "haddr" && on) {
        haddr_ = *on;
      } else if (key == "track" && (value == "r" || value == "w" || value == "rw")) {
        rw_ = value == "r" ? MemRw::kRead : value == "w" ? MemRw::kWrite : MemRw::kReadWrite;
      } else {
        return bad_plugin_arg(arg);
      }
    }
    if (inline_ && callback_)
      return make_error("can't enable inline and callback counting at the same time");
    self_ = this;
    return {};
  }

  // mem.c instruments nothing when neither count is on (its callbacks only
  // serve print-accesses and region-summary, which this twin lacks).
  bool instruments() const { return inline_ || callback_; }

  void tb_trans(Tb& tb) {
    for (size_t i = 0; i < tb.n_insns(); ++i) {
      qplug::Insn insn = tb.insn(i);
      if (inline_) insn.mem_add(mem_count_, 1, rw_);
      if (callback_) insn.mem_call<&count_access>(0, rw_, {.touches_vector = false});
    }
  }

  void at_exit() {
    std::string out;
    char line[64];
    if (inline_ || callback_) {
      std::snprintf(line, sizeof line, "mem accesses: %" PRIu64 "\n", mem_count_.sum());
      out += line;
    }
    if (haddr_) {
      std::snprintf(line, sizeof line, "io accesses: %" PRIu64 "\n", io_count_.sum());
      out += line;
    }
    outs(out);
  }

 private:
  // No access is IO in user mode (qemu_plugin_hwaddr_is_io is always false),
  // so haddr=on changes nothing here.
  __attribute__((target("general-regs-only"))) static void count_access(unsigned, uint32_t,
                                                                        uint64_t, uint64_t) {
    self_->mem_count_.mine() += 1;
  }

  static inline Mem* self_ = nullptr;
  bool inline_ = false;
  bool callback_ = false;
  bool haddr_ = false;
  MemRw rw_ = MemRw::kReadWrite;
  Counter mem_count_;
  Counter io_count_;
};

}  // namespace qplug::examples
