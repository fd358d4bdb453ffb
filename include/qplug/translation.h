// qplug/translation.h: what a static plugin sees when a block is translated
// (its tb_trans hook), and the execution-time actions it can ask for.
//
// The views show the same facts a QEMU plugin gets from qemu_plugin_tb_* and
// qemu_plugin_insn_*: addresses, sizes, bytes, disassembly, memory accesses.
// Actions are not callbacks stored somewhere: the x86-64 emitter generates
// each one into the block, in registration order, at its point (block entry,
// before an instruction, or after one of its memory accesses):
//
//   add/store    one instruction on a per-vCPU counter when the guest's flags
//                are dead there, five flag-free ones otherwise
//   call_if      an inline compare; the call only when it holds
//   call<Fn>     a direct call to Fn(vcpu, arg) on the runtime stack, saving
//                only the registers the SysV ABI lets Fn clobber, the flags
//                only where the guest needs them, and the vector state only
//                if Fn may touch it (CallOptions)
//   record       append a value to a per-vCPU RecordBuffer, flag-free, with
//                an inline "full" check; the flush runs only when it fills
//
// Lifetimes: a Tb, the Insn views taken from it, and the strings they return
// are valid only during the tb_trans hook that received the Tb.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "qplug/vcpu_storage.h"

namespace qplug {

class Tb;
namespace detail {
struct TbImpl;
TbImpl* impl_of(const Tb& tb);
}  // namespace detail

// Unsigned comparisons of a counter against an immediate.
enum class Cond : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// Which memory accesses an action wants (QEMU_PLUGIN_MEM_R / _W / _RW).
enum class MemRw : uint8_t { kRead = 1, kWrite = 2, kReadWrite = 3 };

// What a direct-call target may change besides the SysV caller-saved general
// registers, which are always preserved for the guest.
struct CallOptions {
  // false: the function uses no vector registers (e.g. built with
  // __attribute__((target("general-regs-only"))) and calling nothing that
  // does); the guest's vector state is then not saved around it.
  bool touches_vector = true;
  // false: the function leaves the flags alone; otherwise they are saved
  // where the guest's flags are live.
  bool touches_flags = true;
};

// A direct-call target: Fn(vcpu_index, arg).
using DirectFn = void (*)(unsigned vcpu_index, uint64_t arg);
// A memory direct-call target: Fn(vcpu_index, info, vaddr, arg); `info` is
// QEMU's qemu_plugin_meminfo_t encoding (size shift, sign, store bit).
using MemFn = void (*)(unsigned vcpu_index, uint32_t info, uint64_t vaddr, uint64_t arg);

namespace detail {
// The point where an action goes: block entry (insn = npos) or an instruction.
class ActionSink {
 public:
  void add(Counter& counter, uint64_t n);
  void store(Counter& counter, uint64_t value);
  void call_if(Counter& counter, Cond cond, uint64_t imm, DirectFn fn, uint64_t arg,
               CallOptions options = {});
  void call(DirectFn fn, uint64_t arg, CallOptions options = {});
  void record(RecordBuffer& buffer, uint64_t value);

  // Compile-time form of call(): Fn's signature is checked where it is named.
  template <auto Fn>
  void call(uint64_t arg, CallOptions options = {}) {
    static_assert(std::is_convertible_v<decltype(Fn), DirectFn>,
                  "qplug: call<Fn>: Fn must be a function void(unsigned vcpu_index, uint64_t arg)");
    call(static_cast<DirectFn>(Fn), arg, options);
  }

 protected:
  ActionSink(TbImpl* tb, size_t insn) : tb_(tb), insn_(insn) {}
  TbImpl* tb_;
  size_t insn_;
};
}  // namespace detail

// One guest memory operand of an instruction, as QEMU reports accesses.
struct MemOperandInfo {
  uint8_t size_shift;  // log2 of the access size in bytes
  bool is_store;
  bool sign_extend;
};

class Insn : public detail::ActionSink {
 public:
  uint64_t vaddr() const;
  size_t size() const;
  std::span<const uint8_t> bytes() const;
  // QEMU's text (Capstone, AT&T syntax), as qemu_plugin_insn_disas gives it.
  std::string disas() const;
  // The accesses the instruction makes, in QEMU's order (loads, then stores).
  size_t mem_count() const;
  MemOperandInfo mem(size_t i) const;

  // After each of the instruction's accesses that `rw` selects:
  void mem_add(Counter& counter, uint64_t n, MemRw rw = MemRw::kReadWrite);
  void mem_record(RecordBuffer& buffer, MemRw rw = MemRw::kReadWrite);  // records the address
  void mem_call(MemFn fn, uint64_t arg, MemRw rw = MemRw::kReadWrite, CallOptions options = {});
  template <auto Fn>
  void mem_call(uint64_t arg, MemRw rw = MemRw::kReadWrite, CallOptions options = {}) {
    static_assert(std::is_convertible_v<decltype(Fn), MemFn>,
                  "qplug: mem_call<Fn>: Fn must be a function void(unsigned vcpu_index, "
                  "uint32_t info, uint64_t vaddr, uint64_t arg)");
    mem_call(static_cast<MemFn>(Fn), arg, rw, options);
  }

 private:
  friend class Tb;
  Insn(detail::TbImpl* tb, size_t index) : ActionSink(tb, index) {}
};

// The block being translated; actions added to it run at block entry.
class Tb : public detail::ActionSink {
 public:
  explicit Tb(detail::TbImpl* impl) : ActionSink(impl, kEntry) {}
  uint64_t vaddr() const;
  size_t n_insns() const;
  size_t size() const;  // guest bytes
  Insn insn(size_t i) const { return Insn(tb_, i); }

  static constexpr size_t kEntry = ~size_t{0};

 private:
  friend detail::TbImpl* detail::impl_of(const Tb& tb);
};

// The engine's view of a block (for the QEMU plugin host); not for plugins.
inline detail::TbImpl* detail::impl_of(const Tb& tb) { return tb.tb_; }

}  // namespace qplug
