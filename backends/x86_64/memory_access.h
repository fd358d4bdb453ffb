// Memory accesses of one guest instruction, as QEMU's memory callbacks report
// them: one per access (a read-modify-write is a load then a store), with the
// address computed from the registers as they were before the instruction.
#pragma once

#include <cstdint>
#include <vector>

#include "x86_64/decoder.h"

namespace qplug::x86_64 {

struct MemAccess {
  const ZydisDecodedOperand* operand;  // the memory operand (explicit or hidden)
  int64_t stack_adjust = 0;            // for pushes: the address is [rsp - size] before the push;
                                       // for the parts of a split vector access, the part's offset
  uint8_t size_shift = 0;              // log2 of the access size in bytes
  bool sign_extend = false;
  bool is_store = false;
};

// Accesses in QEMU's order: every load, then every store. Vector accesses
// wider than 16 bytes are reported as 16-byte parts, as QEMU's sizes stop at
// 128 bits (MO_128). Instructions that
// name memory without accessing it (lea, nop, prefetch, clflush) have none.
// Gathers and scatters (vector-indexed addressing) are not reported.
std::vector<MemAccess> memory_accesses(const DecodedInsn& d);

// qemu_plugin_meminfo_t for an access: (MemOp << 4 | mmu_idx) | rw << 16.
uint32_t mem_info(const MemAccess& a);

// True for a rep/repe/repne string instruction (each iteration is reported).
bool is_rep_string(const DecodedInsn& d);

}  // namespace qplug::x86_64
