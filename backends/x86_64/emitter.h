// Emitter: writes the host code of one translated block into the code cache.
// Plain instructions go through the relocator (copied, with RIP-relative and
// fs: fix-ups); control transfers become exits (linkable direct branches),
// inline indirect-branch lookups, or returns to the dispatcher.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/block.h"
#include "runtime/instrumentation.h"
#include "runtime/thread_state.h"
#include "x86_64/decoder.h"

namespace qplug::x86_64 {

// Where translated code finds runtime data; all addresses are host addresses.
struct EmitEnv {
  int64_t tls = 0;  // %fs offset of runtime::ThreadState
  // Width of the vector registers the OS saves (XCR0): 16 (SSE), 32 (AVX) or
  // 64 (AVX-512, with 32 registers and the mask registers).
  int vector_bytes = 16;
  // %fs offset of the word naming the QEMU plugin whose callback runs (see
  // runtime::Action::qemu_callback).
  int64_t plugin_context_tls = 0;
  // Reads guest memory without faulting (bytes read); used to guess the
  // targets of jumps through GOT slots. May be null.
  size_t (*read_guest)(uint64_t addr, void* out, size_t len) = nullptr;
  // Calls stay calls (QPLUG_NO_INLINE=1): for measuring, and comparing outputs.
  bool no_inlining = false;
  // Only one thread runs translated code (set per translation): inlined
  // callbacks may drop their LOCK prefixes (callee_inliner.h).
  bool single_thread = false;
};

using runtime::kLookupEntries;
using runtime::lookup_index;

struct EmitStatus {
  bool ok = false;
  size_t size = 0;       // hot bytes written
  size_t cold_size = 0;  // cold bytes written
  std::string error;     // when !ok: what could not be emitted
};

// Where emit_block writes a block: its hot code (checked entry, body, exits)
// and its cold code (each exit's slow path, run until the exit is linked).
// Both must be in one code cache zone: each reaches the other with rel32.
struct CodeSpace {
  uint8_t* hot = nullptr;
  size_t hot_capacity = 0;
  uint8_t* cold = nullptr;
  size_t cold_capacity = 0;
};

// Upper bounds of hot and cold host bytes for a block of `n_insns` guest
// instructions, without instrumentation.
size_t max_block_size(size_t n_insns);
size_t max_cold_size(size_t n_insns);

// Emits `insns` into `space`. Conditional branches
// may appear anywhere (their fall-through is the next instruction); if the last
// instruction is not an unconditional transfer, the block falls through to `end_pc`. A kTrap or
// kUnsupported instruction must be alone in its block: it becomes an exit to
// the dispatcher at its own pc. Fills block.exits, lookup_ranges, host_size and cold_size.
// `instr` (may be null) adds plugin actions at block entry and before each
// instruction; callback actions are copied into block.callouts.
// Where a block's checked entry (Block::host_code) goes. Inline, it precedes
// the body and falls into it: the right place for blocks reached through the
// lookup table (return addresses, jump-table targets). In the cold code, it
// ends with a jump to the body: one more jump per indirect entry, but the 20
// to 45 bytes stay out of the hot code of blocks that links reach directly.
enum class EntryPlacement { kInline, kCold };

EmitStatus emit_block(std::span<const DecodedInsn> insns, uint64_t end_pc, const CodeSpace& space,
                      runtime::Block& block, const EmitEnv& env,
                      const runtime::BlockInstrumentation* instr = nullptr,
                      EntryPlacement entry = EntryPlacement::kInline);

// Upper bound of host bytes for the actions of `instr`.
size_t max_instrumentation_size(const runtime::BlockInstrumentation& instr);

// Writes `target` into the rel32 at `patch_site` if it is in range.
bool patch_rel32(uint8_t* patch_site, const uint8_t* target);

// Writes `jmp qword [rip+0]; .quad target` (14 bytes) at `where`.
void write_far_jump(uint8_t* where, const uint8_t* target);
// The target of a jump write_far_jump wrote at `at`, or nullptr if `at` holds
// no such jump.
const uint8_t* far_jump_target(const uint8_t* at);

}  // namespace qplug::x86_64
