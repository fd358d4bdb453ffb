// A fast path in front of Zydis for the bulk of guest instructions: the
// length of an instruction the translator copies unchanged (no control
// transfer, no RIP-relative operand, no FS or GS, no VEX/EVEX, nothing that
// traps on purpose), found from the opcode tables alone. Zydis spends about
// 70 ns per instruction; this a few. Anything it is not sure of it declines
// (returns 0) and Zydis decodes as before. tests/unit/backend checks it
// against Zydis on the code of real binaries.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplug::x86_64 {

// Length of the plain instruction at `p` (at most `avail` bytes readable), or
// 0 if it is not one this decoder accepts.
size_t plain_insn_length(const uint8_t* p, size_t avail);

}  // namespace qplug::x86_64
