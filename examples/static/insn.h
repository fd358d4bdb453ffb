// InsnCount: the static C++ twin of examples/insn.c (QEMU's insn plugin),
// named "insn": counts executed instructions per vCPU, with an inline add
// before each instruction (inline=on) or a direct call, and prints what
// libinsn.so (API v7) prints:
//   cpu <n> insns: <count>            for each vCPU
//   total insns: <count>
//   len <n> bytes: <count> insns      with sizes=on (translated instructions)
//   Match: <prefix>, hits <count>     for each match=PREFIX, then its records
// match= and trace= behave as in insn.c (records created at translation,
// "Created record for: ..." lines, a trace line per matched execution).
#pragma once

#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "qplug/plugin_args.h"
#include "qplug/qplug.h"

namespace qplug::examples {

class InsnCount {
 public:
  static constexpr std::string_view name = "insn";

  Result<void> install(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      auto [key, value] = split_arg(arg);
      std::optional<bool> on = parse_bool(value);
      if (key == "inline" && on)
        inline_ = *on;
      else if (key == "sizes" && on)
        sizes_ = *on;
      else if (key == "trace" && on)
        trace_ = *on;
      else if (key == "match" && arg.find('=') != std::string::npos)
        matches_.push_back(std::make_unique<Match>(std::string(value)));
      else
        return bad_plugin_arg(arg);
    }
    self_ = this;
    return {};
  }

  void tb_trans(Tb& tb) {
    for (size_t i = 0; i < tb.n_insns(); ++i) {
      qplug::Insn insn = tb.insn(i);
      if (inline_)
        insn.add(count_, 1);
      else
        insn.call<&count_one>(0, {.touches_vector = false});
      if (sizes_) {
        std::lock_guard guard(lock_);
        if (insn.size() >= sizes_seen_.size()) sizes_seen_.resize(insn.size() + 1);
        ++sizes_seen_[insn.size()];
      }
      if (!matches_.empty()) instrument_matches(insn);
    }
  }

  void at_exit() {
    std::string out;
    for (unsigned v = 0; v < vcpu_count(); ++v)
      append(out, "cpu %u insns: %" PRIu64 "\n", v, count_.get(v));
    append(out, "total insns: %" PRIu64 "\n", count_.sum());
    if (sizes_) {
      for (size_t len = 0; len < sizes_seen_.size(); ++len)
        if (sizes_seen_[len]) append(out, "len %zu bytes: %lu insns\n", len, sizes_seen_[len]);
    }
    for (const auto& m : matches_) {
      uint64_t hits = 0;
      for (unsigned v = 0; v < vcpu_count(); ++v) hits += m->counts.get(v).hits;
      append(out, "Match: %s, hits %" PRIu64 "\n", m->prefix.c_str(), hits);
      for (const auto& [vaddr, rec] : m->records)  // ordered by address
        append(out, "  %" PRIx64 ": %s (hits %" PRIu64 ")\n", vaddr, rec.disas.c_str(), rec.hits);
    }
    outs(out);
  }

 private:
  struct MatchCount {
    uint64_t hits;
    uint64_t last_hit;
    uint64_t total_delta;
  };
  struct Match;
  struct Record {
    Match* match;
    uint64_t vaddr;
    uint64_t hits;
    std::string disas;
  };
  struct Match {
    explicit Match(std::string p) : prefix(std::move(p)) {}
    std::string prefix;
    std::map<uint64_t, Record> records;  // by vaddr; nodes stay put
    PerVcpu<MatchCount> counts;
  };

  template <class... A>
  static void append(std::string& out, const char* format, A... args) {
    char line[512];
    std::snprintf(line, sizeof line, format, args...);
    out += line;
  }

  void instrument_matches(qplug::Insn& insn) {
    const std::string disas = insn.disas();
    const uint64_t vaddr = insn.vaddr();
    for (const auto& m : matches_) {
      if (!disas.starts_with(m->prefix)) continue;
      Record* rec;
      {
        std::lock_guard guard(lock_);
        auto [it, fresh] = m->records.try_emplace(vaddr, Record{m.get(), vaddr, 0, disas});
        rec = &it->second;
        if (fresh) {
          std::string msg;
          append(msg, "Created record for: %" PRIx64 " %s\n", vaddr, disas.c_str());
          outs(msg);
        }
      }
      // Re-translations call the same record again, as insn.c does.
      insn.call<&matched>(reinterpret_cast<uint64_t>(rec));
    }
  }

  __attribute__((target("general-regs-only"))) static void count_one(unsigned, uint64_t) {
    self_->count_.mine() += 1;
  }

  static void matched(unsigned vcpu, uint64_t arg) {
    auto* rec = reinterpret_cast<Record*>(arg);
    MatchCount& mc = rec->match->counts.mine();
    const uint64_t icount = self_->count_.mine();
    const uint64_t delta = icount - mc.last_hit;
    rec->hits++;
    mc.hits++;
    mc.total_delta += delta;
    mc.last_hit = icount;
    if (!self_->trace_) return;
    std::string ts;
    append(ts, "0x%" PRIx64 ", '%s', %" PRIu64 " hits", rec->vaddr, rec->disas.c_str(), rec->hits);
    append(ts, " , cpu %u, %" PRIu64 " match hits", vcpu, mc.hits);
    append(ts, ", \u0394+%" PRIu64 " since last match", delta);
    append(ts, ", %" PRIu64 " avg insns/match\n", mc.total_delta / mc.hits);
    outs(ts);
  }

  static inline InsnCount* self_ = nullptr;
  bool inline_ = false;
  bool sizes_ = false;
  bool trace_ = false;
  std::mutex lock_;  // sizes_seen_ and the match records
  std::vector<unsigned long> sizes_seen_;
  std::vector<std::unique_ptr<Match>> matches_;
  Counter count_;
};

}  // namespace qplug::examples
