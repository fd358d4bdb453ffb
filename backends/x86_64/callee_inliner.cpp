#include "x86_64/callee_inliner.h"

#include <Zydis/Encoder.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "x86_64/asm_util.h"

namespace qplug::x86_64 {
namespace {

constexpr int kArgRegs[] = {7, 6, 2, 1};  // rdi, rsi, rdx, rcx
constexpr int kRsp = 4;

bool is_gpr(ZydisRegister reg) { return gpr_number(reg) >= 0; }

// Adds what `d` reads and writes to `body`; false if `d` may not be copied.
// Integer instructions only: anything of the vector, x87 or MMX state, even
// without a named register (vzeroupper, emms, fninit, xsave, ldmxcsr), or of
// the flags the guest owns (std, cld, popf), stays in a called function.
bool integer_only(const ZydisDecodedInstruction& i) {
  switch (i.meta.category) {
    case ZYDIS_CATEGORY_BINARY:
    case ZYDIS_CATEGORY_LOGICAL:
    case ZYDIS_CATEGORY_DATAXFER:
    case ZYDIS_CATEGORY_CMOV:
    case ZYDIS_CATEGORY_SETCC:
    case ZYDIS_CATEGORY_SHIFT:
    case ZYDIS_CATEGORY_ROTATE:
    case ZYDIS_CATEGORY_BITBYTE:
    case ZYDIS_CATEGORY_NOP:
    case ZYDIS_CATEGORY_WIDENOP:
    case ZYDIS_CATEGORY_CONVERT:
    case ZYDIS_CATEGORY_SEMAPHORE:
    case ZYDIS_CATEGORY_MISC:  // lea, among others (checked operand by operand)
      return i.encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY;
    case ZYDIS_CATEGORY_BMI1:
    case ZYDIS_CATEGORY_BMI2:  // VEX-encoded, general registers only
      return true;
    default:
      return false;
  }
}

bool account(const DecodedInsn& d, InlineBody& body) {
  if (d.kind != InsnKind::kPlain) return false;
  const ZydisDecodedInstruction& i = d.insn;
  if (!integer_only(i)) return false;
  if (i.cpu_flags) {
    const uint32_t written =
        i.cpu_flags->modified | i.cpu_flags->set_0 | i.cpu_flags->set_1 | i.cpu_flags->undefined;
    if (i.cpu_flags->tested && !body.writes_flags) return false;  // the caller's flags, read
    if (written) body.writes_flags = true;
  }
  uint16_t reads = 0, writes = 0;
  for (uint8_t k = 0; k < i.operand_count; ++k) {
    const ZydisDecodedOperand& op = d.ops[k];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      if (op.mem.segment == ZYDIS_REGISTER_GS) return false;  // the guest's FS
      for (ZydisRegister r : {op.mem.base, op.mem.index}) {
        if (r == ZYDIS_REGISTER_NONE || r == ZYDIS_REGISTER_RIP) continue;
        if (!is_gpr(r) || gpr_number(r) == kRsp) return false;
        reads |= static_cast<uint16_t>(1u << gpr_number(r));
      }
      continue;
    }
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
    const ZydisRegister r = op.reg.value;
    if (ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_FLAGS) continue;  // cpu_flags above
    if (r == ZYDIS_REGISTER_RIP) continue;
    if (!is_gpr(r) || gpr_number(r) == kRsp) return false;  // vector, x87, segment, rsp...
    const auto bit = static_cast<uint16_t>(1u << gpr_number(r));
    // A 32-bit write zeroes the upper half; an 8- or 16-bit one merges.
    const ZydisRegisterClass cls = ZydisRegisterGetClass(r);
    const bool merges = cls == ZYDIS_REGCLASS_GPR8 || cls == ZYDIS_REGCLASS_GPR16;
    if ((op.actions & ZYDIS_OPERAND_ACTION_MASK_READ) || merges) reads |= bit;
    if (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) writes |= bit;
  }
  body.reads |= static_cast<uint16_t>(reads & ~body.writes);
  body.writes |= writes;
  return true;
}

bool writes_memory(const DecodedInsn& d) {
  if (d.insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) return true;
  for (uint8_t k = 0; k < d.insn.operand_count; ++k)
    if (d.ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (d.ops[k].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
      return true;
  return false;
}

InlineBody analyse(const void* fn, int args) {
  static const Decoder decoder;
  InlineBody body;
  bool side_effects = false;
  auto pc = reinterpret_cast<uint64_t>(fn);
  for (int n = 0; n <= kMaxInlineInsns; ++n) {
    DecodedInsn d;
    if (!decoder.decode(reinterpret_cast<const uint8_t*>(pc), 15, pc, d)) return {};
    if (d.kind == InsnKind::kRet) {
      if (d.insn.operand_count_visible != 0) return {};  // ret imm16
      uint16_t allowed = 0;
      for (int a = 0; a < args; ++a) allowed |= static_cast<uint16_t>(1u << kArgRegs[a]);
      if (body.reads & ~allowed) return {};  // reads what the caller happened to leave
      for (int r : {11, 10, 9, 8, 1, 2, 6, 7, 0}) {
        if ((body.reads | body.writes) & (1u << r)) continue;
        body.scratch = r;
        break;
      }
      for (const DecodedInsn& i : body.insns)
        if (body.scratch >= 0 && splits_memory_operand(i)) body.uses_scratch = true;
      body.ok = true;
      return body;
    }
    if (d.kind == InsnKind::kJcc) {
      // A guard: only side-effect-free code before it, and flags it set.
      if (side_effects || !body.writes_flags) return {};
      body.guards.push_back(body.insns.size());
      body.insns.push_back(d);
      pc = d.next_pc();
      continue;
    }
    if (!account(d, body)) return {};
    if (writes_memory(d)) side_effects = true;
    body.insns.push_back(d);
    pc = d.next_pc();
  }
  return {};  // too long
}

}  // namespace

const InlineBody& inline_body(const void* fn, int args) {
  static std::mutex mutex;
  static auto* cache = new std::unordered_map<const void*, InlineBody>;
  std::lock_guard guard(mutex);
  auto [it, fresh] = cache->try_emplace(fn);
  if (fresh) it->second = analyse(fn, args);
  return it->second;
}

namespace {
std::atomic<unsigned long> inlined{0};
}

unsigned long inlined_calls() { return inlined.load(std::memory_order_relaxed); }
void count_inlined_call() { inlined.fetch_add(1, std::memory_order_relaxed); }

bool has_lock(const DecodedInsn& d) { return (d.insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0; }

bool splits_memory_operand(const DecodedInsn& d) {
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_LEA) return false;
  if (d.insn.attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS)) return false;
  for (uint8_t k = 0; k < d.insn.operand_count_visible; ++k) {
    const ZydisDecodedOperand& op = d.ops[k];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    const bool rmw = (op.actions & ZYDIS_OPERAND_ACTION_MASK_READ) &&
                     (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
    return rmw && (op.mem.index != ZYDIS_REGISTER_NONE || op.mem.base == ZYDIS_REGISTER_RIP);
  }
  return false;
}

namespace {

// `lea scratch, [mem]` (RIP-relative: the absolute address, a 64-bit move),
// then `d` re-encoded on [scratch]; 0 if Zydis cannot re-encode it.
size_t place_split(const DecodedInsn& d, uint8_t* out, bool drop_lock, int scratch) {
  ZydisEncoderRequest req;
  if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
          &d.insn, d.ops, d.insn.operand_count_visible, &req)))
    return 0;
  const auto scratch_reg = static_cast<ZydisRegister>(ZYDIS_REGISTER_RAX + scratch);
  ZydisEncoderRequest lea{};
  lea.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  lea.operand_count = 2;
  lea.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
  lea.operands[0].reg.value = scratch_reg;
  for (uint8_t k = 0; k < req.operand_count; ++k) {
    ZydisEncoderOperand& op = req.operands[k];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    if (op.mem.base == ZYDIS_REGISTER_RIP) {
      lea.mnemonic = ZYDIS_MNEMONIC_MOV;
      lea.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
      lea.operands[1].imm.u = d.next_pc() + static_cast<uint64_t>(op.mem.displacement);
    } else {
      lea.mnemonic = ZYDIS_MNEMONIC_LEA;
      lea.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
      lea.operands[1].mem = op.mem;
      lea.operands[1].mem.size = 8;  // the encoder wants the address width
    }
    op.mem.base = scratch_reg;
    op.mem.index = ZYDIS_REGISTER_NONE;
    op.mem.scale = 0;
    op.mem.displacement = 0;
  }
  if (drop_lock) req.prefixes &= ~static_cast<ZydisInstructionAttributes>(ZYDIS_ATTRIB_HAS_LOCK);
  ZyanUSize lea_len = 16, op_len = 16;
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&lea, out, &lea_len))) return 0;
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, out + lea_len, &op_len))) return 0;
  return lea_len + op_len;
}

}  // namespace

size_t place_inline_insn(const DecodedInsn& d, const uint8_t* at, uint8_t* out, bool drop_lock,
                         int scratch) {
  if (scratch >= 0 && splits_memory_operand(d)) return place_split(d, out, drop_lock, scratch);
  size_t len = d.length();
  size_t disp_offset = d.insn.raw.disp.offset;
  std::memcpy(out, d.bytes, len);
  if (drop_lock && has_lock(d)) {
    for (size_t k = 0; k < d.insn.raw.prefix_count; ++k) {
      if (out[k] != 0xF0) continue;
      std::memmove(out + k, out + k + 1, len - k - 1);
      --len;
      --disp_offset;
      break;
    }
  }
  const ZydisDecodedOperand* rel = d.rip_relative_operand();
  if (!rel) return len;
  const uint64_t target = d.next_pc() + static_cast<uint64_t>(rel->mem.disp.value);
  const int64_t disp =
      static_cast<int64_t>(target) - static_cast<int64_t>(reinterpret_cast<uint64_t>(at) + len);
  if (fits_int32(disp) && d.insn.raw.disp.size == 32) {
    const auto d32 = static_cast<int32_t>(disp);
    std::memcpy(out + disp_offset, &d32, 4);
    return len;
  }
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_LEA && d.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
      ZydisRegisterGetClass(d.ops[0].reg.value) == ZYDIS_REGCLASS_GPR64) {
    const int r = gpr_number(d.ops[0].reg.value);  // mov r64, imm64
    out[0] = static_cast<uint8_t>(0x48 | (r >> 3));
    out[1] = static_cast<uint8_t>(0xB8 | (r & 7));
    std::memcpy(out + 2, &target, 8);
    return 10;
  }
  return 0;
}

}  // namespace qplug::x86_64
