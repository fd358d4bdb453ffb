#include <doctest/doctest.h>

#include "loader/elf_loader.h"
#include "test_elf.h"

using qplug::loader::check_elf_header;
using qplug::loader::test::TestElf;

namespace {

std::string problem(const std::vector<uint8_t>& bytes) {
  auto r = check_elf_header("/x", bytes.data(), bytes.size());
  return r ? "" : r.error().message;
}

std::string problem(const TestElf& e) { return problem(e.build()); }

std::vector<uint8_t> elf32(uint16_t machine) {
  Elf32_Ehdr h{};
  memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS32;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_EXEC;
  h.e_machine = machine;
  h.e_phentsize = sizeof(Elf32_Phdr);
  h.e_phnum = 1;
  std::vector<uint8_t> out(sizeof h);
  memcpy(out.data(), &h, sizeof h);
  return out;
}

}  // namespace

TEST_CASE("check_elf_header accepts x86-64 executables and shared objects") {
  TestElf e = qplug::loader::test::static_exec();
  CHECK(problem(e) == "");
  e.eh.e_type = ET_DYN;
  CHECK(problem(e) == "");
  // Only the first 64 bytes are needed (execve following passes a prefix).
  std::vector<uint8_t> bytes = e.build();
  bytes.resize(64);
  CHECK(problem(bytes) == "");
}

TEST_CASE("check_elf_header rejects non-ELF and truncated input") {
  CHECK(problem(std::vector<uint8_t>{}) == "qplug: /x: not an ELF file");
  CHECK(check_elf_header("/x", nullptr, 0).error().message == "qplug: /x: not an ELF file");
  std::string script = "#!/bin/sh\necho hi\n";
  CHECK(problem(std::vector<uint8_t>(script.begin(), script.end())) ==
        "qplug: /x: not an ELF file");
  CHECK(problem(std::vector<uint8_t>{0x7f, 'E', 'L'}) == "qplug: /x: not an ELF file");
  CHECK(problem(std::vector<uint8_t>{0x7f, 'E', 'L', 'F'}) ==
        "qplug: /x: corrupt ELF header: truncated to 4 bytes (the ELF header has 64)");
  // Like the kernel's buffer, a short header reads as zero-padded: 63 bytes
  // lose only the top of e_shstrndx, 40 bytes lose e_phnum.
  std::vector<uint8_t> bytes = qplug::loader::test::static_exec().build();
  bytes.resize(63);
  CHECK(problem(bytes) == "");
  bytes.resize(40);
  CHECK(problem(bytes) ==
        "qplug: /x: corrupt ELF header: truncated to 40 bytes (the ELF header has 64)");
}

TEST_CASE("check_elf_header names foreign binaries") {
  CHECK(problem(elf32(EM_386)) ==
        "qplug: /x: 32-bit ELF (ELFCLASS32) is not supported, only x86-64");
  CHECK(problem(elf32(EM_ARM)) ==
        "qplug: /x: 32-bit ELF (ELFCLASS32) is not supported, only x86-64");
  // Class is decided from e_ident alone, even for a 32-bit header cut short.
  std::vector<uint8_t> short32 = elf32(EM_386);
  short32.resize(20);
  CHECK(problem(short32) == "qplug: /x: 32-bit ELF (ELFCLASS32) is not supported, only x86-64");

  TestElf e;
  e.eh.e_machine = EM_AARCH64;
  CHECK(problem(e) == "qplug: /x: ELF for machine 183 (aarch64) is not supported, only x86-64");
  e.eh.e_machine = EM_RISCV;
  CHECK(problem(e) == "qplug: /x: ELF for machine 243 (riscv) is not supported, only x86-64");
  e.eh.e_machine = EM_386;
  CHECK(problem(e) == "qplug: /x: ELF for machine 3 (i386) is not supported, only x86-64");
  e.eh.e_machine = EM_ARM;
  CHECK(problem(e) == "qplug: /x: ELF for machine 40 (arm) is not supported, only x86-64");
  e.eh.e_machine = 9999;
  CHECK(problem(e) == "qplug: /x: ELF for machine 9999 is not supported, only x86-64");

  // A header that fails is named by its byte order.
  TestElf be;
  be.eh.e_ident[EI_DATA] = ELFDATA2MSB;
  be.eh.e_machine = EM_PPC64 << 8;  // as a little-endian reader sees a big-endian 21
  CHECK(problem(be) == "qplug: /x: big-endian ELF (ELFDATA2MSB) is not supported, only x86-64");
}

TEST_CASE("check_elf_header ignores EI_CLASS, EI_DATA and the versions, as binfmt_elf does") {
  // The 64-bit loader only checks e_machine: any x86-64 header that is valid
  // read as ELF64 little-endian runs.
  for (int i = 0; i < 6; ++i) {
    TestElf e = qplug::loader::test::static_exec();
    if (i == 0) e.eh.e_ident[EI_CLASS] = ELFCLASS32;
    if (i == 1) e.eh.e_ident[EI_CLASS] = 9;
    if (i == 2) e.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    if (i == 3) e.eh.e_ident[EI_DATA] = 7;
    if (i == 4) e.eh.e_ident[EI_VERSION] = 0;
    if (i == 5) e.eh.e_version = 42;
    CAPTURE(i);
    CHECK(problem(e) == "");
  }
  // When it fails for another reason, a class of 32 names it.
  TestElf e = qplug::loader::test::static_exec();
  e.eh.e_ident[EI_CLASS] = ELFCLASS32;
  e.eh.e_phentsize = 32;
  CHECK(problem(e) == "qplug: /x: 32-bit ELF (ELFCLASS32) is not supported, only x86-64");
}

TEST_CASE("check_elf_header rejects non-executable types and bad program header tables") {
  TestElf e = qplug::loader::test::static_exec();
  e.eh.e_type = ET_REL;
  CHECK(problem(e) ==
        "qplug: /x: ELF type 1 (ET_REL, a relocatable object) is not an executable (ET_EXEC or "
        "ET_DYN)");
  e.eh.e_type = ET_CORE;
  CHECK(problem(e) ==
        "qplug: /x: ELF type 4 (ET_CORE, a core dump) is not an executable (ET_EXEC or ET_DYN)");
  e.eh.e_type = ET_NONE;
  CHECK(problem(e) == "qplug: /x: ELF type 0 (ET_NONE) is not an executable (ET_EXEC or ET_DYN)");
  e.eh.e_type = 0x1234;
  CHECK(problem(e) ==
        "qplug: /x: ELF type 4660 (unknown) is not an executable (ET_EXEC or ET_DYN)");

  TestElf f = qplug::loader::test::static_exec();
  f.eh.e_phentsize = 32;
  CHECK(problem(f) == "qplug: /x: corrupt ELF header: e_phentsize is 32, expected 56");

  TestElf g = qplug::loader::test::static_exec();
  g.ph.clear();
  CHECK(problem(g) == "qplug: /x: corrupt ELF header: no program headers");

  TestElf h = qplug::loader::test::static_exec();
  h.auto_phnum = false;
  h.eh.e_phnum = 1171;
  CHECK(problem(h) ==
        "qplug: /x: corrupt ELF header: too many program headers (1171, at most 1170)");

  TestElf i = qplug::loader::test::static_exec();
  i.auto_phnum = false;
  i.eh.e_phnum = 2;
  i.eh.e_phoff = ~uint64_t{0} - 16;
  i.file_size = 0x1000;
  CHECK(problem(i) ==
        "qplug: /x: corrupt ELF header: program header table (offset 0xffffffffffffffef) is "
        "outside the file");
}
