// The fast plain-instruction length decoder against Zydis, on the code of
// real binaries (a linear sweep of their executable segments): wherever the
// fast path accepts an instruction, Zydis must agree on its length and find
// it plain (no transfer, no RIP-relative or FS/GS operand, not a trap).
#include "x86_64/plain_length.h"

#include <doctest/doctest.h>
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "x86_64/decoder.h"

using qplug::x86_64::DecodedInsn;
using qplug::x86_64::Decoder;
using qplug::x86_64::InsnKind;
using qplug::x86_64::plain_insn_length;

namespace {

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Tally {
  size_t decoded = 0, accepted = 0;
};

void sweep(const uint8_t* code, size_t size, Tally& tally) {
  static const Decoder decoder;
  for (size_t off = 0; off < size;) {
    DecodedInsn d;
    const size_t avail = size - off;
    const size_t fast = plain_insn_length(code + off, avail);
    if (!decoder.decode(code + off, avail, 0x400000 + off, d)) {
      ++off;  // not an instruction (data, padding): nothing to agree on
      continue;
    }
    ++tally.decoded;
    if (fast != 0) {
      ++tally.accepted;
      INFO("at offset " << off << ": " << decoder.format(d) << " ("
                        << qplug::x86_64::hex_bytes(code + off, d.length()) << ")");
      REQUIRE(fast == d.length());
      REQUIRE(d.kind == InsnKind::kPlain);
      REQUIRE(d.rip_relative_operand() == nullptr);
      const bool fs_or_gs =
          (d.insn.attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS)) != 0;
      REQUIRE_FALSE(fs_or_gs);
      REQUIRE(d.insn.mnemonic != ZYDIS_MNEMONIC_RDFSBASE);
      REQUIRE(d.insn.mnemonic != ZYDIS_MNEMONIC_WRFSBASE);
    }
    off += d.length();
  }
}

}  // namespace

TEST_CASE("plain_insn_length agrees with Zydis on real code") {
  Tally tally;
  for (const char* path : {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/bin/bash",
                           "/usr/lib/x86_64-linux-gnu/libm.so.6"}) {
    const std::vector<uint8_t> file = read_file(path);
    REQUIRE_MESSAGE(file.size() > sizeof(Elf64_Ehdr), path);
    Elf64_Ehdr eh;
    std::memcpy(&eh, file.data(), sizeof eh);
    for (int i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      std::memcpy(&ph, file.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
      if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
      REQUIRE(ph.p_offset + ph.p_filesz <= file.size());
      sweep(file.data() + ph.p_offset, ph.p_filesz, tally);
    }
  }
  MESSAGE("decoded " << tally.decoded << ", fast path accepted " << tally.accepted);
  // The point of the fast path is that it takes most instructions (two thirds
  // here: the rest are transfers, RIP-relative and VEX/EVEX forms).
  const bool most = tally.accepted * 10 > tally.decoded * 6;
  CHECK(most);
}

TEST_CASE("plain_insn_length declines what translation rewrites") {
  const std::vector<std::vector<uint8_t>> declined = {
      {0x48, 0x8B, 0x05, 0, 0, 0, 0},              // mov rax, [rip+0]: relocated
      {0x64, 0x48, 0x8B, 0x04, 0x25, 0, 0, 0, 0},  // mov rax, fs:[0]: FS rewritten
      {0x65, 0x8B, 0x00},                          // GS: refused
      {0xC3},                                      // ret
      {0xE8, 0, 0, 0, 0},                          // call
      {0xFF, 0xE0},                                // jmp rax
      {0xFF, 0x10},                                // call [rax]
      {0x74, 0x00},                                // jz
      {0x0F, 0x05},                                // syscall
      {0xCC},                                      // int3
      {0x0F, 0x0B},                                // ud2
      {0xF3, 0x48, 0x0F, 0xAE, 0xC0},              // rdfsbase rax
      {0xC5, 0xF8, 0x77},                          // vzeroupper (VEX: Zydis)
      {0xC7, 0xF8, 0, 0, 0, 0},                    // xbegin
      {0x48, 0x8B},                                // truncated
  };
  for (const auto& bytes : declined) {
    INFO(qplug::x86_64::hex_bytes(bytes.data(), bytes.size()));
    CHECK(plain_insn_length(bytes.data(), bytes.size()) == 0);
  }
  const uint8_t mov_imm64[] = {0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(plain_insn_length(mov_imm64, sizeof mov_imm64) == 10);
  const uint8_t sib_disp32[] = {0x8B, 0x04, 0x25, 0, 0, 0, 0};  // mov eax, [abs32]
  CHECK(plain_insn_length(sib_disp32, sizeof sib_disp32) == 7);
  const uint8_t imm16[] = {0x66, 0x81, 0xC0, 0x34, 0x12};  // add ax, 0x1234
  CHECK(plain_insn_length(imm16, sizeof imm16) == 5);
}
