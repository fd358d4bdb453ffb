#include <doctest/doctest.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "loader/elf_loader.h"
#include "test_elf.h"

using namespace qplug::loader;
using qplug::loader::test::perms_at;

namespace {

// What a guest's _start would read from its initial %rsp.
struct ParsedStack {
  std::vector<std::string> argv, envp;
  std::vector<uint64_t> argv_ptrs, envp_ptrs;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;  // in order, AT_NULL included
  uint64_t aux(uint64_t type) const {
    for (auto [t, v] : auxv) {
      if (t == type) return v;
    }
    return ~uint64_t{0};
  }
  bool has(uint64_t type) const { return aux(type) != ~uint64_t{0}; }
};

ParsedStack parse(uint64_t sp) {
  ParsedStack out;
  auto* p = reinterpret_cast<const uint64_t*>(sp);
  uint64_t argc = *p++;
  for (uint64_t i = 0; i < argc; ++i) {
    out.argv_ptrs.push_back(*p);
    out.argv.emplace_back(reinterpret_cast<const char*>(*p++));
  }
  REQUIRE(*p++ == 0);
  while (*p != 0) {
    out.envp_ptrs.push_back(*p);
    out.envp.emplace_back(reinterpret_cast<const char*>(*p++));
  }
  ++p;
  for (;;) {
    uint64_t type = *p++, value = *p++;
    out.auxv.emplace_back(type, value);
    if (type == AT_NULL) break;
  }
  return out;
}

GuestProgram sample_program(bool with_interp) {
  GuestProgram p;
  p.main.entry = 0x401000;
  p.main.phdr_addr = 0x400040;
  p.main.phnum = 11;
  p.main.phentsize = 56;
  if (with_interp) {
    LoadedImage in;
    in.load_bias = 0x7f0000000000;
    in.lowest = 0x7f0000000000;
    in.highest = 0x7f0000030000;
    in.entry = 0x7f0000001100;
    p.interp = in;
    p.first_pc = in.entry;
  } else {
    p.first_pc = p.main.entry;
  }
  return p;
}

void release(const InitialStack& s) { munmap(reinterpret_cast<void*>(s.base), s.size); }

}  // namespace

TEST_CASE("initial stack has the kernel's layout") {
  StackRequest req;
  req.argv = {"/tmp/prog", "a b", ""};
  req.envp = {"X=1", "EMPTY=", "PATH=/bin"};
  req.execfn = "/tmp/prog-execfn";
  GuestProgram prog = sample_program(true);
  auto r = build_initial_stack_ex(prog, req);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  const InitialStack& s = *r;
  CHECK(s.sp % 16 == 0);
  CHECK(s.sp > s.base);
  CHECK(s.sp < s.base + s.size);

  struct rlimit rl;
  REQUIRE(getrlimit(RLIMIT_STACK, &rl) == 0);
  uint64_t want = rl.rlim_cur == RLIM_INFINITY
                      ? 256u << 20
                      : std::clamp<uint64_t>(rl.rlim_cur, 8u << 20, 256u << 20);
  CHECK(s.size == (want + 4095) / 4096 * 4096);
  CHECK(perms_at(s.sp) == "rw-p");

  ParsedStack st = parse(s.sp);
  CHECK(st.argv == req.argv);
  CHECK(st.envp == req.envp);

  // Strings: argv[0] lowest, then the rest, then envp, execfn, then an 8-byte NULL at the top.
  const uint64_t top = s.base + s.size;
  CHECK(*reinterpret_cast<const uint64_t*>(top - 8) == 0);
  CHECK(s.execfn_addr == top - 8 - req.execfn.size() - 1);
  for (size_t i = 0; i + 1 < st.argv_ptrs.size(); ++i) {
    CHECK(st.argv_ptrs[i + 1] == st.argv_ptrs[i] + req.argv[i].size() + 1);
  }
  CHECK(st.envp_ptrs[0] == st.argv_ptrs.back() + req.argv.back().size() + 1);
  for (size_t i = 0; i + 1 < st.envp_ptrs.size(); ++i) {
    CHECK(st.envp_ptrs[i + 1] == st.envp_ptrs[i] + req.envp[i].size() + 1);
  }
  CHECK(s.execfn_addr == st.envp_ptrs.back() + req.envp.back().size() + 1);

  // auxv: exactly the types, in the order, that this kernel gave the test
  // process itself (create_elf_tables' order, including newer entries such
  // as AT_RSEQ_FEATURE_SIZE), so the guest's start-up walks the same list.
  std::vector<uint64_t> order;
  for (auto [t, v] : st.auxv) order.push_back(t);
  std::vector<uint64_t> expected;
  {
    FILE* f = std::fopen("/proc/self/auxv", "rb");
    REQUIRE(f != nullptr);
    uint64_t pair[2];
    while (std::fread(pair, sizeof pair, 1, f) == 1) {
      expected.push_back(pair[0]);
      if (pair[0] == AT_NULL) break;
    }
    std::fclose(f);
  }
  CHECK(order == expected);

  if (getauxval(AT_SYSINFO_EHDR) != 0) CHECK(st.aux(AT_SYSINFO_EHDR) == getauxval(AT_SYSINFO_EHDR));
  if (getauxval(AT_MINSIGSTKSZ) != 0) CHECK(st.aux(AT_MINSIGSTKSZ) == getauxval(AT_MINSIGSTKSZ));
  CHECK(st.aux(AT_HWCAP) == getauxval(AT_HWCAP));
  CHECK(st.aux(AT_HWCAP2) == getauxval(AT_HWCAP2));
  CHECK(st.aux(AT_PAGESZ) == 4096);
  CHECK(st.aux(AT_CLKTCK) == static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
  CHECK(st.aux(AT_PHDR) == 0x400040);
  CHECK(st.aux(AT_PHENT) == 56);
  CHECK(st.aux(AT_PHNUM) == 11);
  CHECK(st.aux(AT_BASE) == 0x7f0000000000);
  CHECK(st.aux(AT_FLAGS) == 0);
  CHECK(st.aux(AT_ENTRY) == 0x401000);
  CHECK(st.aux(AT_UID) == getuid());
  CHECK(st.aux(AT_EUID) == geteuid());
  CHECK(st.aux(AT_GID) == getgid());
  CHECK(st.aux(AT_EGID) == getegid());
  CHECK(st.aux(AT_SECURE) == 0);
  CHECK(st.aux(AT_EXECFN) == s.execfn_addr);
  CHECK(std::string(reinterpret_cast<const char*>(st.aux(AT_EXECFN))) == req.execfn);
  CHECK(std::string(reinterpret_cast<const char*>(st.aux(AT_PLATFORM))) == "x86_64");
  CHECK(st.aux(AT_NULL) == 0);

  // Platform string right below the 16-aligned end of the strings, then AT_RANDOM,
  // then the table.
  const uint64_t platform = st.aux(AT_PLATFORM);
  CHECK((platform + 7) % 16 == 0);
  CHECK(platform + 7 <= st.argv_ptrs[0]);
  CHECK(st.argv_ptrs[0] - (platform + 7) < 16);
  CHECK(st.aux(AT_RANDOM) == s.random_addr);
  CHECK(s.random_addr == platform - 16);
  const uint64_t table_end = s.sp + 8 * (1 + 4 + 4 + 2 * st.auxv.size());
  CHECK(table_end <= s.random_addr);
  CHECK(s.random_addr - table_end < 16);

  // A second stack gets other random bytes (1 in 2^128 to fail).
  auto r2 = build_initial_stack_ex(prog, req);
  REQUIRE(r2.ok());
  CHECK(memcmp(reinterpret_cast<void*>(s.random_addr), reinterpret_cast<void*>(r2->random_addr),
               16) != 0);
  CHECK(r2->base != s.base);
  release(*r2);
  release(s);
}

TEST_CASE("initial stack: %rsp is 16-byte aligned for any argc/envc and string lengths") {
  GuestProgram prog = sample_program(false);
  for (int argc = 0; argc < 4; ++argc) {
    for (int envc = 0; envc < 3; ++envc) {
      for (int len = 0; len < 3; ++len) {
        StackRequest req;
        for (int i = 0; i < argc; ++i) req.argv.push_back(std::string(len + i, 'a'));
        for (int i = 0; i < envc; ++i) req.envp.push_back("E" + std::string(len, 'e') + "=1");
        req.execfn = std::string(len + 1, 'x');
        auto r = build_initial_stack_ex(prog, req);
        REQUIRE_MESSAGE(r.ok(), r.error().message);
        CHECK(r->sp % 16 == 0);
        ParsedStack st = parse(r->sp);
        CHECK(st.argv == req.argv);
        CHECK(st.envp == req.envp);
        CHECK(st.aux(AT_BASE) == 0);  // static program
        CHECK(st.aux(AT_ENTRY) == 0x401000);
        CHECK(r->random_addr - (r->sp + 8 * (argc + envc + 3 + 2 * st.auxv.size())) < 16);
        release(*r);
      }
    }
  }
}

TEST_CASE("initial stack: build_initial_stack returns the same layout's %rsp") {
  StackRequest req;
  req.argv = {"p"};
  req.execfn = "p";
  auto sp = build_initial_stack(sample_program(false), req);
  REQUIRE(sp.ok());
  CHECK(*sp % 16 == 0);
  CHECK(*reinterpret_cast<const uint64_t*>(*sp) == 1);
  ParsedStack st = parse(*sp);
  CHECK(st.argv == req.argv);
  CHECK(st.envp.empty());
}

TEST_CASE("initial stack: executable when PT_GNU_STACK asks for it") {
  GuestProgram prog = sample_program(false);
  prog.main.executable_stack = true;
  StackRequest req;
  req.argv = {"p"};
  req.execfn = "p";
  auto r = build_initial_stack_ex(prog, req);
  REQUIRE(r.ok());
  CHECK(perms_at(r->sp) == "rwxp");
  release(*r);
}

TEST_CASE("initial stack: too long arguments") {
  StackRequest req;
  req.argv = {"p", std::string(200000, 'a')};
  req.execfn = "/bin/p";
  auto r = build_initial_stack(sample_program(false), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "qplug: /bin/p: Argument list too long");

  // Many short strings: more than a quarter of the stack.
  StackRequest many;
  many.execfn = "/bin/p";
  many.envp.assign(700, std::string(100000, 'e'));
  auto m = build_initial_stack(sample_program(false), many);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message == "qplug: /bin/p: Argument list too long");
}

TEST_CASE("initial stack for a loaded /bin/true") {
  auto prog = load_program("/bin/true", {});
  REQUIRE_MESSAGE(prog.ok(), prog.error().message);
  StackRequest req;
  req.argv = {"true"};
  req.envp = {"A=b"};
  req.execfn = "/bin/true";
  auto r = build_initial_stack_ex(*prog, req);
  REQUIRE(r.ok());
  ParsedStack st = parse(r->sp);
  CHECK(st.aux(AT_PHDR) == prog->main.phdr_addr);
  CHECK(st.aux(AT_PHNUM) == prog->main.phnum);
  CHECK(st.aux(AT_ENTRY) == prog->main.entry);
  CHECK(st.aux(AT_BASE) == prog->interp->load_bias);
  auto* phdr = reinterpret_cast<const Elf64_Phdr*>(st.aux(AT_PHDR));
  CHECK(phdr[0].p_type == PT_PHDR);
  // The stack must stay out of the brk reservation.
  CHECK((r->base + r->size <= prog->main.highest || r->base >= prog->brk_reserved_end));
  release(*r);
  unmap_program(*prog);
}
