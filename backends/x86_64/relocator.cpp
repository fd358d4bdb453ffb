#include "x86_64/relocator.h"

#include <cstring>

#include "x86_64/asm_util.h"

namespace qplug::x86_64 {
namespace {

// Rewrites the FS override of a copied instruction to GS.
void retarget_fs_prefix(const DecodedInsn& d, uint8_t* bytes) {
  if (!(d.insn.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS)) return;
  for (int i = 0; i < d.insn.raw.prefix_count; ++i) {
    if (d.insn.raw.prefixes[i].value == 0x64) bytes[i] = 0x65;
  }
}

// rdfsbase is F3 (REX) 0F AE /0 and wrfsbase /2; the GS forms are /1 and /3.
void retarget_fsbase(const DecodedInsn& d, uint8_t* bytes) {
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_RDFSBASE || d.insn.mnemonic == ZYDIS_MNEMONIC_WRFSBASE)
    bytes[d.insn.raw.modrm.offset] |= 1 << 3;
}

int pick_scratch(const DecodedInsn& d) {
  static const ZydisRegister candidates[] = {
      ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R8,
      ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RCX,
      ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13};
  for (ZydisRegister r : candidates) {
    if (!d.uses_register(r)) return gpr_number(r);
  }
  return -1;
}

// The RIP-relative target is beyond +-2 GiB of the code cache: re-encode the
// operand as [scratch] with scratch = absolute target.
bool relocate_far_rip_relative(Xbyak::CodeGenerator& g, const DecodedInsn& d, uint64_t target,
                               int64_t tls_base, std::string* error, RelocationInfo* info) {
  ZydisEncoderRequest req;
  if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
          &d.insn, d.ops, d.insn.operand_count_visible, &req))) {
    *error = "cannot re-encode RIP-relative operand";
    return false;
  }
  int scratch = pick_scratch(d);
  if (scratch < 0) {
    *error = "no scratch register for RIP-relative operand";
    return false;
  }
  for (int i = 0; i < req.operand_count; ++i) {
    auto& op = req.operands[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.base != ZYDIS_REGISTER_RIP) continue;
    op.mem.base = static_cast<ZydisRegister>(ZYDIS_REGISTER_RAX + scratch);
    op.mem.displacement = 0;
  }
  if (req.prefixes & ZYDIS_ATTRIB_HAS_SEGMENT_FS) {
    req.prefixes &= ~ZYDIS_ATTRIB_HAS_SEGMENT_FS;
    req.prefixes |= ZYDIS_ATTRIB_HAS_SEGMENT_GS;
  }
  uint8_t encoded[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZyanUSize length = sizeof(encoded);
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, encoded, &length))) {
    *error = "cannot encode relocated RIP-relative instruction";
    return false;
  }
  Xbyak::Reg64 s = gpr64(scratch);
  g.mov(tls(g, tls_base, QPLUG_TLS_FIELD(spill_scratch)), s);
  g.mov(s, target);
  if (info) *info = {g.getCurr(), scratch};
  g.db(encoded, length);
  g.mov(s, tls(g, tls_base, QPLUG_TLS_FIELD(spill_scratch)));
  return true;
}

}  // namespace

bool relocate_plain(Xbyak::CodeGenerator& g, const DecodedInsn& d, int64_t tls, std::string* error,
                    RelocationInfo* info) {
  if (info) *info = {g.getCurr(), -1};
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  const size_t len = d.length();
  std::memcpy(bytes, d.bytes, len);
  retarget_fs_prefix(d, bytes);
  retarget_fsbase(d, bytes);

  if (!d.rip_relative_operand()) {
    g.db(bytes, len);
    return true;
  }
  const uint64_t target = d.next_pc() + static_cast<uint64_t>(d.insn.raw.disp.value);
  const auto host_next = reinterpret_cast<uint64_t>(g.getCurr()) + len;
  const int64_t disp = static_cast<int64_t>(target - host_next);
  if (fits_int32(disp) && d.insn.raw.disp.size == 32) {
    const int32_t d32 = static_cast<int32_t>(disp);
    std::memcpy(bytes + d.insn.raw.disp.offset, &d32, sizeof d32);
    g.db(bytes, len);
    return true;
  }
  return relocate_far_rip_relative(g, d, target, tls, error, info);
}

bool load_branch_target(Xbyak::CodeGenerator& g, const DecodedInsn& d, int64_t /*tls*/,
                        std::string* error) {
  const ZydisDecodedOperand& op = d.ops[0];
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    int n = gpr_number(op.reg.value);
    if (n < 0 || op.size != 64) {
      *error = "indirect branch through a non-64-bit register";
      return false;
    }
    if (n != 11) g.mov(g.r11, gpr64(n));
    return true;
  }
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || d.insn.address_width != 64) {
    *error = "unsupported indirect branch operand";
    return false;
  }
  const bool fs = op.mem.segment == ZYDIS_REGISTER_FS;
  if (op.mem.base == ZYDIS_REGISTER_RIP) {
    g.mov(g.r11, d.next_pc() + static_cast<uint64_t>(op.mem.disp.value));
    if (fs) g.db(0x65);
    g.mov(g.r11, g.qword[g.r11]);
    return true;
  }
  const int base = gpr_number(op.mem.base);
  const int index = gpr_number(op.mem.index);
  Xbyak::RegExp e(static_cast<size_t>(op.mem.disp.value));
  if (base >= 0) e = e + gpr64(base);
  if (index >= 0) e = e + gpr64(index) * op.mem.scale;
  if (fs) g.db(0x65);
  if (base < 0 && index < 0) {
    g.mov(g.r11, g.qword[reinterpret_cast<void*>(op.mem.disp.value)]);
  } else {
    g.mov(g.r11, g.qword[e]);
  }
  return true;
}

}  // namespace qplug::x86_64
