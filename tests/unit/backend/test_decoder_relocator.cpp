// Decoder classification and relocator output on fixed byte strings.
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>
#include <xbyak/xbyak.h>

#include "x86_64/decoder.h"
#include "x86_64/relocator.h"

using qplug::x86_64::DecodedInsn;
using qplug::x86_64::Decoder;
using qplug::x86_64::InsnKind;

namespace {

DecodedInsn decode(std::vector<uint8_t> bytes, uint64_t pc = 0x400000) {
  static const Decoder decoder;
  DecodedInsn d;
  REQUIRE(decoder.decode(bytes.data(), bytes.size(), pc, d));
  return d;
}

// Relocates `bytes` decoded at guest `pc` into a buffer at `host`, decodes the
// result back and returns it (for single-instruction outputs).
struct Relocated {
  std::vector<uint8_t> bytes;
};

Relocated relocate(std::vector<uint8_t> bytes, uint64_t pc, uint8_t* host) {
  DecodedInsn d = decode(bytes, pc);
  Xbyak::CodeGenerator g(4096, host);
  std::string error;
  REQUIRE(qplug::x86_64::relocate_plain(g, d, -0x100, &error));
  return {std::vector<uint8_t>(host, host + g.getSize())};
}

uint8_t* host_buffer() {
  static uint8_t* buf = static_cast<uint8_t*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  return buf;
}

uint64_t rip_target(const std::vector<uint8_t>& bytes, uint64_t pc) {
  DecodedInsn d = decode(bytes, pc);
  REQUIRE(d.rip_relative_operand() != nullptr);
  return d.next_pc() + static_cast<uint64_t>(d.insn.raw.disp.value);
}

}  // namespace

TEST_CASE("control transfers are classified") {
  CHECK(decode({0xEB, 0x10}).kind == InsnKind::kJmpDirect);
  CHECK(decode({0xE9, 0, 1, 0, 0}).kind == InsnKind::kJmpDirect);
  CHECK(decode({0x74, 0x05}).kind == InsnKind::kJcc);
  CHECK(decode({0x0F, 0x8F, 0, 0, 0, 0}).kind == InsnKind::kJcc);
  CHECK(decode({0xE3, 0x05}).kind == InsnKind::kJccRel8Only);             // jrcxz
  CHECK(decode({0xE2, 0xFE}).kind == InsnKind::kJccRel8Only);             // loop
  CHECK(decode({0xE8, 0, 0, 0, 0}).kind == InsnKind::kCallDirect);
  CHECK(decode({0xFF, 0xD0}).kind == InsnKind::kCallIndirect);            // call rax
  CHECK(decode({0xFF, 0x15, 0, 0, 0, 0}).kind == InsnKind::kCallIndirect);  // call [rip]
  CHECK(decode({0x41, 0xFF, 0xE3}).kind == InsnKind::kJmpIndirect);       // jmp r11
  CHECK(decode({0xFF, 0x24, 0xC5, 0, 0, 0, 0}).kind == InsnKind::kJmpIndirect);  // jmp [rax*8]
  CHECK(decode({0xC3}).kind == InsnKind::kRet);
  CHECK(decode({0xC2, 0x10, 0x00}).kind == InsnKind::kRet);
  CHECK(decode({0x0F, 0x05}).kind == InsnKind::kSyscall);
  CHECK(decode({0xCC}).kind == InsnKind::kTrap);
  CHECK(decode({0x0F, 0x0B}).kind == InsnKind::kTrap);  // ud2
  CHECK(decode({0xF4}).kind == InsnKind::kTrap);        // hlt
  CHECK(decode({0x65, 0x48, 0x8B, 0x04, 0x25, 0, 0, 0, 0}).kind == InsnKind::kUnsupported);  // gs:
  CHECK(decode({0xF3, 0x48, 0x0F, 0xAE, 0xC8}).kind == InsnKind::kUnsupported);  // rdgsbase
  CHECK(decode({0x48, 0x89, 0xC3}).kind == InsnKind::kPlain);
}

TEST_CASE("branch targets are absolute guest addresses") {
  CHECK(decode({0xEB, 0x10}, 0x1000).branch_target() == 0x1012);
  CHECK(decode({0x0F, 0x84, 0x00, 0x01, 0x00, 0x00}, 0x1000).branch_target() == 0x1106);
  CHECK(decode({0xE8, 0xFB, 0xFF, 0xFF, 0xFF}, 0x1000).branch_target() == 0x1000);
}

TEST_CASE("plain instructions are copied unchanged") {
  std::vector<uint8_t> add = {0x48, 0x01, 0xD8};  // add rax, rbx
  CHECK(relocate(add, 0x400000, host_buffer()).bytes == add);
}

TEST_CASE("fs: overrides become gs:, rd/wrfsbase become rd/wrgsbase") {
  // mov rax, fs:[0x28]
  auto out = relocate({0x64, 0x48, 0x8B, 0x04, 0x25, 0x28, 0, 0, 0}, 0x400000, host_buffer());
  CHECK(out.bytes == std::vector<uint8_t>{0x65, 0x48, 0x8B, 0x04, 0x25, 0x28, 0, 0, 0});
  // rdfsbase rax (F3 48 0F AE C0) -> rdgsbase rax (F3 48 0F AE C8)
  out = relocate({0xF3, 0x48, 0x0F, 0xAE, 0xC0}, 0x400000, host_buffer());
  CHECK(out.bytes == std::vector<uint8_t>{0xF3, 0x48, 0x0F, 0xAE, 0xC8});
  // wrfsbase rdi (F3 48 0F AE D7) -> wrgsbase rdi (F3 48 0F AE DF)
  out = relocate({0xF3, 0x48, 0x0F, 0xAE, 0xD7}, 0x400000, host_buffer());
  CHECK(out.bytes == std::vector<uint8_t>{0xF3, 0x48, 0x0F, 0xAE, 0xDF});
}

TEST_CASE("RIP-relative operands keep their target when in range") {
  uint8_t* host = host_buffer();
  const uint64_t pc = reinterpret_cast<uint64_t>(host) + 0x100000;  // guest code 1 MiB away
  const std::vector<std::vector<uint8_t>> forms = {
      {0x48, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00},                    // mov rax, [rip+0x10]
      {0x48, 0x8D, 0x3D, 0xF0, 0xFF, 0xFF, 0xFF},                    // lea rdi, [rip-0x10]
      {0x83, 0x3D, 0x10, 0x00, 0x00, 0x00, 0x05},                    // cmp dword [rip+0x10], 5
      {0xC6, 0x05, 0x10, 0x00, 0x00, 0x00, 0x07},                    // mov byte [rip+0x10], 7
      {0x66, 0x0F, 0x6F, 0x05, 0x10, 0x00, 0x00, 0x00},              // movdqa xmm0, [rip+0x10]
      {0xC5, 0xFE, 0x6F, 0x05, 0x10, 0x00, 0x00, 0x00},              // vmovdqu ymm0, [rip+0x10]
      {0x62, 0xF1, 0xFE, 0x48, 0x6F, 0x05, 0x10, 0x00, 0x00, 0x00},  // vmovdqu64 zmm0, [rip+0x10]
      {0x64, 0x48, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00},              // mov rax, fs:[rip+0x10]
  };
  for (const auto& bytes : forms) {
    CAPTURE(bytes.size());
    auto out = relocate(bytes, pc, host);
    REQUIRE(out.bytes.size() == bytes.size());
    CHECK(rip_target(out.bytes, reinterpret_cast<uint64_t>(host)) == rip_target(bytes, pc));
  }
}

TEST_CASE("RIP-relative operands beyond 2 GiB go through a scratch register") {
  uint8_t* host = host_buffer();
  const uint64_t pc = reinterpret_cast<uint64_t>(host) + (8ull << 30);  // 8 GiB away
  // mov rax, [rip+0x10]: r11 is free, so: park r11; mov r11, target; mov rax, [r11]; restore r11
  auto out = relocate({0x48, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00}, pc, host);
  static const Decoder decoder;
  std::vector<std::string> text;
  for (size_t off = 0; off < out.bytes.size();) {
    DecodedInsn d;
    REQUIRE(decoder.decode(out.bytes.data() + off, out.bytes.size() - off, off, d));
    text.push_back(decoder.format(d));
    off += d.length();
  }
  REQUIRE(text.size() == 4);
  CHECK(text[0].rfind("mov fs:", 0) == 0);
  CHECK(text[1].find("r11") != std::string::npos);
  CHECK(text[2] == "mov rax, [r11]");
  CHECK(text[3].rfind("mov r11, fs:", 0) == 0);
  char expected[64];
  std::snprintf(expected, sizeof expected, "mov r11, 0x%lX", static_cast<unsigned long>(pc + 7 + 0x10));
  CHECK(text[1] == expected);
}
