// Internal to the x86-64 backend: xbyak helpers shared by the emitter, the
// relocator and the context switch. Includes xbyak, so keep it out of headers
// that the rest of qplug includes.
#pragma once

#include <Zydis/Zydis.h>
#include <xbyak/xbyak.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "runtime/thread_state.h"
#include "x86_64/xstate.h"

namespace qplug::x86_64 {

// Xbyak's CodeGenerator constructs a few hundred register objects, which
// showed in start-up profiles when two were built per translated block. This
// one is built once (per thread, by its user) and pointed at each new buffer.
class RetargetableGenerator : public Xbyak::CodeGenerator {
 public:
  RetargetableGenerator() : CodeGenerator(sizeof placeholder_, placeholder_) {}
  // Emits from `buffer` on, at most `capacity` bytes. Labels are scoped to
  // the code that uses them: once they are gone, the label manager holds
  // nothing of them, so only an unfinished emission (an exception) needs the
  // full reset, whose cost showed in start-up profiles too.
  void retarget(uint8_t* buffer, size_t capacity) {
    top_ = buffer;
    maxSize_ = capacity;
    if (hasUndefinedLabel()) {
      reset();
    } else {
      Xbyak::ClearError();
      resetSize();
    }
  }

 private:
  static inline uint8_t placeholder_[16];
};

// %fs-relative operand for a ThreadState field. Emits the FS prefix byte
// itself, so it must be evaluated as the only memory operand of the very next
// instruction, e.g. g.mov(tls(g, base, offsetof(ThreadState, spill_r11)), g.r11).
inline Xbyak::Address tls(Xbyak::CodeGenerator& g, int64_t base, size_t field) {
  g.db(0x64);
  return g.qword[reinterpret_cast<void*>(base + static_cast<int64_t>(field))];
}
inline Xbyak::Address tls32(Xbyak::CodeGenerator& g, int64_t base, size_t field) {
  g.db(0x64);
  return g.dword[reinterpret_cast<void*>(base + static_cast<int64_t>(field))];
}

inline Xbyak::Address tls8(Xbyak::CodeGenerator& g, int64_t base, size_t field) {
  g.db(0x64);
  return g.byte[reinterpret_cast<void*>(base + static_cast<int64_t>(field))];
}
// %fs:[index * scale + field] for an array field of ThreadState.
inline Xbyak::Address tls_indexed(Xbyak::CodeGenerator& g, int64_t base, size_t field,
                                  const Xbyak::Reg64& index, int scale = 8) {
  g.db(0x64);
  return g.qword[index * scale + static_cast<size_t>(base + static_cast<int64_t>(field))];
}

// Hand-encoded forms of the %fs-relative instructions every block has
// (checked entry, exits, lookups): xbyak's general encoder showed in start-up
// profiles. All are `64 [REX.W] op ModRM(00 reg 100) SIB(25) disp32`, the
// absolute-address form; tests/unit/backend's golden listings decode them.
namespace tls_encoding {
inline void emit(Xbyak::CodeGenerator& g, int64_t base, size_t field, uint8_t rex, uint8_t opcode,
                 unsigned reg_field) {
  const auto disp = static_cast<int32_t>(base + static_cast<int64_t>(field));
  uint8_t bytes[9] = {0x64, rex, opcode, static_cast<uint8_t>(((reg_field & 7) << 3) | 4), 0x25};
  std::memcpy(bytes + 5, &disp, 4);
  if (rex) {
    g.db(bytes, 9);
  } else {  // no REX byte
    bytes[1] = bytes[2];
    bytes[2] = bytes[3];
    bytes[3] = bytes[4];
    std::memcpy(bytes + 4, &disp, 4);
    g.db(bytes, 8);
  }
}
}  // namespace tls_encoding

// mov reg64, %fs:field
inline void tls_load(Xbyak::CodeGenerator& g, int64_t base, const Xbyak::Reg64& reg, size_t field) {
  const int r = reg.getIdx();
  tls_encoding::emit(g, base, field, static_cast<uint8_t>(0x48 | ((r >> 3) << 2)), 0x8B,
                     static_cast<unsigned>(r));
}
// mov %fs:field, reg64
inline void tls_store(Xbyak::CodeGenerator& g, int64_t base, size_t field,
                      const Xbyak::Reg64& reg) {
  const int r = reg.getIdx();
  tls_encoding::emit(g, base, field, static_cast<uint8_t>(0x48 | ((r >> 3) << 2)), 0x89,
                     static_cast<unsigned>(r));
}
// jmp qword %fs:field, always kTlsJmpBytes long (64 FF 24 25 disp32)
inline constexpr uint8_t kTlsJmpBytes = 8;
inline void tls_jmp(Xbyak::CodeGenerator& g, int64_t base, size_t field) {
  tls_encoding::emit(g, base, field, 0, 0xFF, 4);
}
// mov qword %fs:field, imm32 (sign-extended)
inline void tls_store_imm32(Xbyak::CodeGenerator& g, int64_t base, size_t field, int32_t imm) {
  tls_encoding::emit(g, base, field, 0x48, 0xC7, 0);
  g.dd(static_cast<uint32_t>(imm));
}

#define QPLUG_TLS_FIELD(field) offsetof(::qplug::runtime::ThreadState, field)
#define QPLUG_TLS_GPR(n) \
  (offsetof(::qplug::runtime::ThreadState, gpr) + static_cast<size_t>(n) * sizeof(uint64_t))

// 64-bit general register with hardware number `n` (0 = rax ... 15 = r15).
inline Xbyak::Reg64 gpr64(int n) { return Xbyak::Reg64(n); }

// Hardware number of a Zydis 64-bit general register, or -1.
inline int gpr_number(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return -1;
  ZydisRegister r64 = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (r64 < ZYDIS_REGISTER_RAX || r64 > ZYDIS_REGISTER_R15) return -1;
  return static_cast<int>(r64 - ZYDIS_REGISTER_RAX);
}

// edx:eax = the components qplug saves (x86_64/xstate.h), for XSAVE/XRSTOR.
inline void load_xstate_mask(Xbyak::CodeGenerator& g, const XstateLayout& l = xstate()) {
  g.mov(g.eax, static_cast<uint32_t>(l.mask));
  g.mov(g.edx, static_cast<uint32_t>(l.mask >> 32));
}

inline bool fits_int32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace qplug::x86_64
