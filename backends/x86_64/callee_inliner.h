// Callee inliner: a plugin callback short enough, and simple enough, is
// copied into the translated block instead of called (Pin inlines analysis
// routines without control flow the same way). QEMU's drcov marks a block
// executed with one store, QEMU's insn counts with one locked add: as calls
// those cost a stack switch, register saves and the call itself every time,
// twenty-odd host instructions around one.
//
// What can be inlined: straight-line code of at most kMaxInlineInsns plain
// instructions ending in `ret`, or such code behind guards: conditional
// branches off the straight line, each preceded only by code without side
// effects (no memory write, no locked instruction). A guard that branches
// goes to a call of the whole function from its start, which is then the
// same as having run it; the inlined path is the one that falls through
// (QEMU's mem example: `if (do_haddr) ...` around a locked add). Besides: touching no stack (rsp,
// push, pop, calls, leave), no vector, x87 or mask register, no string instruction (DF is the
// guest's), not reading the flags before writing them, reading no argument
// register beyond the callback's own and no other register before writing
// it. RIP-relative operands are re-aimed at the same data from where the copy
// goes (a `lea` becomes a 64-bit move when out of reach; any other operand
// out of reach makes the whole copy fail, and the call stays a call).
#pragma once

#include <cstdint>
#include <vector>

#include "x86_64/decoder.h"

namespace qplug::x86_64 {

inline constexpr int kMaxInlineInsns = 12;

struct InlineBody {
  bool ok = false;
  std::vector<DecodedInsn> insns;  // without the ret
  uint16_t reads = 0;              // general registers read before written (hardware numbers)
  uint16_t writes = 0;             // general registers written
  bool writes_flags = false;
  std::vector<size_t> guards;  // indices in `insns` of the guarding branches
  // A general register the body leaves alone (hardware number, or -1): a
  // read-modify-write of memory addressed with an index or RIP-relative goes
  // through it (see place_inline_insn), and it is saved around the copy.
  int scratch = -1;
  bool uses_scratch = false;
};

// The body of `fn` if it can be inlined (`args`: how many integer argument
// registers the callback takes: rdi, rsi, rdx, rcx), analysed once.
// Thread-safe.
const InlineBody& inline_body(const void* fn, int args);

// Copies `insn` as it goes at `at` into `out` (its bytes, with a RIP-relative
// displacement re-aimed from there); returns the length, or 0 if it cannot
// be placed at `at` (the operand is out of reach). With `drop_lock`, a LOCK
// prefix is left out: while only one thread runs translated code, nothing
// can race with the access (the dispatcher drops such translations before a
// second thread starts).
//
// With `scratch` (a register number, or -1), a read-modify-write of memory
// addressed with an index register or RIP-relative is split into a `lea`
// (or a 64-bit move) of the address into `scratch` and the operation on
// [scratch]: Intel forwards a store to the next load of the same address
// without waiting only for base-register forms, and a counter bumped per
// instruction is a chain of such read-modify-writes (1.75 ns per link in
// the other forms, 0.25 ns in this one). `out` must hold 32 bytes.
size_t place_inline_insn(const DecodedInsn& insn, const uint8_t* at, uint8_t* out,
                         bool drop_lock = false, int scratch = -1);
// True if place_inline_insn splits `insn` when given a scratch register.
bool splits_memory_operand(const DecodedInsn& insn);
// How many calls have been inlined so far (QPLUG_STATS).
unsigned long inlined_calls();
void count_inlined_call();

// True if `insn` has a LOCK prefix.
bool has_lock(const DecodedInsn& insn);

}  // namespace qplug::x86_64
