// Guest general registers <-> a ucontext's gregs, for signal frames
// (delivery, rt_sigreturn) and for faults in translated code.
#pragma once

#include <ucontext.h>

#include <cstdint>

#include "runtime/thread_state.h"

namespace qplug::os {

// ucontext gregs index of each guest register, in hardware encoding order.
inline constexpr int kGregOf[runtime::kGprCount] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

inline void gregs_to_guest(const greg_t* gregs, uint64_t* gpr) {
  for (int r = 0; r < runtime::kGprCount; ++r) gpr[r] = static_cast<uint64_t>(gregs[kGregOf[r]]);
}

inline void guest_to_gregs(const uint64_t* gpr, greg_t* gregs) {
  for (int r = 0; r < runtime::kGprCount; ++r) gregs[kGregOf[r]] = static_cast<greg_t>(gpr[r]);
}

}  // namespace qplug::os
