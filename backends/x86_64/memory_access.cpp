#include "x86_64/memory_access.h"

namespace qplug::x86_64 {
namespace {

bool never_accesses(const DecodedInsn& d) {
  const auto m = d.insn.mnemonic;
  return m == ZYDIS_MNEMONIC_LEA || m == ZYDIS_MNEMONIC_NOP ||
         d.insn.meta.category == ZYDIS_CATEGORY_NOP ||
         d.insn.meta.category == ZYDIS_CATEGORY_WIDENOP ||
         d.insn.meta.category == ZYDIS_CATEGORY_PREFETCH || m == ZYDIS_MNEMONIC_CLFLUSH ||
         m == ZYDIS_MNEMONIC_CLFLUSHOPT || m == ZYDIS_MNEMONIC_CLWB || m == ZYDIS_MNEMONIC_CLDEMOTE;
}

uint8_t log2_bytes(unsigned bits) {
  uint8_t shift = 0;
  for (unsigned bytes = bits / 8; bytes > 1; bytes >>= 1) ++shift;
  return shift;
}

}  // namespace

std::vector<MemAccess> memory_accesses(const DecodedInsn& d) {
  std::vector<MemAccess> loads, stores;
  if (never_accesses(d)) return loads;
  for (int i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.type != ZYDIS_MEMOP_TYPE_MEM) continue;
    if (op.mem.index >= ZYDIS_REGISTER_XMM0 && op.mem.index <= ZYDIS_REGISTER_ZMM31) continue;
    MemAccess a;
    a.operand = &op;
    a.size_shift = log2_bytes(op.size);
    a.sign_extend =
        d.insn.mnemonic == ZYDIS_MNEMONIC_MOVSX || d.insn.mnemonic == ZYDIS_MNEMONIC_MOVSXD;
    // Zydis names the stack slot of push-like instructions [rsp]; the store
    // goes below the rsp the instruction started with.
    const bool hidden_stack =
        op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && op.mem.base == ZYDIS_REGISTER_RSP;
    // 32- and 64-byte accesses: 16-byte parts.
    const int parts = a.size_shift > 4 ? 1 << (a.size_shift - 4) : 1;
    if (parts > 1) a.size_shift = 4;
    auto add_parts = [&](std::vector<MemAccess>& to, MemAccess access) {
      for (int p = 0; p < parts; ++p) {
        MemAccess part = access;
        part.stack_adjust += 16 * p;
        to.push_back(part);
      }
    };
    if (op.actions & (ZYDIS_OPERAND_ACTION_READ | ZYDIS_OPERAND_ACTION_CONDREAD))
      add_parts(loads, a);
    if (op.actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE)) {
      a.is_store = true;
      a.sign_extend = false;
      if (hidden_stack) a.stack_adjust = -static_cast<int64_t>(op.size / 8);
      add_parts(stores, a);
    }
  }
  loads.insert(loads.end(), stores.begin(), stores.end());
  return loads;
}

uint32_t mem_info(const MemAccess& a) {
  const uint32_t memop = a.size_shift | (a.sign_extend ? 0x8 : 0);
  const uint32_t rw = a.is_store ? 2 : 1;
  return (memop << 4) | (rw << 16);
}

bool is_rep_string(const DecodedInsn& d) {
  return d.insn.meta.category == ZYDIS_CATEGORY_STRINGOP &&
         (d.insn.attributes &
          (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE));
}

}  // namespace qplug::x86_64
