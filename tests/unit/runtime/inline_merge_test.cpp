// merge_inline_adds: when it merges, what the entry adds total, and what a
// fault at each instruction takes back.
#include "runtime/inline_merge.h"

#include <doctest/doctest.h>

#include "runtime/thread_state.h"

using namespace qplug::runtime;

namespace {

Action add_to(uint64_t* counter, uint64_t imm) {
  Action a;
  a.kind = ActionKind::kInlineAdd;
  a.slot.fixed = counter;
  a.imm = imm;
  return a;
}

BlockInstrumentation block_of(size_t n) {
  BlockInstrumentation b;
  b.before_insn.resize(n);
  b.mem_of_insn.resize(n);
  return b;
}

const uint16_t kOffsets[] = {0, 3, 7, 9};

}  // namespace

TEST_CASE("per-instruction adds become one add per counter at the entry") {
  uint64_t insns = 0, weighted = 0;
  BlockInstrumentation b = block_of(4);
  Action entry_call;  // a block-entry callback stays first
  b.at_entry.push_back(entry_call);
  for (size_t i = 0; i < 4; ++i) {
    b.before_insn[i].push_back(add_to(&insns, 1));
    b.before_insn[i].push_back(add_to(&weighted, i + 1));
  }
  const std::vector<MergedAdd> merged = merge_inline_adds(b, kOffsets);
  REQUIRE(merged.size() == 2);
  for (const auto& actions : b.before_insn) CHECK(actions.empty());
  REQUIRE(b.at_entry.size() == 3);
  CHECK(b.at_entry[0].kind == ActionKind::kCall);
  CHECK(b.at_entry[1].slot.fixed == &insns);
  CHECK(b.at_entry[1].imm == 4);
  CHECK(b.at_entry[2].slot.fixed == &weighted);
  CHECK(b.at_entry[2].imm == 1 + 2 + 3 + 4);

  // A fault at the instruction at offset 3 (the second): instructions 3 and 4 never ran.
  ThreadState ts{};
  insns = 4;
  weighted = 10;
  undo_merged_adds(merged, 3, ts);
  CHECK(insns == 2);
  CHECK(weighted == 1 + 2);
  // At the last instruction nothing is taken back.
  undo_merged_adds(merged, 9, ts);
  CHECK(insns == 2);
}

TEST_CASE("blocks where something could look between instructions are left alone") {
  uint64_t counter = 0;
  SUBCASE("a callback before an instruction") {
    BlockInstrumentation b = block_of(2);
    b.before_insn[0].push_back(add_to(&counter, 1));
    b.before_insn[1].push_back(add_to(&counter, 1));
    b.before_insn[1].push_back(Action{});  // kCall
    CHECK(merge_inline_adds(b, kOffsets).empty());
    CHECK(b.before_insn[0].size() == 1);
  }
  SUBCASE("a memory action") {
    BlockInstrumentation b = block_of(2);
    b.before_insn[0].push_back(add_to(&counter, 1));
    b.before_insn[1].push_back(add_to(&counter, 1));
    b.mem_of_insn[0].push_back(MemAction{});
    CHECK(merge_inline_adds(b, kOffsets).empty());
    CHECK(b.before_insn[1].size() == 1);
  }
  SUBCASE("a single add: nothing to gain") {
    BlockInstrumentation b = block_of(2);
    b.before_insn[1].push_back(add_to(&counter, 1));
    CHECK(merge_inline_adds(b, kOffsets).empty());
    CHECK(b.before_insn[1].size() == 1);
  }
}
