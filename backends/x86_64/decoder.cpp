#include "x86_64/decoder.h"

#include <cstdio>
#include <cstring>

#include "x86_64/plain_length.h"

namespace qplug::x86_64 {
namespace {

InsnKind classify(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* ops) {
  // A guest that uses GS itself would collide with the guest FS we keep in GS.
  if (insn.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS) return InsnKind::kUnsupported;
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_JMP:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return InsnKind::kJmpDirect;
      if (ops[0].type == ZYDIS_OPERAND_TYPE_POINTER ||
          insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
        return InsnKind::kUnsupported;
      return InsnKind::kJmpIndirect;
    case ZYDIS_MNEMONIC_CALL:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return InsnKind::kCallDirect;
      if (ops[0].type == ZYDIS_OPERAND_TYPE_POINTER ||
          insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
        return InsnKind::kUnsupported;
      return InsnKind::kCallIndirect;
    case ZYDIS_MNEMONIC_RET:
      return InsnKind::kRet;
    case ZYDIS_MNEMONIC_JRCXZ:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE:
      return InsnKind::kJccRel8Only;
    case ZYDIS_MNEMONIC_SYSCALL:
      return InsnKind::kSyscall;
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INT1:
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INTO:
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_HLT:
      return InsnKind::kTrap;
    case ZYDIS_MNEMONIC_RDGSBASE:
    case ZYDIS_MNEMONIC_WRGSBASE:
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT:
    case ZYDIS_MNEMONIC_SYSRET:
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
    case ZYDIS_MNEMONIC_XBEGIN:
    case ZYDIS_MNEMONIC_SWAPGS:
      return InsnKind::kUnsupported;
    default:
      break;
  }
  if (insn.meta.category == ZYDIS_CATEGORY_COND_BR) return InsnKind::kJcc;
  if (insn.meta.category == ZYDIS_CATEGORY_UNCOND_BR || insn.meta.category == ZYDIS_CATEGORY_CALL ||
      insn.meta.category == ZYDIS_CATEGORY_RET)
    return InsnKind::kUnsupported;  // forms not handled above (far, etc.)
  if (insn.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) return InsnKind::kTrap;
  return InsnKind::kPlain;
}

}  // namespace

uint64_t DecodedInsn::branch_target() const {
  ZyanU64 target = 0;
  ZydisCalcAbsoluteAddress(&insn, &ops[0], pc, &target);
  return target;
}

const ZydisDecodedOperand* DecodedInsn::rip_relative_operand() const {
  if (!operands_decoded) return nullptr;  // decode() decodes every RIP-relative one
  for (int i = 0; i < insn.operand_count; ++i) {
    if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.base == ZYDIS_REGISTER_RIP)
      return &ops[i];
  }
  return nullptr;
}

bool DecodedInsn::uses_register(ZydisRegister reg64) const {
  auto same = [reg64](ZydisRegister r) {
    return r != ZYDIS_REGISTER_NONE &&
           ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) == reg64;
  };
  for (int i = 0; i < insn.operand_count; ++i) {
    const auto& op = ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && same(op.reg.value)) return true;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && (same(op.mem.base) || same(op.mem.index)))
      return true;
  }
  return false;
}

Decoder::Decoder() {
  ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

namespace {

// Whether translating `insn` reads its operands: control transfers (targets),
// RIP-relative operands (relocated), segment overrides (FS rewritten, GS refused).
bool needs_operands(const ZydisDecodedInstruction& insn) {
  if (insn.attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS)) return true;
  // In 64-bit mode, ModRM mod=00 rm=101 (no SIB) is [rip + disp32].
  if ((insn.attributes & ZYDIS_ATTRIB_HAS_MODRM) && insn.raw.modrm.mod == 0 &&
      insn.raw.modrm.rm == 5)
    return true;
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_RET:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Decoder::decode(const uint8_t* bytes, size_t avail, uint64_t pc, DecodedInsn& out,
                     bool all_operands) const {
  if (!all_operands) {
    if (const size_t length = plain_insn_length(bytes, avail)) {
      // Only what translation reads of a plain, unrewritten instruction.
      out.insn.length = static_cast<ZyanU8>(length);
      out.insn.mnemonic = ZYDIS_MNEMONIC_INVALID;
      out.insn.attributes = 0;
      out.insn.operand_count = out.insn.operand_count_visible = 0;
      out.operands_decoded = false;
      out.pc = pc;
      std::memcpy(out.bytes, bytes, length);
      out.kind = InsnKind::kPlain;
      return true;
    }
  }
  ZydisDecoderContext context;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder_, &context, bytes, avail, &out.insn)))
    return false;
  out.operands_decoded = all_operands || needs_operands(out.insn);
  if (out.operands_decoded &&
      !ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&decoder_, &context, &out.insn, out.ops,
                                               ZYDIS_MAX_OPERAND_COUNT)))
    return false;
  out.pc = pc;
  std::memcpy(out.bytes, bytes, out.insn.length);
  out.kind = classify(out.insn, out.ops);
  return true;
}

std::string Decoder::format(const DecodedInsn& d, bool att) const {
  ZydisFormatter formatter;
  ZydisFormatterInit(&formatter, att ? ZYDIS_FORMATTER_STYLE_ATT : ZYDIS_FORMATTER_STYLE_INTEL);
  if (att) {  // closer to Capstone's AT&T text, which QEMU plugins match on
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE,
                              ZYDIS_PADDING_DISABLED);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_IMM_PADDING, ZYDIS_PADDING_DISABLED);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_DISP_PADDING,
                              ZYDIS_PADDING_DISABLED);
  }
  char buffer[256];
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &d.insn, d.ops,
                                                    d.insn.operand_count_visible, buffer,
                                                    sizeof(buffer), d.pc, nullptr)))
    return "(bad)";
  return buffer;
}

std::string hex_bytes(const uint8_t* bytes, size_t n) {
  std::string out;
  char b[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, i ? " %02x" : "%02x", bytes[i]);
    out += b;
  }
  return out;
}

}  // namespace qplug::x86_64
