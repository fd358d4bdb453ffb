#include "x86_64/callee_analysis.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "x86_64/decoder.h"

namespace qplug::x86_64 {
namespace {

// Enough for a counting callback and the few helpers it calls; anything
// larger (libc's printf, glib) almost surely uses vector registers anyway.
constexpr size_t kMaxInsns = 20000;

bool integer_register(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return true;
  switch (ZydisRegisterGetClass(reg)) {
    case ZYDIS_REGCLASS_GPR8:
    case ZYDIS_REGCLASS_GPR16:
    case ZYDIS_REGCLASS_GPR32:
    case ZYDIS_REGCLASS_GPR64:
    case ZYDIS_REGCLASS_FLAGS:
    case ZYDIS_REGCLASS_IP:
    case ZYDIS_REGCLASS_SEGMENT:
      return true;
    default:
      return false;
  }
}

// Adds what `d` may change to `use`; false if that cannot be said register
// by register (x87, state save/restore instructions).
constexpr uint16_t kCallerSavedGprs = 0x0fc7;  // rax rcx rdx rsi rdi r8-r11

// The SIMD exception classes whose instructions raise no floating-point
// exception and ignore MXCSR: moves, shuffles, logic, integer arithmetic.
bool reads_mxcsr(const DecodedInsn& d) {
  switch (d.insn.meta.exception_class) {
    case ZYDIS_EXCEPTION_CLASS_NONE:
    case ZYDIS_EXCEPTION_CLASS_SSE1:
    case ZYDIS_EXCEPTION_CLASS_SSE4:
    case ZYDIS_EXCEPTION_CLASS_SSE5:
    case ZYDIS_EXCEPTION_CLASS_SSE7:
    case ZYDIS_EXCEPTION_CLASS_AVX1:
    case ZYDIS_EXCEPTION_CLASS_AVX4:
    case ZYDIS_EXCEPTION_CLASS_AVX5:
    case ZYDIS_EXCEPTION_CLASS_AVX7:
    case ZYDIS_EXCEPTION_CLASS_AVX8:
    case ZYDIS_EXCEPTION_CLASS_E1NF:
    case ZYDIS_EXCEPTION_CLASS_E4:
    case ZYDIS_EXCEPTION_CLASS_E4NF:
    case ZYDIS_EXCEPTION_CLASS_E5NF:
    case ZYDIS_EXCEPTION_CLASS_E6NF:
    case ZYDIS_EXCEPTION_CLASS_E7NM:
    case ZYDIS_EXCEPTION_CLASS_E7NM128:
    case ZYDIS_EXCEPTION_CLASS_E9NF:
    case ZYDIS_EXCEPTION_CLASS_E10NF:
    case ZYDIS_EXCEPTION_CLASS_E11NF:
    case ZYDIS_EXCEPTION_CLASS_E12NP:
    case ZYDIS_EXCEPTION_CLASS_K20:
    case ZYDIS_EXCEPTION_CLASS_K21:
      return false;
    default:
      return true;
  }
}

bool account(const DecodedInsn& d, Clobbers& use) {
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_VZEROUPPER:
    case ZYDIS_MNEMONIC_VZEROALL:
      use.vector |= 0xffff;  // the upper halves of 0-15 (or all of them)
      use.vex = true;
      return true;
    case ZYDIS_MNEMONIC_LDMXCSR:
    case ZYDIS_MNEMONIC_VLDMXCSR:
      use.mxcsr = true;
      return true;
    case ZYDIS_MNEMONIC_STMXCSR:
    case ZYDIS_MNEMONIC_VSTMXCSR:
      return true;
    case ZYDIS_MNEMONIC_EMMS:
    case ZYDIS_MNEMONIC_FEMMS:
    case ZYDIS_MNEMONIC_FXRSTOR:
    case ZYDIS_MNEMONIC_FXRSTOR64:
    case ZYDIS_MNEMONIC_XRSTOR:
    case ZYDIS_MNEMONIC_XRSTOR64:
    case ZYDIS_MNEMONIC_XRSTORS:
    case ZYDIS_MNEMONIC_XRSTORS64:
      return false;
    default:
      break;
  }
  for (uint8_t i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    ZydisRegister regs[3] = {ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE};
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) regs[0] = op.reg.value;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      regs[1] = op.mem.base;
      regs[2] = op.mem.index;
    }
    for (ZydisRegister reg : regs) {
      const bool written = reg == regs[0] && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
      if (integer_register(reg)) {
        const ZydisRegisterClass cls = ZydisRegisterGetClass(reg);
        if (written && cls >= ZYDIS_REGCLASS_GPR8 && cls <= ZYDIS_REGCLASS_GPR64) {
          const ZydisRegister r64 =
              ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
          if (r64 >= ZYDIS_REGISTER_RAX && r64 <= ZYDIS_REGISTER_R15)
            use.gprs |=
                static_cast<uint16_t>((1u << (r64 - ZYDIS_REGISTER_RAX)) & kCallerSavedGprs);
        }
        continue;
      }
      switch (ZydisRegisterGetClass(reg)) {
        case ZYDIS_REGCLASS_XMM:
        case ZYDIS_REGCLASS_YMM:
        case ZYDIS_REGCLASS_ZMM:
          if (written) {
            use.vector |= 1u << ZydisRegisterGetId(reg);
            if (d.insn.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) use.vex = true;
          }
          if (reads_mxcsr(d)) use.fp = true;
          break;
        case ZYDIS_REGCLASS_MASK:
          if (written) use.mask |= static_cast<uint8_t>(1u << ZydisRegisterGetId(reg));
          break;
        default:
          if (reg == ZYDIS_REGISTER_MXCSR) {
            if (written) use.mxcsr = true;
            break;
          }
          return false;  // x87, MMX, tiles, anything else
      }
    }
  }
  return true;
}

// The bound target of `jmp/call [rip+disp]` (a PLT or GOT slot), or 0.
uint64_t slot_target(const DecodedInsn& d) {
  const ZydisDecodedOperand* op = d.rip_relative_operand();
  if (!op || d.ops[0].type != ZYDIS_OPERAND_TYPE_MEMORY) return 0;
  uint64_t target;
  std::memcpy(
      &target,
      reinterpret_cast<const void*>(d.next_pc() + static_cast<uint64_t>(op->mem.disp.value)),
      sizeof target);
  return target;
}

std::mutex& analysis_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_set<uint64_t>& vector_safe() {
  static auto* s = new std::unordered_set<uint64_t>;
  return *s;
}

// QPLUG_DEBUG_ANALYSIS=1: each analysed callee, and where an analysis gave up.
bool debug() {
  static const bool on = std::getenv("QPLUG_DEBUG_ANALYSIS") != nullptr;
  return on;
}

Clobbers gave_up(const DecodedInsn& d) {
  static const Decoder decoder;
  if (debug())
    std::fprintf(stderr, "qplug: analysis: %#lx: %s\n", static_cast<unsigned long>(d.pc),
                 decoder.format(d).c_str());
  return Clobbers{};  // unknown
}

// Where a call to `pc` ends up: through an endbr64 and a PLT stub's
// `jmp [rip+slot]` (bound) or a direct jmp.
uint64_t resolve_call_target(uint64_t pc) {
  static const Decoder decoder;
  for (int hops = 0; hops < 3; ++hops) {
    DecodedInsn d;
    if (!decoder.decode(reinterpret_cast<const uint8_t*>(pc), 15, pc, d)) return pc;
    if (d.insn.mnemonic == ZYDIS_MNEMONIC_ENDBR64) {
      pc = d.next_pc();
      continue;
    }
    if (d.kind == InsnKind::kJmpDirect) {
      pc = d.branch_target();
      continue;
    }
    if (d.kind == InsnKind::kJmpIndirect) {
      const uint64_t target = slot_target(d);
      if (!target) return pc;
      pc = target;
      continue;
    }
    return pc;
  }
  return pc;
}

// Functions that never return to their caller (and do not unwind into it,
// as __cxa_throw or longjmp may): what they touch cannot reach the guest.
bool never_returns(uint64_t fn) {
  static const std::unordered_set<uint64_t> known = [] {
    std::unordered_set<uint64_t> set;
    for (const char* name : {"abort", "exit", "_exit", "_Exit", "quick_exit", "__assert_fail",
                             "__stack_chk_fail", "__fortify_fail", "__chk_fail"})
      if (void* p = dlsym(RTLD_DEFAULT, name)) set.insert(reinterpret_cast<uint64_t>(p));
    return set;
  }();
  return known.count(fn) != 0;
}

// The function a call instruction reaches, or 0 when through a register.
uint64_t call_target(const DecodedInsn& d) {
  if (d.kind == InsnKind::kCallDirect) return resolve_call_target(d.branch_target());
  if (d.kind == InsnKind::kCallIndirect) {
    const uint64_t slot = slot_target(d);
    return slot ? resolve_call_target(slot) : 0;
  }
  return 0;
}

// True if the path through call `d` never gets back to its caller: the
// callee never returns, or the next instruction calls one that does not
// (glib's `fwrite(...); abort()` on a broken mutex): then nothing on it
// needs analysing, however much it touches.
bool dead_end_call(const DecodedInsn& d) {
  static const Decoder decoder;
  if (never_returns(call_target(d))) return true;
  DecodedInsn next;
  const uint64_t pc = d.next_pc();
  if (!decoder.decode(reinterpret_cast<const uint8_t*>(pc), 15, pc, next)) return false;
  return never_returns(call_target(next));
}

Clobbers analyse(uint64_t fn) {
  Clobbers use;
  use.unknown = false;
  const Clobbers unknown;
  static const Decoder decoder;
  std::vector<uint64_t> work{fn};
  std::unordered_set<uint64_t> seen;
  size_t budget = kMaxInsns;
  while (!work.empty()) {
    uint64_t pc = work.back();
    work.pop_back();
    if (vector_safe().count(pc)) {
      use.gprs |= kCallerSavedGprs;  // keeps the vector state, not the ABI's scratch registers
      continue;
    }
    while (seen.insert(pc).second) {
      if (budget-- == 0) return unknown;
      DecodedInsn d;
      if (!decoder.decode(reinterpret_cast<const uint8_t*>(pc), 15, pc, d)) return unknown;
      if (!account(d, use)) return gave_up(d);
      switch (d.kind) {
        case InsnKind::kPlain:
        case InsnKind::kSyscall:  // the kernel keeps the vector state
          pc = d.next_pc();
          continue;
        case InsnKind::kCallDirect:
          if (dead_end_call(d)) break;
          work.push_back(d.branch_target());
          pc = d.next_pc();
          continue;
        case InsnKind::kJcc:
        case InsnKind::kJccRel8Only:
          work.push_back(d.branch_target());
          pc = d.next_pc();
          continue;
        case InsnKind::kJmpDirect:
          work.push_back(d.branch_target());
          break;
        case InsnKind::kJmpIndirect:
        case InsnKind::kCallIndirect: {
          if (d.kind == InsnKind::kCallIndirect && dead_end_call(d)) break;
          const uint64_t target = slot_target(d);
          if (!target) return gave_up(d);  // through a register: unknown code
          work.push_back(target);
          if (d.kind == InsnKind::kCallIndirect) {
            pc = d.next_pc();
            continue;
          }
          break;
        }
        case InsnKind::kRet:
        case InsnKind::kTrap:  // ud2 after a noreturn call, int3 padding
          break;
        case InsnKind::kUnsupported:
          return unknown;
      }
      break;
    }
  }
  return use;
}

}  // namespace

void declare_vector_safe(const void* fn) {
  std::lock_guard guard(analysis_mutex());
  vector_safe().insert(reinterpret_cast<uint64_t>(fn));
}

Clobbers clobbers_of(const void* fn) {
  static auto* cache = new std::unordered_map<const void*, Clobbers>;
  std::lock_guard guard(analysis_mutex());
  auto [it, fresh] = cache->try_emplace(fn);
  if (fresh) {
    it->second = analyse(reinterpret_cast<uint64_t>(fn));
    if (debug())
      std::fprintf(stderr,
                   "qplug: callee %p: %s gprs %#x vector %#x mask %#x mxcsr %d fp %d vex %d\n", fn,
                   it->second.unknown ? "unknown" : "known", it->second.gprs, it->second.vector,
                   it->second.mask, it->second.mxcsr, it->second.fp, it->second.vex);
  }
  return it->second;
}

}  // namespace qplug::x86_64
