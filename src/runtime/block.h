// Block: one translated guest block (a run of guest instructions ending at a
// control transfer) and the exits through which it leaves the code cache.
#pragma once

#include <cstdint>
#include <forward_list>
#include <memory>
#include <vector>

#include "runtime/inline_merge.h"
#include "runtime/instrumentation.h"

namespace qplug::runtime {

struct Block;

// A direct-branch exit. Its jump (a `jmp rel32`, or the rel32 of a `jcc`)
// points at `slow_path` until the dispatcher links it to the target block;
// unlinking writes `slow_path` back. The rel32 field lies within one 16-byte
// block, so the patch is a single atomic store.
struct ExitStub {
  uint64_t target_pc = 0;
  uint8_t* patch_site = nullptr;  // address of the rel32 field
  uint8_t* slow_path = nullptr;   // code that leaves to the dispatcher (reason kLink)
  Block* owner = nullptr;
  Block* linked_to = nullptr;
  uint8_t* far_trampoline = nullptr;  // jmp [rip+0]; .quad target, for targets beyond rel32
};

// Where the host code of one guest instruction starts, and where the guest's
// registers are at that point, so a fault there can be reported to the guest
// at that instruction with its registers as they were.
struct GuestMark {
  uint32_t host_offset;
  uint16_t guest_offset;         // from Block::guest_pc (a block spans at most a few KiB)
  int8_t scratch = -1;           // register whose guest value is in spill_scratch
  bool r11_spilled : 1 = false;  // guest r11 is in spill_r11
  bool exact : 1 = true;         // only a fault at exactly host_offset is this instruction's
};
static_assert(sizeof(GuestMark) == 8, "one per guest instruction of every block: keep it small");

struct Block {
  uint64_t guest_pc = 0;
  uint64_t guest_end = 0;  // one past the last guest byte translated
  uint32_t n_insns = 0;
  uint8_t* host_code = nullptr;  // checked entry (emitter.h): hot, before the body, or cold
  uint8_t* hot_code = nullptr;   // start of the hot code (host_size bytes)
  uint8_t* body = nullptr;       // where links and the dispatcher enter
  uint32_t host_size = 0;
  uint8_t* cold_code = nullptr;  // slow paths of the exits (emitter.h, CodeSpace)
  uint32_t cold_size = 0;
  std::vector<std::unique_ptr<ExitStub>> exits;
  // Host offsets [begin, end) of inline indirect-branch lookups: a signal that
  // lands inside one must also unlink the lookup's destination block.
  std::vector<std::pair<uint32_t, uint32_t>> lookup_ranges;
  std::vector<ExitStub*> incoming;  // exits of other blocks linked to this one
  // Plugin callbacks this block's code points at (a list: their addresses
  // stay put, and an empty one allocates nothing).
  std::forward_list<Action> callouts;
  std::vector<GuestMark> marks;  // ascending host_offset
  // Per-instruction inline adds merged at the entry (inline_merge.h), for the
  // fault handler to take back.
  std::vector<MergedAdd> merged_adds;
  bool valid = true;
  // Inlined callbacks here dropped LOCK prefixes (one thread only): the
  // translation must go before a second thread runs.
  bool elided_locks = false;
};

}  // namespace qplug::runtime
