// Decoder: Zydis behind a small interface. Turns guest bytes into DecodedInsn
// records and classifies each by what the translator must do with it.
#pragma once

#include <Zydis/Zydis.h>

#include <cstdint>
#include <string>

namespace qplug::x86_64 {

// What the block builder and emitter do with an instruction.
enum class InsnKind {
  kPlain,         // copied through (possibly relocated)
  kJmpDirect,     // jmp rel8/rel32
  kJcc,           // jcc rel8/rel32
  kJccRel8Only,   // jrcxz/jecxz/loop/loope/loopne: only a rel8 form exists
  kCallDirect,    // call rel32
  kJmpIndirect,   // jmp r/m64
  kCallIndirect,  // call r/m64
  kRet,           // ret / ret imm16
  kSyscall,       // syscall
  kTrap,          // int3, ud0/1/2, hlt, int n, privileged: leaves to the dispatcher
  kUnsupported,   // cannot be run by qplug (far transfers, GS use, sysenter, xbegin...)
};

struct DecodedInsn {
  uint64_t pc = 0;
  ZydisDecodedInstruction insn{};
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT]{};
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH]{};
  InsnKind kind = InsnKind::kPlain;
  // False when the decoder skipped the operands (Decoder::decode's
  // `all_operands`): then `ops` is stale and the instruction is a plain one
  // with no RIP-relative, FS or GS operand.
  bool operands_decoded = false;

  uint8_t length() const { return insn.length; }
  uint64_t next_pc() const { return pc + insn.length; }
  // Target of a direct branch or call (kind kJmpDirect, kJcc, kJccRel8Only, kCallDirect).
  uint64_t branch_target() const;
  // The memory operand whose base is RIP, or nullptr.
  const ZydisDecodedOperand* rip_relative_operand() const;
  // True if the instruction names `reg` (any width) explicitly or implicitly.
  bool uses_register(ZydisRegister reg64) const;
};

class Decoder {
 public:
  Decoder();
  // Decodes one instruction of `avail` bytes at guest address `pc`. Returns
  // false if the bytes do not form a valid instruction (or are truncated).
  // Without `all_operands`, plain instructions that need no rewriting are only
  // measured (plain_length.h), or their operands are not decoded: translation
  // only copies those. Then `insn` holds little more than the length (mnemonic
  // ZYDIS_MNEMONIC_INVALID, no attributes) and `ops` is stale.
  bool decode(const uint8_t* bytes, size_t avail, uint64_t pc, DecodedInsn& out,
              bool all_operands = true) const;
  // AT&T or Intel text of `d` (branch targets shown as absolute addresses).
  std::string format(const DecodedInsn& d, bool att = false) const;

 private:
  ZydisDecoder decoder_;
};

// Hex dump "0f 0b" of an instruction's bytes, for error messages.
std::string hex_bytes(const uint8_t* bytes, size_t n);

}  // namespace qplug::x86_64
