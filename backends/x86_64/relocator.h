// Relocator (internal to the x86-64 backend): re-emits one guest instruction
// at a new host address so that it behaves as it did at its guest address.
//
// Copy-through is the rule: the bytes are copied and only patched where the
// meaning depends on the location or on FS:
//  - RIP-relative memory operands get a new displacement; when the target is
//    more than 2 GiB from the code cache, the operand is re-encoded (Zydis'
//    encoder) against a scratch register that holds the absolute address, with
//    the scratch's guest value parked in ThreadState::spill_scratch.
//  - an fs: override becomes gs:, and rd/wrfsbase become rd/wrgsbase, because
//    the guest's FS base lives in GS (docs/guest-state.md rule 1).
#pragma once

#include <string>

#include "x86_64/decoder.h"

namespace Xbyak {
class CodeGenerator;
}

namespace qplug::x86_64 {

// Where the relocated instruction itself starts, and which register (if any)
// holds a borrowed address there with its guest value parked in
// ThreadState::spill_scratch: what a fault handler needs to rebuild the guest
// state when that instruction faults.
struct RelocationInfo {
  const uint8_t* insn_start = nullptr;
  int scratch = -1;
};

// Emits a kPlain instruction. Returns false with `error` set if it cannot.
bool relocate_plain(Xbyak::CodeGenerator& g, const DecodedInsn& d, int64_t tls, std::string* error,
                    RelocationInfo* info = nullptr);

// For an indirect jmp/call: emits code that leaves the branch target (operand
// 0, evaluated with guest register values) in r11. The caller has already
// parked guest r11 in ThreadState::spill_r11 and not changed r11.
bool load_branch_target(Xbyak::CodeGenerator& g, const DecodedInsn& d, int64_t tls,
                        std::string* error);

}  // namespace qplug::x86_64
