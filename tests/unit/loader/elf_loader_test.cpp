#include "loader/elf_loader.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_elf.h"

using namespace qplug::loader;
using qplug::loader::test::all_bytes;
using qplug::loader::test::file_at;
using qplug::loader::test::outcome;
using qplug::loader::test::perms_at;
using qplug::loader::test::range_is_free;
using qplug::loader::test::small_brk;
using qplug::loader::test::TempDir;
using qplug::loader::test::TestElf;

namespace {

constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kMiB = 1 << 20;

}  // namespace

TEST_CASE("static ET_EXEC maps at its addresses with zeroed bss") {
  TempDir dir;
  std::string path = dir.write("static", qplug::loader::test::static_exec());
  auto r = load_program(path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  const GuestProgram& p = *r;
  CHECK(p.main.path == path);
  CHECK(p.main.load_bias == 0);
  CHECK(p.main.entry == kBase + 0x100);
  CHECK(p.first_pc == kBase + 0x100);
  CHECK(p.main.phdr_addr == kBase + 64);  // no PT_PHDR: found inside the PT_LOAD
  CHECK(p.main.phnum == 2);
  CHECK(p.main.phentsize == 56);
  CHECK(p.main.start_code == kBase);
  CHECK(p.main.end_code == kBase + 0x200);
  CHECK(p.main.start_data == kBase);
  CHECK(p.main.end_data == kBase + 0x200);
  CHECK(p.main.lowest == kBase);
  CHECK(p.main.highest == kBase + 0x3000);
  CHECK_FALSE(p.main.executable_stack);
  CHECK_FALSE(p.interp.has_value());
  CHECK(p.interp_name.empty());
  CHECK(p.brk_start == kBase + 0x4000);  // a page after the bss, as the kernel leaves
  CHECK(p.brk_reserved_end == kBase + 0x4000 + 16 * kMiB);

  CHECK(memcmp(reinterpret_cast<void*>(kBase), ELFMAG, SELFMAG) == 0);
  CHECK(all_bytes(kBase + 0x100, 0x100, 0xf4));
  CHECK(all_bytes(kBase + 0x200, 0x2e00, 0));  // file tail zeroed, then anonymous bss
  auto* phdrs = reinterpret_cast<const Elf64_Phdr*>(p.main.phdr_addr);
  CHECK(phdrs[0].p_type == PT_LOAD);
  CHECK(phdrs[1].p_type == PT_GNU_STACK);
  CHECK(perms_at(kBase) == "rwxp");
  CHECK(file_at(kBase) == path);
  CHECK(perms_at(kBase + 0x2000) == "rwxp");
  CHECK(file_at(kBase + 0x2000) == "");
  CHECK(perms_at(p.main.highest) == "");  // the gap
  CHECK(perms_at(p.brk_start) == "---p");
  CHECK(perms_at(p.brk_reserved_end - 1) == "---p");

  SUBCASE("the same fixed range cannot be mapped twice") {
    auto again = load_program(path, small_brk());
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message ==
          "qplug: " + path +
              ": cannot map the image at 0x10000000-0x10003000: the address range is already in "
              "use in this process");
    CHECK(again.error().exit_status == 1);
  }
  unmap_program(p);
  CHECK(range_is_free(kBase, 0x4000 + 16 * kMiB));
}

TEST_CASE("ET_EXEC brk reservation shrinks around existing mappings and can be disabled") {
  TempDir dir;
  std::string path = dir.write("static", qplug::loader::test::static_exec());
  // Something lives 1 MiB after the image.
  void* blocker = mmap(reinterpret_cast<void*>(kBase + 0x3000 + kMiB), 0x1000, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  REQUIRE(blocker != MAP_FAILED);
  auto r = load_program(path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->brk_reserved_end > r->brk_start);
  CHECK(r->brk_reserved_end <= kBase + 0x3000 + kMiB);
  unmap_program(*r);
  munmap(blocker, 0x1000);

  LoadOptions none;
  none.brk_reserve = 0;
  auto n = load_program(path, none);
  REQUIRE_MESSAGE(n.ok(), n.error().message);
  CHECK(n->brk_reserved_end <= n->brk_start);
  CHECK(perms_at(n->main.highest) == "");
  unmap_program(*n);
}

TEST_CASE("PT_GNU_STACK with PF_X and execute-only segments") {
  TestElf e = qplug::loader::test::static_exec();
  e.ph[0].p_flags = PF_X;
  e.ph[1].p_flags = PF_R | PF_W | PF_X;
  TempDir dir;
  std::string path = dir.write("xonly", e);
  auto r = load_program(path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->main.executable_stack);
  CHECK(perms_at(kBase) == "r-xp");               // readable so that the translator can decode it
  CHECK(r->main.start_data == r->main.end_code);  // no writable segment
  CHECK(r->main.end_data == r->main.end_code);
  unmap_program(*r);
}

TEST_CASE("ET_DYN (static-pie) maps anywhere with each segment's protection") {
  TempDir dir;
  std::string path = dir.write("pie", qplug::loader::test::dyn_image());
  auto r = load_program(path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  const LoadedImage& m = r->main;
  const uint64_t b = m.load_bias;
  CHECK(b != 0);
  CHECK(b % 4096 == 0);
  CHECK(m.lowest == b);
  CHECK(m.highest == b + 0x6000);
  CHECK(m.entry == b + 0x1000);
  CHECK(r->first_pc == m.entry);
  CHECK_FALSE(r->interp.has_value());
  CHECK(m.phdr_addr == b + 64);
  CHECK(m.phnum == 4);
  CHECK(m.start_code == b);
  CHECK(m.end_code == b + 0x1200);
  CHECK(m.start_data == b + 0x3200);
  CHECK(m.end_data == b + 0x3300);
  CHECK(r->brk_start == m.highest + 0x1000);
  CHECK(r->brk_reserved_end == r->brk_start + 16 * kMiB);

  CHECK(perms_at(b) == "r-xp");
  CHECK(perms_at(b + 0x1000) == "r-xp");
  CHECK(perms_at(b + 0x2000) == "---p");  // the gap stays reserved
  CHECK(perms_at(b + 0x3000) == "rw-p");
  CHECK(perms_at(b + 0x5000) == "rw-p");
  CHECK(perms_at(m.highest) == "");  // the gap before the brk
  CHECK(perms_at(r->brk_start) == "---p");
  CHECK(all_bytes(b + 0x1000, 0x200, 0xc3));
  CHECK(all_bytes(b + 0x3200, 0x100, 0x55));
  CHECK(all_bytes(b + 0x3300, 0x2d00, 0));
  // The text's last page shows the file past p_filesz, as the kernel leaves it.
  CHECK(all_bytes(b + 0x1200, 0x100, 0x55));
  unmap_program(*r);
  CHECK(range_is_free(b, 0x7000 + 16 * kMiB));
}

TEST_CASE("ET_DYN honours a large p_align") {
  TestElf e = qplug::loader::test::dyn_image();
  e.ph[1].p_align = 0x200000;
  e.ph[2].p_align = 0x200000;
  TempDir dir;
  std::string path = dir.write("aligned", e);
  for (int i = 0; i < 4; ++i) {
    auto r = load_program(path, small_brk());
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->main.load_bias % 0x200000 == 0);
    CHECK(perms_at(r->main.lowest) == "r-xp");
    unmap_program(*r);
  }
}

TEST_CASE("file errors") {
  TempDir dir;
  std::string missing = dir.path() + "/nope";
  CHECK(load_program(missing, {}).error().message ==
        "qplug: " + missing + ": No such file or directory");
  CHECK(load_program(dir.path(), {}).error().message ==
        "qplug: " + dir.path() + ": Is a directory");
  std::string noexec = dir.write("noexec", qplug::loader::test::static_exec(), 0644);
  CHECK(load_program(noexec, {}).error().message == "qplug: " + noexec + ": Permission denied");
  CHECK(load_program("/dev/null", {}).error().message == "qplug: /dev/null: not a regular file");
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0755) == 0);
  CHECK(load_program(fifo, {}).error().message == "qplug: " + fifo + ": not a regular file");
  std::string text = dir.write("text", std::vector<uint8_t>{'h', 'i', '\n'});
  CHECK(load_program(text, {}).error().message == "qplug: " + text + ": not an ELF file");
  std::string empty = dir.write("empty", std::vector<uint8_t>{});
  CHECK(load_program(empty, {}).error().message == "qplug: " + empty + ": not an ELF file");
}

TEST_CASE("corrupt headers are refused before the point of no return") {
  // execve would return an error (ENOEXEC, EIO): qplug exits with status 1.
  using qplug::loader::test::static_exec;
  auto refused = [](const TestElf& e) {
    qplug::Error r = outcome(e);
    CHECK(r.signal == 0);
    CHECK(r.exit_status == 1);
    return r.message;
  };
  {
    TestElf e = static_exec();
    e.eh.e_machine = EM_AARCH64;
    CHECK(refused(e) == "ELF for machine 183 (aarch64) is not supported, only x86-64");
  }
  {
    TestElf e = static_exec();
    e.file_size = 40;
    CHECK(refused(e) == "corrupt ELF header: truncated to 40 bytes (the ELF header has 64)");
  }
  {
    TestElf e = static_exec();
    e.eh.e_phoff = 0x260;
    e.file_size = 0x280;
    CHECK(refused(e) ==
          "corrupt ELF header: program header table (offset 0x260, 2 entries) is outside the "
          "file (0x280 bytes)");
  }
  {
    TestElf e = static_exec();
    e.add(PT_INTERP, PF_R, 0x240, 0, 8, 8);
    e.fill(0x240, 8, 'x');
    CHECK(refused(e) == "corrupt ELF header: program header 2: PT_INTERP is not NUL-terminated");
    e.ph[2].p_filesz = 1;
    CHECK(refused(e) == "corrupt ELF header: program header 2: PT_INTERP size 1 is invalid");
    e.ph[2].p_filesz = 0x100;
    CHECK(refused(e) ==
          "corrupt ELF header: program header 2: PT_INTERP (offset 0x240, 256 bytes) is beyond "
          "the end of the file");
    // Only the first PT_INTERP counts: a broken second one is not read.
    e.ph[2].p_filesz = 8;
    e.put_string(0x240, "/no/ld1");
    e.add(PT_INTERP, PF_R, 0x10000, 0, 8, 8);
    CHECK(refused(e) == "cannot find interpreter /no/ld1: No such file or directory");
  }
}

TEST_CASE("failures after the point of no return die of SIGSEGV") {
  // The kernel has already dropped the old program: it kills the process.
  using qplug::loader::test::static_exec;
  auto killed = [](const TestElf& e) {
    qplug::Error r = outcome(e);
    CHECK(r.signal == SIGSEGV);
    return r.message;
  };
  {
    TestElf e = static_exec();
    e.ph[0].p_memsz = 0x100;
    CHECK(killed(e) ==
          "corrupt ELF header: program header 0: PT_LOAD p_filesz 0x200 is larger than p_memsz "
          "0x100");
  }
  {
    TestElf e = static_exec();
    e.ph[0].p_vaddr += 0x10;
    CHECK(killed(e) ==
          "corrupt ELF header: program header 0: PT_LOAD p_offset 0x0 and p_vaddr 0x10000010 "
          "differ modulo the page size (0x1000)");
  }
  {
    // Writable, with bss in the last file page, which is past the end of the
    // file: the kernel's padzero faults.
    TestElf e = static_exec();
    e.ph[0].p_offset = 0x1000;
    CHECK(killed(e) ==
          "program header 0: PT_LOAD file data (offset 0x1000, 0x200 bytes) ends past the end of "
          "the file (0x280 bytes) in a page shared with bss");
  }
  {
    TestElf e = static_exec();
    e.ph[0].p_vaddr = 0x7ffffffff000;
    CHECK(killed(e) ==
          "corrupt ELF header: program header 0: PT_LOAD at 0x7ffffffff000 (0x3000 bytes) is "
          "outside the user address space");
    e.ph[0].p_vaddr = 0x7fffffffe000;  // starts inside, ends outside
    CHECK(killed(e) ==
          "corrupt ELF header: program header 0: PT_LOAD at 0x7fffffffe000 (0x3000 bytes) is "
          "outside the user address space");
    e.ph[0].p_vaddr = 0xfffffffffffff000;
    CHECK(killed(e) ==
          "corrupt ELF header: program header 0: PT_LOAD at 0xfffffffffffff000 (0x3000 bytes) "
          "is outside the user address space");
  }
  {
    TestElf e = static_exec();
    e.eh.e_entry = 0x800000000000;
    CHECK(killed(e) == "entry point 0x800000000000 is outside the user address space");
  }
  {
    TestElf e = qplug::loader::test::dyn_image();
    for (Elf64_Phdr& ph : e.ph) {
      if (ph.p_type == PT_LOAD) ph.p_filesz = ph.p_memsz = ph.p_vaddr = 0;
    }
    CHECK(killed(e) == "corrupt ELF header: the PT_LOAD segments span no memory");
  }
}

TEST_CASE("an interpreter is mapped after the program, -L first") {
  TempDir dir;
  std::string interp = dir.write("ld.so", qplug::loader::test::dyn_image());

  auto with_interp = [](const std::string& name) {
    TestElf e = qplug::loader::test::dyn_image();
    e.ph.insert(e.ph.begin() + 1, Elf64_Phdr{PT_INTERP, PF_R, 0x800, 0x800, 0x800, name.size() + 1,
                                             name.size() + 1, 1});
    e.put_string(0x800, name);
    return e;
  };

  std::string main_path = dir.write("main", with_interp(interp));
  auto r = load_program(main_path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  REQUIRE(r->interp.has_value());
  const LoadedImage& in = *r->interp;
  CHECK(r->interp_name == interp);
  CHECK(in.path == interp);
  CHECK(in.lowest == in.load_bias);
  CHECK(in.highest == in.load_bias + 0x6000);
  CHECK(in.entry == in.load_bias + 0x1000);
  CHECK(r->first_pc == in.entry);
  CHECK(r->main.phnum == 5);
  CHECK(r->main.entry == r->main.load_bias + 0x1000);
  CHECK(perms_at(in.lowest) == "r-xp");
  CHECK(file_at(in.lowest) == interp);
  // Nothing may land in the brk reservation.
  CHECK((in.highest <= r->main.highest || in.lowest >= r->brk_reserved_end));
  unmap_program(*r);
  CHECK(perms_at(in.lowest) == "");

  SUBCASE("-L prefix is tried first") {
    std::string sysroot = dir.path() + "/sysroot";
    std::string prefixed =
        dir.write("sysroot/qplug-no-such-dir/ld.so", qplug::loader::test::dyn_image());
    std::string m = dir.write("main2", with_interp("/qplug-no-such-dir/ld.so"));
    LoadOptions o = small_brk();
    o.interp_prefix = sysroot + "/";
    auto p = load_program(m, o);
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    CHECK(p->interp->path == prefixed);
    CHECK(p->interp_name == "/qplug-no-such-dir/ld.so");
    unmap_program(*p);

    o.interp_prefix = dir.path() + "/empty-sysroot";
    auto missing = load_program(m, o);
    CHECK(missing.error().message == "qplug: " + m +
                                         ": cannot find interpreter /qplug-no-such-dir/ld.so: No "
                                         "such file or directory");
  }
  SUBCASE("-L falls back to the plain interpreter path") {
    LoadOptions o = small_brk();
    o.interp_prefix = dir.path() + "/empty-sysroot";
    auto p = load_program(main_path, o);
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    CHECK(p->interp->path == interp);
    unmap_program(*p);
  }
  SUBCASE("a broken prefixed interpreter is an error") {
    std::string sysroot = dir.path() + "/badroot";
    dir.write("badroot" + interp, std::vector<uint8_t>{'n', 'o'});
    LoadOptions o = small_brk();
    o.interp_prefix = sysroot;
    auto p = load_program(main_path, o);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message ==
          "qplug: " + main_path + ": interpreter " + sysroot + interp + ": not an ELF file");
  }
}

TEST_CASE("interpreter errors unmap the program") {
  TempDir dir;
  auto main_with = [&dir](const std::string& name, const std::string& interp) {
    TestElf e = qplug::loader::test::static_exec();
    e.add(PT_INTERP, PF_R, 0x240, 0, interp.size() + 1, interp.size() + 1, 1);
    e.put_string(0x240, interp);
    return dir.write(name, e);
  };
  std::string m1 = main_with("m1", "/qplug-no-such-dir/ld.so");
  // Twice: a leftover fixed mapping would turn the second error into "already in use".
  for (int i = 0; i < 2; ++i) {
    CHECK(load_program(m1, small_brk()).error().message ==
          "qplug: " + m1 +
              ": cannot find interpreter /qplug-no-such-dir/ld.so: No such file or directory");
  }
  std::string text = dir.write("text", std::vector<uint8_t>{'#', '!'});
  std::string m2 = main_with("m2", text);
  CHECK(load_program(m2, small_brk()).error().message ==
        "qplug: " + m2 + ": interpreter " + text + ": not an ELF file");
  TestElf arm = qplug::loader::test::dyn_image();
  arm.eh.e_machine = EM_AARCH64;
  std::string arm_path = dir.write("arm-ld.so", arm);
  std::string m3 = main_with("m3", arm_path);
  CHECK(load_program(m3, small_brk()).error().message ==
        "qplug: " + m3 + ": interpreter " + arm_path +
            ": ELF for machine 183 (aarch64) is not supported, only x86-64");
  std::string m4 = main_with("m4", dir.path());
  CHECK(load_program(m4, small_brk()).error().message ==
        "qplug: " + m4 + ": cannot open interpreter " + dir.path() + ": Is a directory");
  CHECK(range_is_free(kBase, 0x4000 + 16 * kMiB));
}

TEST_CASE("/bin/true: a dynamic PIE with ld.so") {
  const char* path = "/bin/true";
  int fd = open(path, O_RDONLY);
  REQUIRE(fd >= 0);
  Elf64_Ehdr eh;
  REQUIRE(pread(fd, &eh, sizeof eh, 0) == sizeof eh);
  close(fd);
  REQUIRE(eh.e_type == ET_DYN);

  auto r = load_program(path, {});
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  const GuestProgram& p = *r;
  CHECK(p.main.load_bias != 0);
  CHECK(p.main.entry == p.main.load_bias + eh.e_entry);
  CHECK(p.main.phnum == eh.e_phnum);
  CHECK(p.main.phdr_addr == p.main.load_bias + eh.e_phoff);
  std::vector<Elf64_Phdr> file_phdrs(eh.e_phnum);
  fd = open(path, O_RDONLY);
  REQUIRE(pread(fd, file_phdrs.data(), file_phdrs.size() * sizeof(Elf64_Phdr), eh.e_phoff) > 0);
  close(fd);
  CHECK(memcmp(reinterpret_cast<void*>(p.main.phdr_addr), file_phdrs.data(),
               file_phdrs.size() * sizeof(Elf64_Phdr)) == 0);
  CHECK(p.main.start_code < p.main.end_code);
  CHECK(p.main.start_data < p.main.end_data);
  CHECK(p.brk_start == p.main.highest + 4096);
  CHECK(p.brk_reserved_end == p.brk_start + (uint64_t{1} << 30));
  REQUIRE(p.interp.has_value());
  CHECK(p.interp_name == "/lib64/ld-linux-x86-64.so.2");
  CHECK(p.interp->path == "/lib64/ld-linux-x86-64.so.2");
  CHECK(p.interp->lowest == p.interp->load_bias);  // ld.so's first p_vaddr is 0
  CHECK(p.first_pc == p.interp->entry);
  CHECK(p.interp->entry > p.interp->lowest);
  CHECK(p.interp->entry < p.interp->highest);
  CHECK(perms_at(p.interp->entry).find('x') != std::string::npos);
  CHECK(perms_at(p.main.entry).find('x') != std::string::npos);
  CHECK((p.interp->highest <= p.main.highest || p.interp->lowest >= p.brk_reserved_end));
  CHECK(memcmp(reinterpret_cast<void*>(p.interp->lowest), ELFMAG, SELFMAG) == 0);
  unmap_program(p);
}
