#include "qemu/x86_registers.h"

#include <cpuid.h>

#include <cstring>

#include "runtime/thread_state.h"

namespace qplug::qemu {

namespace {

using runtime::ThreadState;

constexpr const char kCore[] = "org.gnu.gdb.i386.core";
constexpr const char kLinux[] = "org.gnu.gdb.i386.linux";

// QEMU's gdb register order: i386-64bit.xml lists rax rbx rcx rdx rsi rdi rbp
// rsp, which is not the hardware numbering ThreadState::gpr uses.
constexpr RegisterDesc kRegisters[] = {
    {"rax", kCore, 8, RegKind::kGpr, runtime::kRax},
    {"rbx", kCore, 8, RegKind::kGpr, runtime::kRbx},
    {"rcx", kCore, 8, RegKind::kGpr, runtime::kRcx},
    {"rdx", kCore, 8, RegKind::kGpr, runtime::kRdx},
    {"rsi", kCore, 8, RegKind::kGpr, runtime::kRsi},
    {"rdi", kCore, 8, RegKind::kGpr, runtime::kRdi},
    {"rbp", kCore, 8, RegKind::kGpr, runtime::kRbp},
    {"rsp", kCore, 8, RegKind::kGpr, runtime::kRsp},
    {"r8", kCore, 8, RegKind::kGpr, runtime::kR8},
    {"r9", kCore, 8, RegKind::kGpr, runtime::kR9},
    {"r10", kCore, 8, RegKind::kGpr, runtime::kR10},
    {"r11", kCore, 8, RegKind::kGpr, runtime::kR11},
    {"r12", kCore, 8, RegKind::kGpr, runtime::kR12},
    {"r13", kCore, 8, RegKind::kGpr, runtime::kR13},
    {"r14", kCore, 8, RegKind::kGpr, runtime::kR14},
    {"r15", kCore, 8, RegKind::kGpr, runtime::kR15},
    {"rip", kCore, 8, RegKind::kRip, 0},
    {"eflags", kCore, 4, RegKind::kEflags, 0},
    // linux-user loads __USER_CS and __USER_DS, and null selectors elsewhere.
    {"cs", kCore, 4, RegKind::kSelector, 0x33},
    {"ss", kCore, 4, RegKind::kSelector, 0x2b},
    {"ds", kCore, 4, RegKind::kSelector, 0},
    {"es", kCore, 4, RegKind::kSelector, 0},
    {"fs", kCore, 4, RegKind::kSelector, 0},
    {"gs", kCore, 4, RegKind::kSelector, 0},
    {"fs_base", kCore, 8, RegKind::kFsBase, 0},
    {"gs_base", kCore, 8, RegKind::kGsBase, 0},
    {"k_gs_base", kCore, 8, RegKind::kConstant, kZero},
    {"cr0", kCore, 8, RegKind::kConstant, kCr0},
    {"cr2", kCore, 8, RegKind::kConstant, kZero},
    {"cr3", kCore, 8, RegKind::kConstant, kZero},
    {"cr4", kCore, 8, RegKind::kConstant, kCr4},
    {"cr8", kCore, 8, RegKind::kConstant, kZero},
    {"efer", kCore, 8, RegKind::kConstant, kEfer},
    {"st0", kCore, 10, RegKind::kSt, 0},
    {"st1", kCore, 10, RegKind::kSt, 1},
    {"st2", kCore, 10, RegKind::kSt, 2},
    {"st3", kCore, 10, RegKind::kSt, 3},
    {"st4", kCore, 10, RegKind::kSt, 4},
    {"st5", kCore, 10, RegKind::kSt, 5},
    {"st6", kCore, 10, RegKind::kSt, 6},
    {"st7", kCore, 10, RegKind::kSt, 7},
    {"fctrl", kCore, 4, RegKind::kFctrl, 0},
    {"fstat", kCore, 4, RegKind::kFstat, 0},
    {"ftag", kCore, 4, RegKind::kFtag, 0},
    // In 64-bit mode the x87 saves no segments. The instruction pointer it
    // saves is the host address of translated code, meaningless to the guest.
    {"fiseg", kCore, 4, RegKind::kConstant, kZero},
    {"fioff", kCore, 4, RegKind::kConstant, kZero},
    {"foseg", kCore, 4, RegKind::kConstant, kZero},
    {"fooff", kCore, 4, RegKind::kFooff, 0},
    {"fop", kCore, 4, RegKind::kFop, 0},
    {"xmm0", kCore, 16, RegKind::kXmm, 0},
    {"xmm1", kCore, 16, RegKind::kXmm, 1},
    {"xmm2", kCore, 16, RegKind::kXmm, 2},
    {"xmm3", kCore, 16, RegKind::kXmm, 3},
    {"xmm4", kCore, 16, RegKind::kXmm, 4},
    {"xmm5", kCore, 16, RegKind::kXmm, 5},
    {"xmm6", kCore, 16, RegKind::kXmm, 6},
    {"xmm7", kCore, 16, RegKind::kXmm, 7},
    {"xmm8", kCore, 16, RegKind::kXmm, 8},
    {"xmm9", kCore, 16, RegKind::kXmm, 9},
    {"xmm10", kCore, 16, RegKind::kXmm, 10},
    {"xmm11", kCore, 16, RegKind::kXmm, 11},
    {"xmm12", kCore, 16, RegKind::kXmm, 12},
    {"xmm13", kCore, 16, RegKind::kXmm, 13},
    {"xmm14", kCore, 16, RegKind::kXmm, 14},
    {"xmm15", kCore, 16, RegKind::kXmm, 15},
    {"mxcsr", kCore, 4, RegKind::kMxcsr, 0},
    {"orig_rax", kLinux, 8, RegKind::kOrigRax, 0},
};

// The XSAVE area's legacy region (FXSAVE64 layout) and header.
constexpr size_t kFcw = 0, kFsw = 2, kAbridgedTag = 4, kFop = 6, kFdp = 16, kMxcsr = 24;
constexpr size_t kMxcsrMask = 28;
constexpr size_t kSt0 = 32, kXmm0 = 160, kXstateBv = 512;
constexpr uint64_t kX87Component = 1, kSseComponent = 2;

// Control registers as QEMU's linux-user sets them up (target_cpu_copy_regs
// and the CPU reset): protected mode with paging, long mode, and the CR4
// bits of the features the CPU (here the host) offers.
uint64_t compute_cr4() {
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  const uint64_t osxsave = (c & (1u << 26)) ? 0x40000 : 0;  // with XSAVE
  return 0x10000 | osxsave | 0x200 | 0x20;                  // FSGSBASE, OSFXSR, PAE
}

uint64_t constant(uint16_t which) {
  // CPUID once: in a virtual machine each one is an exit to the hypervisor,
  // and execlog reg=* reads every register before every instruction.
  static const uint64_t cr4 = compute_cr4();
  switch (which) {
    case kCr0:
      return 0x80010001;  // PG | WP | PE
    case kCr4:
      return cr4;
    case kEfer:
      return 0x500;  // LMA | LME
    default:
      return 0;
  }
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// A component whose XSTATE_BV bit is clear is in its initial state, whatever
// the area holds (XRSTOR ignores the bytes; XSAVEs from signal frames may
// not have written them).
bool in_use(const ThreadState& ts, uint64_t component) {
  return load<uint64_t>(ts.xsave_area + kXstateBv) & component;
}

// Before a write into a component in its initial state: give the area that
// state explicitly, then mark it in use, so that XRSTOR loads the write.
void make_in_use(ThreadState& ts, uint64_t component) {
  if (in_use(ts, component)) return;
  uint8_t* a = ts.xsave_area;
  if (component == kX87Component) {
    std::memset(a, 0, kMxcsr);  // FCW ... FDP
    store<uint16_t>(a + kFcw, 0x37f);
    for (int i = 0; i < 8; ++i) std::memset(a + kSt0 + 16 * i, 0, 16);
  } else {
    std::memset(a + kXmm0, 0, 16 * 16);
  }
  store<uint64_t>(a + kXstateBv, load<uint64_t>(a + kXstateBv) | component);
}

uint16_t x87_word(const ThreadState& ts, size_t offset) {
  if (in_use(ts, kX87Component)) return load<uint16_t>(ts.xsave_area + offset);
  return offset == kFcw ? 0x37f : 0;
}

// The tag FSTENV reports for a non-empty register: valid, zero or special.
unsigned tag_of(const uint8_t* st) {
  const uint64_t mantissa = load<uint64_t>(st);
  const unsigned exponent = load<uint16_t>(st + 8) & 0x7fff;
  if (exponent == 0x7fff) return 2;
  if (exponent == 0) return mantissa == 0 ? 1 : 2;
  return (mantissa >> 63) ? 0 : 2;
}

// FXSAVE keeps one "not empty" bit per physical register; the full tag word
// has two bits per physical register i, which holds ST((i - TOP) mod 8).
uint16_t full_tag_word(const ThreadState& ts) {
  if (!in_use(ts, kX87Component)) return 0xffff;
  const uint8_t abridged = ts.xsave_area[kAbridgedTag];
  const unsigned top = (load<uint16_t>(ts.xsave_area + kFsw) >> 11) & 7;
  uint16_t word = 0;
  for (unsigned i = 0; i < 8; ++i) {
    const unsigned st = (i - top) & 7;
    const unsigned tag = (abridged >> i) & 1 ? tag_of(ts.xsave_area + kSt0 + 16 * st) : 3;
    word |= static_cast<uint16_t>(tag << (2 * i));
  }
  return word;
}

uint64_t fs_base() {
  uint64_t base;
  asm volatile("rdgsbase %0" : "=r"(base));  // the guest's FS lives in GS
  return base;
}

}  // namespace

std::span<const RegisterDesc> guest_registers() { return kRegisters; }

void read_guest_register(const ThreadState& ts, size_t index, uint8_t* out) {
  const RegisterDesc& r = kRegisters[index];
  const uint8_t* area = ts.xsave_area;
  uint64_t value = 0;  // for the registers of at most 8 bytes
  switch (r.kind) {
    case RegKind::kGpr:
      value = ts.gpr[r.arg];
      break;
    case RegKind::kRip:
      value = ts.rip;
      break;
    case RegKind::kEflags:
      value = ts.rflags & 0xffffffff;
      break;
    case RegKind::kSelector:
      value = r.arg;
      break;
    case RegKind::kFsBase:
      value = fs_base();
      break;
    case RegKind::kGsBase:
      break;
    case RegKind::kConstant:
      value = constant(r.arg);
      break;
    case RegKind::kSt:
      if (in_use(ts, kX87Component)) {
        std::memcpy(out, area + kSt0 + 16 * r.arg, r.size);
      } else {
        std::memset(out, 0, r.size);
      }
      return;
    case RegKind::kFctrl:
      value = x87_word(ts, kFcw);
      break;
    case RegKind::kFstat:
      value = x87_word(ts, kFsw);
      break;
    case RegKind::kFtag:
      value = full_tag_word(ts);
      break;
    case RegKind::kFop:
      value = x87_word(ts, kFop) & 0x7ff;
      break;
    case RegKind::kFooff:
      value = in_use(ts, kX87Component) ? load<uint32_t>(area + kFdp) : 0;
      break;
    case RegKind::kXmm:
      if (in_use(ts, kSseComponent)) {
        std::memcpy(out, area + kXmm0 + 16 * r.arg, r.size);
      } else {
        std::memset(out, 0, r.size);
      }
      return;
    case RegKind::kMxcsr:
      value = load<uint32_t>(area + kMxcsr);  // XRSTOR loads it whatever XSTATE_BV says
      break;
    case RegKind::kOrigRax:
      value = ts.orig_rax;
      break;
  }
  std::memcpy(out, &value, r.size);
}

bool write_guest_register(ThreadState& ts, size_t index, const uint8_t* in) {
  const RegisterDesc& r = kRegisters[index];
  uint8_t* area = ts.xsave_area;
  uint64_t value = 0;
  std::memcpy(&value, in, r.size <= 8 ? r.size : 8);
  switch (r.kind) {
    case RegKind::kGpr:
      ts.gpr[r.arg] = value;
      return true;
    case RegKind::kRip:
      return false;
    case RegKind::kEflags:
      ts.rflags = (ts.rflags & ~uint64_t{0xffffffff}) | value;
      return true;
    case RegKind::kSelector:
      return value == r.arg;
    case RegKind::kFsBase:
      if (value >= (uint64_t{1} << 47)) return false;
      asm volatile("wrgsbase %0" ::"r"(value) : "memory");
      return true;
    case RegKind::kGsBase:
      return value == 0;
    case RegKind::kConstant:
      return true;  // QEMU's user mode accepts these writes and ignores them
    case RegKind::kSt:
      make_in_use(ts, kX87Component);
      std::memcpy(area + kSt0 + 16 * r.arg, in, r.size);
      return true;
    case RegKind::kFctrl:
      make_in_use(ts, kX87Component);
      store<uint16_t>(area + kFcw, static_cast<uint16_t>(value));
      return true;
    case RegKind::kFstat:
      make_in_use(ts, kX87Component);
      store<uint16_t>(area + kFsw, static_cast<uint16_t>(value));
      return true;
    case RegKind::kFop:
      make_in_use(ts, kX87Component);
      store<uint16_t>(area + kFop, static_cast<uint16_t>(value & 0x7ff));
      return true;
    case RegKind::kFtag: {
      make_in_use(ts, kX87Component);
      uint8_t abridged = 0;
      for (unsigned i = 0; i < 8; ++i)
        if (((value >> (2 * i)) & 3) != 3) abridged |= static_cast<uint8_t>(1u << i);
      area[kAbridgedTag] = abridged;
      return true;
    }
    case RegKind::kFooff:
      make_in_use(ts, kX87Component);
      store<uint32_t>(area + kFdp, static_cast<uint32_t>(value));
      return true;
    case RegKind::kXmm:
      make_in_use(ts, kSseComponent);
      std::memcpy(area + kXmm0 + 16 * r.arg, in, r.size);
      return true;
    case RegKind::kMxcsr: {
      // A reserved bit would make XRSTOR fault in the host.
      uint32_t mask = load<uint32_t>(area + kMxcsrMask);
      if (mask == 0) mask = 0xffbf;
      if (value & ~uint64_t{mask}) return false;
      store<uint32_t>(area + kMxcsr, static_cast<uint32_t>(value));
      return true;
    }
    case RegKind::kOrigRax:
      ts.orig_rax = value;
      return true;
  }
  return false;
}

}  // namespace qplug::qemu
