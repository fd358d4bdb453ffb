#include "x86_64/liveness.h"

namespace qplug::x86_64 {
namespace {

constexpr uint32_t kStatusFlags = ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_AF |
                                  ZYDIS_CPUFLAG_ZF | ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF;

bool shifts_by_register(const DecodedInsn& d) {
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_SHL:
    case ZYDIS_MNEMONIC_SHR:
    case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL:
    case ZYDIS_MNEMONIC_ROR:
    case ZYDIS_MNEMONIC_RCL:
    case ZYDIS_MNEMONIC_RCR:
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD:
      break;
    default:
      return false;
  }
  for (uint8_t i = 0; i < d.insn.operand_count; ++i)
    if (d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && d.ops[i].reg.value == ZYDIS_REGISTER_CL)
      return true;
  return false;
}

}  // namespace

std::vector<bool> status_flags_live(std::span<const DecodedInsn> insns) {
  std::vector<bool> live(insns.size() + 1, true);
  for (const DecodedInsn& d : insns) {
    const auto m = d.insn.mnemonic;
    if (m == ZYDIS_MNEMONIC_STD || m == ZYDIS_MNEMONIC_POPFQ || m == ZYDIS_MNEMONIC_POPF ||
        m == ZYDIS_MNEMONIC_POPFD)
      return live;
  }
  uint32_t mask = kStatusFlags;  // live at the end
  for (size_t i = insns.size(); i-- > 0;) {
    const DecodedInsn& d = insns[i];
    const ZydisAccessedFlags* f = d.insn.cpu_flags;
    if (d.kind != InsnKind::kPlain || !f) {
      mask = kStatusFlags;
    } else {
      uint32_t written = f->modified | f->set_0 | f->set_1 | f->undefined;
      if (shifts_by_register(d)) written = 0;
      mask = (mask & ~written) | f->tested;
      mask &= kStatusFlags;
    }
    live[i] = mask != 0;
  }
  return live;
}

}  // namespace qplug::x86_64
