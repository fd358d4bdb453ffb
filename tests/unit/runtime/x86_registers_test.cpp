// The plugin register set (qemu/x86_registers.h) on a guest state built here:
// what reads give for components in their initial state, the x87 tag word,
// and which writes succeed. The values of a running guest are checked end
// to end by tests/guest_state (check_regs.sh).
#include "qemu/x86_registers.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "runtime/thread_state.h"

using namespace qplug;

namespace {

size_t index_of(const char* name) {
  const auto regs = qemu::guest_registers();
  for (size_t i = 0; i < regs.size(); ++i)
    if (std::strcmp(regs[i].name, name) == 0) return i;
  FAIL("no register ", name);
  return 0;
}

// A guest state with an XSAVE area: XSTATE_BV as given, the rest of the
// area filled with 0xcc (what an XSAVE may leave for a component not in use).
struct Guest {
  std::unique_ptr<runtime::ThreadState> ts = std::make_unique<runtime::ThreadState>();
  uint8_t* area = static_cast<uint8_t*>(std::aligned_alloc(64, 4096));

  explicit Guest(uint64_t xstate_bv) {
    std::memset(area, 0xcc, 4096);
    std::memcpy(area + 512, &xstate_bv, 8);
    ts->xsave_area = area;
  }
  ~Guest() { std::free(area); }

  uint64_t read(const char* name) {
    uint8_t out[16] = {};
    qemu::read_guest_register(*ts, index_of(name), out);
    uint64_t v;
    std::memcpy(&v, out, 8);
    return v;
  }
  bool write(const char* name, uint64_t v) {
    uint8_t in[16] = {};
    std::memcpy(in, &v, 8);
    return qemu::write_guest_register(*ts, index_of(name), in);
  }
  uint64_t xstate_bv() const {
    uint64_t v;
    std::memcpy(&v, area + 512, 8);
    return v;
  }
  void set_st(int i, uint64_t mantissa, uint16_t sign_exponent) {
    std::memcpy(area + 32 + 16 * i, &mantissa, 8);
    std::memcpy(area + 40 + 16 * i, &sign_exponent, 2);
  }
};

}  // namespace

TEST_CASE("x86 registers: qemu-x86_64's list") {
  const auto regs = qemu::guest_registers();
  REQUIRE(regs.size() == 67);
  CHECK(std::string(regs.front().name) == "rax");
  CHECK(std::string(regs[16].name) == "rip");
  CHECK(std::string(regs[27].name) == "cr0");
  CHECK(std::string(regs.back().name) == "orig_rax");
  CHECK(std::string(regs.back().feature) == "org.gnu.gdb.i386.linux");
  std::set<std::string> names;
  for (const auto& r : regs) {
    names.insert(r.name);
    if (&r != &regs.back()) CHECK(std::string(r.feature) == "org.gnu.gdb.i386.core");
  }
  CHECK(names.size() == regs.size());
}

TEST_CASE("x86 registers: components in their initial state read as such") {
  Guest g(0);  // neither x87 nor SSE in use: the area's 0xcc bytes mean nothing
  CHECK(g.read("fctrl") == 0x37f);
  CHECK(g.read("fstat") == 0);
  CHECK(g.read("ftag") == 0xffff);
  CHECK(g.read("fop") == 0);
  CHECK(g.read("fooff") == 0);
  CHECK(g.read("st3") == 0);
  CHECK(g.read("xmm7") == 0);
  CHECK(g.read("mxcsr") == 0xcccccccc);  // loaded by XRSTOR whatever XSTATE_BV says
}

TEST_CASE("x86 registers: a write puts its component in use") {
  Guest g(0);
  CHECK(g.write("xmm2", 0x1234));
  CHECK(g.xstate_bv() == 2);
  CHECK(g.read("xmm2") == 0x1234);
  CHECK(g.read("xmm3") == 0);  // the rest of the component is its initial state
  CHECK(g.write("fctrl", 0x27f));
  CHECK(g.xstate_bv() == 3);
  CHECK(g.read("fctrl") == 0x27f);
  CHECK(g.read("fstat") == 0);
  CHECK(g.read("ftag") == 0xffff);
}

TEST_CASE("x86 registers: the full tag word from FXSAVE's abridged one") {
  Guest g(1);
  const uint16_t fsw = 5 << 11;  // TOP = 5: ST(i) is physical register (5 + i) % 8
  std::memcpy(g.area + 2, &fsw, 2);
  g.area[4] = 0xe1;                         // physical 0, 5, 6 and 7 in use
  g.set_st(0, 0x8000000000000000, 0x3fff);  // ST0 = phys 5: 1.0, valid (00)
  g.set_st(1, 0, 0);                        // ST1 = phys 6: zero (01)
  g.set_st(2, 0x8000000000000000, 0x7fff);  // ST2 = phys 7: infinity, special (10)
  g.set_st(3, 1, 0);                        // ST3 = phys 0: denormal, special (10)
  CHECK(g.read("ftag") == 0x93fe);          // physical 7 to 0: 10 01 00 11 11 11 11 10
  CHECK(g.write("ftag", 0xfff3));           // only physical 1 in use
  CHECK(g.area[4] == 0x02);
}

TEST_CASE("x86 registers: which writes succeed") {
  Guest g(3);
  const uint32_t mxcsr_mask = 0xffff;
  std::memcpy(g.area + 28, &mxcsr_mask, 4);
  CHECK(g.write("rax", 7));
  CHECK(g.ts->gpr[runtime::kRax] == 7);
  CHECK(g.write("r9", 9));
  CHECK(g.ts->gpr[runtime::kR9] == 9);
  CHECK_FALSE(g.write("rip", 0x401000));
  CHECK(g.write("cs", 0x33));
  CHECK_FALSE(g.write("cs", 0x23));
  CHECK(g.write("cr0", 0));  // ignored, as QEMU's user mode does
  CHECK(g.read("cr0") == 0x80010001);
  CHECK(g.write("efer", 0));
  CHECK(g.read("efer") == 0x500);
  CHECK(g.write("gs_base", 0));
  CHECK_FALSE(g.write("gs_base", 0x1000));
  CHECK_FALSE(g.write("fs_base", uint64_t{1} << 47));
  CHECK(g.write("mxcsr", 0x1f80));
  CHECK_FALSE(g.write("mxcsr", 0x10000));  // reserved: XRSTOR would fault
  CHECK(g.read("mxcsr") == 0x1f80);
  CHECK(g.write("fop", 0xffff));
  CHECK(g.read("fop") == 0x7ff);
  CHECK(g.write("orig_rax", 60));
  CHECK(g.read("orig_rax") == 60);
}
