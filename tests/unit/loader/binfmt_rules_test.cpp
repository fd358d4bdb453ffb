// The rules of fs/binfmt_elf.c the loader follows: what it accepts, where it
// maps, and which failures come after the point of no return.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mman.h>

#include "loader/elf_image.h"
#include "loader/elf_loader.h"
#include "test_elf.h"

using namespace qplug::loader;
using qplug::loader::test::all_bytes;
using qplug::loader::test::dyn_image;
using qplug::loader::test::outcome;
using qplug::loader::test::perms_at;
using qplug::loader::test::range_is_free;
using qplug::loader::test::small_brk;
using qplug::loader::test::static_exec;
using qplug::loader::test::TempDir;
using qplug::loader::test::TestElf;

namespace {

constexpr uint64_t kBase = 0x10000000;

// Loads `path`, which must load, and runs `check` on it before unmapping it.
template <class F>
void with_loaded(const std::string& path, F check) {
  auto r = load_program(path, small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  check(*r);
  unmap_program(*r);
}

// `main` with a PT_INTERP naming `interp` at file offset 0x240.
TestElf with_interp(TestElf main, const std::string& interp) {
  main.add(PT_INTERP, PF_R, 0x240, 0, interp.size() + 1, interp.size() + 1, 1);
  main.put_string(0x240, interp);
  return main;
}

detail::ParsedImage parsed(const TestElf& e) {
  detail::ParsedImage img;
  std::vector<uint8_t> bytes = e.build();
  memcpy(&img.ehdr, bytes.data(), sizeof img.ehdr);
  img.phdrs = e.ph;
  img.file_size = bytes.size();
  return img;
}

}  // namespace

TEST_CASE("PT_LOADs are mapped in program header order, unsorted or overlapping") {
  TempDir dir;
  SUBCASE("unsorted") {
    TestElf e = static_exec();
    e.ph[0].p_vaddr = kBase + 0x10000;
    e.eh.e_entry = kBase + 0x10100;
    e.add(PT_LOAD, PF_R, 0, kBase, 0x100, 0x100);
    with_loaded(dir.write("unsorted", e), [](const GuestProgram& p) {
      CHECK(p.main.lowest == kBase);
      CHECK(p.main.highest == kBase + 0x13000);
      CHECK(p.main.ranges.size() == 2);  // the gap is not the guest's
      CHECK(perms_at(kBase) == "r--p");
      CHECK(perms_at(kBase + 0x10000) == "rwxp");
      CHECK(perms_at(kBase + 0x1000) != "---p");
      CHECK(all_bytes(kBase + 0x10100, 0x100, 0xf4));
    });
  }
  SUBCASE("a later file mapping replaces earlier pages") {
    TestElf e = static_exec();
    e.add(PT_LOAD, PF_R, 0, kBase + 0x2000, 0x100, 0x100);
    with_loaded(dir.write("overlap", e), [](const GuestProgram&) {
      CHECK(perms_at(kBase + 0x2000) == "r--p");
      CHECK(memcmp(reinterpret_cast<void*>(kBase + 0x2000), ELFMAG, SELFMAG) == 0);
      CHECK(perms_at(kBase) == "rwxp");
    });
  }
  SUBCASE("later bss replaces earlier file pages") {
    TestElf e = static_exec();
    e.add(PT_LOAD, PF_R, 0, kBase, 0, 0x100);
    with_loaded(dir.write("bss-over-file", e), [](const GuestProgram&) {
      CHECK(perms_at(kBase) == "rw-p");
      CHECK(all_bytes(kBase + 0x100, 0x100, 0));
    });
  }
}

TEST_CASE("bss pages are read-write whatever p_flags say, and executable with PF_X") {
  // elf_load maps them with vm_brk_flags, which gives the data default.
  for (uint32_t flags : {uint32_t{PF_R}, uint32_t{PF_R | PF_X}, uint32_t{0}}) {
    CAPTURE(flags);
    TestElf e = static_exec();
    e.ph[0].p_flags = flags;
    TempDir dir;
    with_loaded(dir.write("prog", e), [flags](const GuestProgram&) {
      const char* file = flags == 0 ? "---p" : (flags & PF_X) ? "r-xp" : "r--p";
      CHECK(perms_at(kBase) == file);
      CHECK(perms_at(kBase + 0x1000) == ((flags & PF_X) ? "rwxp" : "rw-p"));
      CHECK(all_bytes(kBase + 0x1000, 0x2000, 0));
    });
  }
}

TEST_CASE("file data past the end of the file is mapped: touching it faults, as natively") {
  TestElf e = static_exec();
  e.add(PT_LOAD, PF_R | PF_X, 0x10000, kBase + 0x10000, 0x1000, 0x1000);
  // Writable, but its bss starts on a page boundary: there is nothing to clear.
  e.add(PT_LOAD, PF_R | PF_W, 0x20000, kBase + 0x20000, 0x1000, 0x2000);
  TempDir dir;
  with_loaded(dir.write("short", e), [](const GuestProgram&) {
    CHECK(perms_at(kBase + 0x10000) == "r-xp");
    CHECK(perms_at(kBase + 0x20000) == "rw-p");
    CHECK(all_bytes(kBase + 0x21000, 0x1000, 0));
  });
  // A segment without file data may have any offset.
  TestElf f = static_exec();
  f.add(PT_LOAD, PF_R | PF_W, 0x12345678, kBase + 0x10000, 0, 0x1000);
  CHECK(outcome(f).message == "loaded");
}

TEST_CASE("a program without PT_LOADs that map anything loads nothing") {
  for (int variant = 0; variant < 2; ++variant) {
    TestElf e = static_exec();
    if (variant == 0) e.ph[0].p_type = PT_NOTE;
    if (variant == 1) e.ph[0].p_filesz = e.ph[0].p_memsz = 0;
    TempDir dir;
    with_loaded(dir.write("empty", e), [](const GuestProgram& p) {
      CHECK(p.main.ranges.empty());
      CHECK(p.main.lowest == 0);
      CHECK(p.main.highest == 0);
      CHECK(p.brk_reserved_end == 0);      // the engine puts the brk anywhere
      CHECK(p.first_pc == kBase + 0x100);  // the program faults at its entry
    });
  }
}

TEST_CASE("AT_PHDR comes from the last PT_LOAD holding e_phoff; PT_PHDR is not used") {
  TempDir dir;
  TestElf e = dyn_image();
  e.ph[0].p_vaddr = 0x5000;  // PT_PHDR
  with_loaded(dir.write("phdr", e),
              [](const GuestProgram& p) { CHECK(p.main.phdr_addr == p.main.load_bias + 64); });
  e.add(PT_LOAD, PF_R, 0, 0x8000, 0x100, 0x100);
  with_loaded(dir.write("two", e), [](const GuestProgram& p) {
    CHECK(p.main.phdr_addr == p.main.load_bias + 0x8000 + 64);
  });
  TestElf f = dyn_image();
  f.ph[1].p_offset = f.ph[1].p_vaddr = 0x1000;
  f.ph[1].p_filesz = f.ph[1].p_memsz = 0x200;
  with_loaded(dir.write("none", f),
              [](const GuestProgram& p) { CHECK(p.main.phdr_addr == p.main.load_bias); });
}

TEST_CASE("placement: where the kernel lets mmap choose, and where it does not") {
  detail::PlanContext program;
  SUBCASE("ET_EXEC: at its addresses") {
    auto plan = detail::plan_image(parsed(static_exec()), program);
    REQUIRE(plan.ok());
    CHECK(plan->fixed);
    CHECK(plan->bias == 0);
    CHECK(plan->ranges == std::vector<detail::Range>{{kBase, kBase + 0x3000}});
  }
  SUBCASE("ET_DYN: anywhere, the first file mapping covering the total size") {
    TestElf e = dyn_image();
    std::swap(e.ph[1], e.ph[2]);  // the data segment first
    auto plan = detail::plan_image(parsed(e), program);
    REQUIRE(plan.ok());
    CHECK_FALSE(plan->fixed);
    CHECK(plan->ref_page == 0x3000);
    CHECK(plan->ref_offset == 0x3000);  // the text lies below the first PT_LOAD
    CHECK(plan->first_map == 0x6000);   // total_mapping_size: 0x5200 from page 0
    CHECK(plan->span == 0x9000);        // from the text to the end of that mapping
  }
  SUBCASE("ET_DYN whose first PT_LOAD is only bss: fixed by the kernel's hint") {
    TestElf e = dyn_image();
    for (Elf64_Phdr& ph : e.ph) ph.p_vaddr += 0x10000;
    e.ph[1].p_filesz = 0;
    auto plan = detail::plan_image(parsed(e), program);
    REQUIRE(plan.ok());
    CHECK(plan->fixed);
    CHECK(plan->bias == 0 - uint64_t{0x10000});  // load_bias 0 lowered by the first vaddr
    CHECK(plan->ranges.front().first == 0);
    detail::PlanContext pie = program;
    pie.program_has_interp = true;  // ELF_ET_DYN_BASE: anywhere
    CHECK_FALSE(detail::plan_image(parsed(e), pie)->fixed);
    detail::PlanContext interp;
    interp.role = detail::Role::kInterpreter;
    interp.program_bias = 0x555555554000;
    CHECK(detail::plan_image(parsed(e), interp)->bias == 0 - uint64_t{0x10000});
    interp.program_bias = 0;  // an ET_EXEC program: the hint is the interpreter's p_vaddr
    CHECK(detail::plan_image(parsed(e), interp)->bias == 0);
  }
}

TEST_CASE("the interpreter: checked before the point of no return, except its type") {
  TempDir dir;
  auto main_for = [&dir](const std::string& name, const TestElf& interp, mode_t mode = 0755) {
    std::string ip = dir.write(name + "-ld.so", interp, mode);
    return std::make_pair(dir.write(name, with_interp(static_exec(), ip)), ip);
  };
  auto run = [](const std::string& path) {
    auto r = load_program(path, small_brk());
    if (r) {
      unmap_program(*r);
      return qplug::Error{"loaded", 0};
    }
    return r.error();
  };
  {
    auto [m, ip] = main_for("noexec", dyn_image(), 0644);  // open_exec needs MAY_EXEC
    CHECK(run(m).message ==
          "qplug: " + m + ": cannot open interpreter " + ip + ": Permission denied");
    CHECK(run(m).signal == 0);
    CHECK_FALSE(check_exec(m, {}).ok());
  }
  {
    TestElf t = dyn_image();
    t.file_size = 40;  // unlike the program's, its header must be whole
    auto [m, ip] = main_for("short", t);
    CHECK(run(m).message == "qplug: " + m + ": interpreter " + ip +
                                ": corrupt ELF header: truncated to 40 bytes (the ELF header has "
                                "64)");
  }
  {
    TestElf t = dyn_image();
    t.eh.e_phentsize = 32;
    auto [m, ip] = main_for("phent", t);
    CHECK(run(m).signal == 0);
    CHECK_FALSE(check_exec(m, {}).ok());
  }
  {
    TestElf t = dyn_image();
    t.eh.e_type = ET_REL;
    t.eh.e_ident[EI_CLASS] = 9;  // not looked at
    auto [m, ip] = main_for("rel", t);
    CHECK(check_exec(m, {}).ok());  // execve gets past its checks...
    qplug::Error e = run(m);        // ...and the process is killed
    CHECK(e.message == "qplug: " + m + ": interpreter " + ip +
                           ": ELF type 1 is not an executable (ET_EXEC or ET_DYN)");
    CHECK(e.signal == SIGSEGV);
  }
  {
    TestElf t = dyn_image();
    t.ph[1].p_type = t.ph[2].p_type = PT_NULL;
    auto [m, ip] = main_for("noload", t);
    CHECK(run(m).message == "qplug: " + m + ": interpreter " + ip +
                                ": corrupt ELF header: the PT_LOAD segments span no memory");
  }
  {
    TestElf t = dyn_image();
    t.eh.e_entry = uint64_t{1} << 63;
    auto [m, ip] = main_for("entry", t);
    CHECK(run(m).signal == SIGSEGV);
  }
  CHECK(range_is_free(kBase, 0x4000 + (16 << 20)));
}

TEST_CASE("an ET_EXEC interpreter maps over the program, and cuts its brk short") {
  TempDir dir;
  TestElf same = static_exec();
  same.fill(0x100, 0x100, 0xcc);
  std::string ip = dir.write("same-ld.so", same);
  with_loaded(dir.write("m1", with_interp(static_exec(), ip)), [](const GuestProgram& p) {
    REQUIRE(p.interp.has_value());
    CHECK(p.interp->load_bias == 0);
    CHECK(all_bytes(kBase + 0x100, 0x100, 0xcc));  // the interpreter's bytes won
  });
  std::string ip2 = dir.write("brk-ld.so", static_exec(kBase + 0x100000));
  with_loaded(dir.write("m2", with_interp(static_exec(), ip2)), [](const GuestProgram& p) {
    CHECK(p.brk_reserved_end == kBase + 0x100000);
    CHECK(perms_at(kBase + 0x100000) == "rwxp");
    CHECK(perms_at(kBase + 0x3000) == "");  // the gap before the brk
    CHECK(perms_at(kBase + 0x4000) == "---p");
  });
  CHECK(range_is_free(kBase, 0x4000 + (16 << 20)));
}

TEST_CASE("range helpers") {
  using detail::Range;
  CHECK(detail::merge_ranges({{5, 6}, {1, 3}, {2, 4}, {4, 4}, {7, 9}, {6, 7}}) ==
        std::vector<Range>{{1, 4}, {5, 9}});
  CHECK(detail::subtract_ranges({{0, 10}, {20, 30}}, {{2, 4}, {8, 22}, {29, 40}}) ==
        std::vector<Range>{{0, 2}, {4, 8}, {22, 29}});
}

TEST_CASE("what qplug reserves where the kernel leaves holes is known as holes") {
  TempDir dir;
  std::string ip = dir.write("ld.so", dyn_image());
  TestElf e = dyn_image();  // a gap between its text (to 0x2000) and its data (from 0x3000)
  e.ph.insert(e.ph.begin() + 1,
              Elf64_Phdr{PT_INTERP, PF_R, 0x800, 0, 0, ip.size() + 1, ip.size() + 1, 1});
  e.put_string(0x800, ip);
  auto r = load_program(dir.write("pie", e), small_brk());
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  GuestProgram& p = *r;
  const uint64_t b = p.main.load_bias;
  // Below the program (ELF_ET_DYN_BASE has nothing below it), and the gap.
  CHECK(p.main.holes == std::vector<detail::Range>{{b - (16 << 20), b}, {b + 0x2000, b + 0x3000}});
  CHECK(perms_at(b + 0x2000) == "---p");
  CHECK(first_hole(p, b + 0x1000, b + 0x6000) == b + 0x2000);
  CHECK(first_hole(p, b + 0x3000, b + 0x6000) == b + 0x6000);
  CHECK(p.interp->holes ==
        std::vector<detail::Range>{{p.interp->load_bias + 0x2000, p.interp->load_bias + 0x3000}});
  forget_holes(p, b + 0x2000, b + 0x2010);  // the guest mapped a page there
  CHECK(first_hole(p, b + 0x1000, b + 0x6000) == b + 0x6000);
  CHECK(first_hole(p, b - 0x1000, b) == b - 0x1000);
  unmap_program(p);
}

TEST_CASE("an ET_DYN's p_align: aligned anywhere, up to 2^47 where only address 0 is left") {
  TestElf e = dyn_image();
  e.ph[1].p_align = e.ph[2].p_align = uint64_t{1} << 40;  // too big to reserve the slack
  TempDir dir;
  with_loaded(dir.write("tb", e), [](const GuestProgram& p) {
    CHECK(p.main.load_bias % (uint64_t{1} << 40) == 0);
    CHECK(p.main.load_bias != 0);
    CHECK(perms_at(p.main.lowest) == "r-xp");
  });
  // maximum_alignment() rounds the kernel's base down to 0.
  e.ph[2].p_align = uint64_t{1} << 63;
  auto plan = detail::plan_image(parsed(e), detail::PlanContext{});
  REQUIRE(plan.ok());
  CHECK(plan->fixed);
  CHECK(plan->bias == 0);
  CHECK(plan->ranges.front().first == 0);
}
