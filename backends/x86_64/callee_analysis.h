// Callee analysis: what host code called from translated code may touch, so
// that a direct call saves only that (DynamoRIO analyses clean-call callees
// for the same reason). On this project's machines XSAVE + XRSTOR of the
// whole vector state costs about 300 ns, a hundred times a plain call, so a
// callee that touches two ymm registers should save two ymm registers.
#pragma once

#include <cstdint>

namespace qplug::x86_64 {

// The registers that code may change, beyond what the SysV ABI makes it keep
// (rbx, rbp, r12-r15 are callee-saved and not listed), and the vector, mask
// and MXCSR state.
struct Clobbers {
  bool unknown = true;  // not analysable (or x87/XSAVE use): save everything
  uint16_t gprs = 0;    // bit n: caller-saved general register n (hardware numbering)
  uint32_t vector = 0;  // bit n: zmm/ymm/xmm n may change (any width)
  uint8_t mask = 0;     // bit n: k n may change
  bool mxcsr = false;   // ldmxcsr (or an instruction with MXCSR as a written operand)
  // Floating-point vector arithmetic, which reads MXCSR (rounding, DAZ/FTZ)
  // and sets its exception flags; integer and move instructions do neither.
  bool fp = false;
  // Some instruction writing a vector register is VEX or EVEX encoded, which
  // zeroes the bits above its width. Legacy SSE leaves bits 128 and up as
  // they are: for a callee without VEX, saving xmm (with legacy moves) is
  // enough, and mixing 512-bit moves with its SSE code costs a state
  // transition per call on some CPUs.
  bool vex = false;
};

// What every instruction reachable from `fn` (through direct branches and
// calls, and PLT/GOT jumps whose slot is already bound) may change. Unknown
// code (an indirect branch through a register, undecodable bytes, too much
// code) is `unknown`. Cached per function; thread-safe.
Clobbers clobbers_of(const void* fn);

// Declares that calls to `fn` leave the vector state as they found it (the
// function saves what it uses): analysis does not look inside.
void declare_vector_safe(const void* fn);

}  // namespace qplug::x86_64
