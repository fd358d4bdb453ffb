// The guest registers plugins see through qemu_plugin_get_registers: the set
// qemu-x86_64's gdbstub describes, in its order, with its names, sizes and
// feature names, so that plugins written against QEMU (execlog reg=, uftrace,
// insn's self-test) find what they look for. QEMU builds the list from
// gdb-xml/i386-64bit.xml (66 registers, all in "org.gnu.gdb.i386.core", SSE
// included) and, in linux-user, gdb-xml/i386-64bit-linux.xml ("orig_rax",
// "org.gnu.gdb.i386.linux"). There is no AVX feature: no ymm*h registers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace qplug::runtime {
struct ThreadState;
}

namespace qplug::qemu {

// Where a register's value comes from (RegisterDesc::arg qualifies it).
enum class RegKind : uint8_t {
  kGpr,  // ThreadState::gpr[arg]
  kRip,
  kEflags,    // the low 32 bits of rflags
  kSelector,  // a fixed segment selector (arg), as QEMU's linux-user loads them
  kFsBase,    // the guest's FS base (kept in the host's GS base)
  kGsBase,
  kConstant,  // a value user mode cannot change (control registers): ConstantReg(arg)
  kSt,        // x87 ST(arg), 80 bits
  kFctrl,
  kFstat,
  kFtag,  // the full 16-bit tag word, as FSTENV stores it
  kFop,
  kFooff,
  kXmm,  // xmm(arg)
  kMxcsr,
  kOrigRax,
};

enum ConstantReg : uint16_t { kZero, kCr0, kCr4, kEfer };

struct RegisterDesc {
  const char* name;
  const char* feature;
  uint8_t size;  // bytes, the XML's bitsize / 8
  RegKind kind;
  uint16_t arg;
};

// In QEMU's order. A register's index here is stable for the whole run.
std::span<const RegisterDesc> guest_registers();

// The value of register `index` of the guest state `ts`, little-endian, in
// guest_registers()[index].size bytes at `out`. Registers a user-mode process
// has no access to read as QEMU's linux-user reports them.
void read_guest_register(const runtime::ThreadState& ts, size_t index, uint8_t* out);

// Sets register `index` from `in` (size bytes). Writes QEMU's user mode
// ignores (control registers, the x87 segment and instruction pointers)
// succeed and change nothing; false for rip (qemu_plugin_set_pc moves it) and
// for values qplug cannot give the guest (another segment selector, a GS
// base, a non-canonical FS base).
bool write_guest_register(runtime::ThreadState& ts, size_t index, const uint8_t* in);

}  // namespace qplug::qemu
