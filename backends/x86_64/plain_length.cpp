#include "x86_64/plain_length.h"

#include <array>

namespace qplug::x86_64 {
namespace {

// What follows an opcode, for the opcodes this decoder accepts.
enum Form : uint8_t {
  kNo,       // declined: Zydis decides (transfers, traps, FS/GS, VEX/EVEX, rare forms)
  kBare,     // nothing
  kModrm,    // ModRM (+ SIB + displacement)
  kModrmI8,  // ModRM, imm8
  kModrmIz,  // ModRM, imm16/32 (66 prefix: 16)
  kI8,       // imm8
  kIz,       // imm16/32
  kIv,       // imm16/32/64 (mov r, imm: REX.W 64, 66 prefix 16)
  kEnter,    // imm16, imm8
  kGroup3b,  // F6: ModRM, imm8 for /0 and /1
  kGroup3v,  // F7: ModRM, imm16/32 for /0 and /1
  kGroup5,   // FF: ModRM; only /0 (inc), /1 (dec), /6 (push) accepted
  kMovI8,    // C6: ModRM, imm8 (declined: C6 F8, xabort)
  kMovIz,    // C7: ModRM, imm16/32 (declined: C7 F8, xbegin)
};

constexpr std::array<Form, 256> one_byte_map() {
  std::array<Form, 256> t{};  // kNo
  // ALU blocks 00-3D: r/m forms, then AL/eAX immediates; x6, x7, xE, xF of
  // each row are invalid in 64-bit mode, prefixes or the 0F escape.
  for (int base = 0; base < 0x40; base += 8) {
    t[base + 0] = t[base + 1] = t[base + 2] = t[base + 3] = kModrm;
    t[base + 4] = kI8;
    t[base + 5] = kIz;
  }
  for (int op = 0x50; op <= 0x5F; ++op) t[op] = kBare;  // push/pop r
  t[0x63] = kModrm;                                     // movsxd
  t[0x68] = kIz;
  t[0x69] = kModrmIz;
  t[0x6A] = kI8;
  t[0x6B] = kModrmI8;
  t[0x80] = kModrmI8;
  t[0x81] = kModrmIz;
  t[0x83] = kModrmI8;
  for (int op = 0x84; op <= 0x8D; ++op) t[op] = kModrm;  // test, xchg, mov, lea
  for (int op = 0x90; op <= 0x9F; ++op) t[op] = kBare;   // xchg, cbw.., fwait, pushf, sahf
  t[0x9A] = kNo;                                         // far call
  for (int op = 0xA4; op <= 0xAF; ++op) t[op] = kBare;   // string instructions
  t[0xA8] = kI8;
  t[0xA9] = kIz;
  for (int op = 0xB0; op <= 0xB7; ++op) t[op] = kI8;
  for (int op = 0xB8; op <= 0xBF; ++op) t[op] = kIv;
  t[0xC0] = t[0xC1] = kModrmI8;
  t[0xC6] = kMovI8;
  t[0xC7] = kMovIz;
  t[0xC8] = kEnter;
  t[0xC9] = kBare;  // leave
  for (int op = 0xD0; op <= 0xD3; ++op) t[op] = kModrm;
  t[0xD7] = kBare;                                       // xlat
  for (int op = 0xD8; op <= 0xDF; ++op) t[op] = kModrm;  // x87
  t[0xF5] = kBare;                                       // cmc
  t[0xF6] = kGroup3b;
  t[0xF7] = kGroup3v;
  t[0xF8] = t[0xF9] = t[0xFC] = t[0xFD] = kBare;  // clc stc cld std
  t[0xFE] = kModrm;
  t[0xFF] = kGroup5;
  return t;
}

constexpr std::array<Form, 256> two_byte_map() {
  std::array<Form, 256> t{};                             // kNo
  t[0x0D] = kModrm;                                      // prefetch
  for (int op = 0x10; op <= 0x1F; ++op) t[op] = kModrm;  // SSE moves, hint nops, endbr
  for (int op = 0x28; op <= 0x2F; ++op) t[op] = kModrm;
  t[0x31] = kBare;                                       // rdtsc
  for (int op = 0x40; op <= 0x6F; ++op) t[op] = kModrm;  // cmovcc, SSE/MMX
  for (int op = 0x70; op <= 0x73; ++op) t[op] = kModrmI8;
  t[0x74] = t[0x75] = t[0x76] = kModrm;
  t[0x77] = kBare;  // emms
  for (int op = 0x7C; op <= 0x7F; ++op) t[op] = kModrm;
  for (int op = 0x90; op <= 0x9F; ++op) t[op] = kModrm;  // setcc
  t[0xA2] = kBare;  // cpuid: runs natively (the guest sees the host CPU)
  t[0xA3] = t[0xA5] = t[0xAB] = t[0xAD] = t[0xAF] = kModrm;
  t[0xA4] = t[0xAC] = kModrmI8;
  t[0xB0] = t[0xB1] = t[0xB3] = t[0xB6] = t[0xB7] = t[0xB8] = kModrm;
  t[0xBA] = kModrmI8;
  for (int op = 0xBB; op <= 0xC1; ++op) t[op] = kModrm;
  t[0xC2] = kModrmI8;
  t[0xC3] = kModrm;
  t[0xC4] = t[0xC5] = t[0xC6] = kModrmI8;
  for (int op = 0xC8; op <= 0xCF; ++op) t[op] = kBare;  // bswap
  for (int op = 0xD0; op <= 0xFE; ++op) t[op] = kModrm;
  return t;
}

constexpr auto kOneByte = one_byte_map();
constexpr auto kTwoByte = two_byte_map();

constexpr size_t kMaxLength = 15;

// Length of ModRM + SIB + displacement at p, or 0 for a RIP-relative operand
// (relocated: Zydis decodes it) or too few bytes.
size_t modrm_length(const uint8_t* p, size_t avail) {
  if (avail < 1) return 0;
  const uint8_t modrm = p[0];
  const unsigned mod = modrm >> 6, rm = modrm & 7;
  if (mod == 3) return 1;
  if (mod == 0 && rm == 5) return 0;  // [rip + disp32]
  size_t n = 1;
  if (rm == 4) {
    if (avail < 2) return 0;
    if (mod == 0 && (p[1] & 7) == 5) n += 4;  // [index*s + disp32]
    ++n;
  }
  if (mod == 1) n += 1;
  if (mod == 2) n += 4;
  return n;
}

}  // namespace

size_t plain_insn_length(const uint8_t* p, size_t avail) {
  if (avail > kMaxLength) avail = kMaxLength;
  size_t i = 0;
  bool opsize16 = false, rex_w = false;
  // Legacy prefixes, then at most one REX right before the opcode.
  for (;; ++i) {
    if (i >= avail) return 0;
    const uint8_t b = p[i];
    if (b == 0x66) {
      opsize16 = true;
    } else if (b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E || b == 0x36 ||
               b == 0x3E || b == 0x26) {
      // address size (ModRM lengths are the same), lock, rep, ignored segments
    } else {
      break;  // 0x64/0x65 (FS/GS) fall to the opcode table, which declines them
    }
  }
  if ((p[i] & 0xF0) == 0x40) {
    rex_w = (p[i] & 8) != 0;
    if (++i >= avail) return 0;
  }
  Form form;
  uint8_t opcode = p[i++];
  if (opcode == 0x0F) {
    if (i >= avail) return 0;
    opcode = p[i++];
    if (opcode == 0x38 || opcode == 0x3A) {  // three-byte maps: all ModRM, 3A with imm8
      if (i >= avail) return 0;
      ++i;
      form = opcode == 0x38 ? kModrm : kModrmI8;
    } else {
      form = kTwoByte[opcode];
    }
  } else {
    form = kOneByte[opcode];
  }
  const size_t iz = opsize16 && !rex_w ? 2 : 4;
  size_t imm = 0;
  bool modrm = true;
  switch (form) {
    case kNo:
      return 0;
    case kBare:
      modrm = false;
      break;
    case kModrm:
      break;
    case kModrmI8:
      imm = 1;
      break;
    case kModrmIz:
      imm = iz;
      break;
    case kI8:
      modrm = false;
      imm = 1;
      break;
    case kIz:
      modrm = false;
      imm = iz;
      break;
    case kIv:
      modrm = false;
      imm = rex_w ? 8 : iz;
      break;
    case kEnter:
      modrm = false;
      imm = 3;
      break;
    case kGroup3b:
    case kGroup3v:
    case kGroup5:
    case kMovI8:
    case kMovIz: {
      if (i >= avail) return 0;
      const unsigned reg = (p[i] >> 3) & 7;
      if (form == kGroup3b && reg <= 1) imm = 1;
      if (form == kGroup3v && reg <= 1) imm = iz;
      if (form == kGroup5 && reg != 0 && reg != 1 && reg != 6) return 0;  // call, jmp
      if ((form == kMovI8 || form == kMovIz) && p[i] == 0xF8) return 0;   // xabort, xbegin
      if (form == kMovI8) imm = 1;
      if (form == kMovIz) imm = iz;
      if ((form == kMovI8 || form == kMovIz) && reg != 0) return 0;
      break;
    }
  }
  if (modrm) {
    const size_t m = modrm_length(p + i, avail - i);
    if (m == 0) return 0;
    i += m;
  }
  i += imm;
  return i <= avail ? i : 0;
}

}  // namespace qplug::x86_64
