// Plugin actions as host code. The shapes, cheapest first:
//   inline add, flags dead:   add qword %fs:row+off, imm
//   inline add, flags live:   mov/lea/mov through rcx (lea adds without flags)
//   raw counters (API v1):    the same through r11 (one address load per run)
//   record:                   store at %fs:(row + end + cursor), cursor += 8,
//                             jrcxz to the flush when the cursor reaches 0
//   direct call:              switch to the runtime stack, push the SysV
//                             caller-saved registers, call, pop; flags and
//                             vector state only when needed
//   callout:                  the context switch's routine (everything saved)
// A condition is a cmp + jcc where flags are dead, and a cmp + setcc between
// pushfq/popfq (below the red zone) where they are live.
#include "x86_64/action_emitter.h"

#include <algorithm>

#include "x86_64/callee_analysis.h"
#include "x86_64/callee_inliner.h"

namespace qplug::x86_64 {

namespace {

using runtime::ActionKind;
using runtime::Condition;

const Xbyak::CodeGenerator::LabelType kNear = Xbyak::CodeGenerator::T_NEAR;

}  // namespace

Xbyak::Address ActionEmitter::row(uint32_t offset) {
  return tls(QPLUG_TLS_FIELD(vcpu_row) + offset);
}

Xbyak::Address ActionEmitter::row_indexed(const Xbyak::Reg64& index, uint32_t offset) {
  g_.db(0x64);
  return g_.qword[index + static_cast<size_t>(
                              env_.tls + static_cast<int64_t>(QPLUG_TLS_FIELD(vcpu_row) + offset))];
}

// An inline add (where flags are dead) or store on a cached scoreboard
// element: a load of the element's address, then one instruction.
bool ActionEmitter::on_cached_element(const runtime::Action& a, bool flags_live) {
  const bool simple =
      (a.kind == ActionKind::kInlineAdd && !flags_live) || a.kind == ActionKind::kInlineStore;
  return simple && a.slot.cache_slot >= 0 && fits_int32(static_cast<int64_t>(a.imm));
}

// actions[0, n) all on_cached_element of one element (bb's block and
// instruction counts are two fields of one element): they share the address
// load. Spill, load, the operations, reload.
void ActionEmitter::cached_element_ops(const runtime::Action* actions, size_t n) {
  g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
  g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(scoreboard_element) + 8 * actions[0].slot.cache_slot));
  for (size_t k = 0; k < n; ++k) {
    const Xbyak::Address element = g_.qword[g_.r11 + static_cast<uint32_t>(actions[k].slot.offset)];
    if (actions[k].kind == ActionKind::kInlineAdd)
      g_.add(element, static_cast<uint32_t>(actions[k].imm));
    else
      g_.mov(element, actions[k].imm);  // imm32, sign-extended
  }
  g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
}

void ActionEmitter::emit(const std::vector<runtime::Action>& actions, bool flags_live) {
  for (size_t i = 0; i < actions.size(); ++i) {
    const runtime::Action& a = actions[i];
    if (on_cached_element(a, flags_live)) {
      size_t n = 1;
      while (i + n < actions.size() && on_cached_element(actions[i + n], flags_live) &&
             actions[i + n].slot.cache_slot == a.slot.cache_slot)
        ++n;
      cached_element_ops(&a, n);
      i += n - 1;
      continue;
    }
    if (on_fixed_slot(a)) {
      size_t n = 1;
      while (i + n < actions.size() && on_fixed_slot(actions[i + n])) ++n;
      fixed_slot_ops(&a, n, flags_live);
      i += n - 1;
      continue;
    }
    switch (a.kind) {
      case ActionKind::kInlineAdd:
      case ActionKind::kInlineStore:
        inline_op(a, flags_live);
        break;
      case ActionKind::kCall:
        callout(a);
        break;
      case ActionKind::kCondCall: {
        if (a.cond == Condition::kNever) break;
        Xbyak::Label skip;
        test_condition(a, flags_live, skip);
        callout(a);
        g_.L(skip);
        break;
      }
      case ActionKind::kDirectCall:
        direct_call(a, flags_live, /*mem=*/false);
        break;
      case ActionKind::kDirectCondCall: {
        if (a.cond == Condition::kNever) break;
        Xbyak::Label skip;
        test_condition(a, flags_live, skip);
        direct_call(a, flags_live, /*mem=*/false);
        g_.L(skip);
        break;
      }
      case ActionKind::kRecord:
        record(a, /*mem=*/false);
        break;
      case ActionKind::kMemCall:
      case ActionKind::kMemDirectCall:
      case ActionKind::kMemRecord:
        emit_mem(a, flags_live);
        break;
    }
  }
}

void ActionEmitter::emit_mem(const runtime::Action& a, bool flags_live) {
  switch (a.kind) {
    case ActionKind::kMemCall:
      callout(a);
      break;
    case ActionKind::kMemDirectCall:
      direct_call(a, flags_live, /*mem=*/true);
      break;
    case ActionKind::kMemRecord:
      record(a, /*mem=*/true);
      break;
    default:
      inline_op(a, flags_live);
      break;
  }
}

// r11 = address of a QEMU slot for this vCPU (rcx is free).
// ah = SF ZF AF PF CF, al = OF: the status flags in rax, without pushfq.
void ActionEmitter::save_flags_in_rax() {
  g_.lahf();
  g_.seto(g_.al);
}

// The status flags back from rax: al + 0x7f overflows exactly when al is 1,
// then sahf sets the other five.
void ActionEmitter::restore_flags_from_rax() {
  g_.add(g_.al, 0x7f);
  g_.sahf();
}

void ActionEmitter::load_slot_address(const runtime::SlotRef& slot) {
  if (slot.cache_slot >= 0) {  // this thread's element, cached in ThreadState
    g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(scoreboard_element) + 8 * slot.cache_slot));
    g_.lea(g_.r11, g_.ptr[g_.r11 + static_cast<uint32_t>(slot.offset)]);
    return;
  }
  if (slot.fixed) {
    g_.mov(g_.r11, reinterpret_cast<uint64_t>(slot.fixed));
    return;
  }
  g_.mov(g_.r11, reinterpret_cast<uint64_t>(slot.base_holder));
  g_.mov(g_.r11, g_.qword[g_.r11]);  // the scoreboard's current storage
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(vcpu_index)));
  const auto stride = static_cast<int>(slot.stride);
  if (stride == 1 || stride == 2 || stride == 4 || stride == 8) {
    g_.lea(g_.rcx, g_.ptr[g_.rcx * stride]);  // lea scales without touching flags
  } else if (stride == 16 || stride == 32 || stride == 64) {
    g_.lea(g_.rcx, g_.ptr[g_.rcx * 8]);
    g_.lea(g_.rcx, g_.ptr[g_.rcx * (stride / 8)]);
  } else {
    // Other strides: multiply with the flags saved beyond the red zone.
    g_.lea(g_.rsp, g_.ptr[g_.rsp - 128]);
    g_.pushfq();
    g_.imul(g_.rcx, g_.rcx, stride);
    g_.popfq();
    g_.lea(g_.rsp, g_.ptr[g_.rsp + 128]);
  }
  g_.lea(g_.r11, g_.ptr[g_.r11 + g_.rcx + static_cast<uint32_t>(slot.offset)]);
}

void ActionEmitter::inline_op(const runtime::Action& a, bool flags_live) {
  const auto imm = static_cast<int64_t>(a.imm);
  const bool add = a.kind == ActionKind::kInlineAdd;
  if (a.slot.row_offset >= 0) {
    const auto off = static_cast<uint32_t>(a.slot.row_offset);
    if (fits_int32(imm) && (!add || !flags_live)) {
      if (add)
        g_.add(row(off), static_cast<uint32_t>(imm));
      else
        g_.mov(row(off), static_cast<uint64_t>(imm));  // imm32, sign-extended
      return;
    }
    g_.mov(tls(QPLUG_TLS_FIELD(spill_rcx)), g_.rcx);
    if (!add) {
      g_.mov(g_.rcx, a.imm);
    } else if (fits_int32(imm)) {
      g_.mov(g_.rcx, row(off));
      g_.lea(g_.rcx, g_.ptr[g_.rcx + static_cast<int32_t>(imm)]);
    } else {
      g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
      g_.mov(g_.r11, a.imm);
      g_.mov(g_.rcx, row(off));
      g_.lea(g_.rcx, g_.ptr[g_.rcx + g_.r11]);
      g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
    }
    g_.mov(row(off), g_.rcx);
    g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
    return;
  }
  if (on_cached_element(a, flags_live)) return cached_element_ops(&a, 1);
  if (on_fixed_slot(a)) return fixed_slot_ops(&a, 1, flags_live);
  // QEMU slots (a raw pointer or a scoreboard entry), flag-free.
  g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
  g_.mov(tls(QPLUG_TLS_FIELD(spill_rcx)), g_.rcx);
  load_slot_address(a.slot);
  if (!add) {
    g_.mov(g_.rcx, a.imm);
    g_.mov(g_.qword[g_.r11], g_.rcx);
  } else if (fits_int32(imm)) {
    g_.mov(g_.rcx, g_.qword[g_.r11]);
    g_.lea(g_.rcx, g_.ptr[g_.rcx + static_cast<int32_t>(imm)]);
    g_.mov(g_.qword[g_.r11], g_.rcx);
  } else {
    g_.mov(g_.rcx, a.imm);
    g_.lea(g_.rsp, g_.ptr[g_.rsp - 128]);  // flags saved beyond the red zone
    g_.pushfq();
    g_.add(g_.qword[g_.r11], g_.rcx);
    g_.popfq();
    g_.lea(g_.rsp, g_.ptr[g_.rsp + 128]);
  }
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
}

// Raw counters (API v1's inline ops on a plugin's globals), a run of them
// at one point: r11 holds one counter's address and the others within
// 2 GB of it are reached by displacement, so bb's two adjacent counters
// take one spill and one address load. Not RIP-relative: a read-modify-write
// through a RIP-relative operand defeats the store-to-load forwarding that
// base-register forms get (about 1.5 ns more per add in a loop on Intel).
bool ActionEmitter::on_fixed_slot(const runtime::Action& a) {
  return a.slot.fixed && a.slot.row_offset < 0 && a.slot.cache_slot < 0 &&
         (a.kind == ActionKind::kInlineAdd || a.kind == ActionKind::kInlineStore) &&
         fits_int32(static_cast<int64_t>(a.imm));
}

void ActionEmitter::fixed_slot_ops(const runtime::Action* actions, size_t n, bool flags_live) {
  g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
  if (flags_live) g_.mov(tls(QPLUG_TLS_FIELD(spill_rcx)), g_.rcx);
  uint64_t base = 0;
  for (size_t k = 0; k < n; ++k) {
    const runtime::Action& a = actions[k];
    const auto addr = reinterpret_cast<uint64_t>(a.slot.fixed);
    if (k == 0 || !fits_int32(static_cast<int64_t>(addr - base))) {
      base = addr;
      g_.mov(g_.r11, base);
    }
    const Xbyak::Address slot = g_.qword[g_.r11 + static_cast<int32_t>(addr - base)];
    const auto imm = static_cast<int64_t>(a.imm);
    if (a.kind == ActionKind::kInlineStore) {
      g_.mov(slot, static_cast<uint64_t>(imm));  // imm32, sign-extended
    } else if (!flags_live) {
      g_.add(slot, static_cast<uint32_t>(imm));
    } else {
      g_.mov(g_.rcx, slot);
      g_.lea(g_.rcx, g_.ptr[g_.rcx + static_cast<int32_t>(imm)]);
      g_.mov(slot, g_.rcx);
    }
  }
  if (flags_live) g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
}

void ActionEmitter::test_condition(const runtime::Action& a, bool flags_live, Xbyak::Label& skip) {
  if (a.cond == Condition::kAlways) return;
  const bool row_slot = a.slot.row_offset >= 0;
  const auto imm = static_cast<int64_t>(a.imm);
  // rcx carries a wide immediate or the result; r11 a QEMU slot's address.
  const bool uses_rcx = flags_live || !row_slot || !fits_int32(imm);
  if (uses_rcx) g_.mov(tls(QPLUG_TLS_FIELD(spill_rcx)), g_.rcx);
  if (!row_slot) {
    g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
    load_slot_address(a.slot);
  }
  if (flags_live) {
    g_.mov(tls(QPLUG_TLS_FIELD(spill_rax)), g_.rax);
    save_flags_in_rax();
  }
  auto value = [&] {
    return row_slot ? row(static_cast<uint32_t>(a.slot.row_offset)) : g_.qword[g_.r11];
  };
  if (fits_int32(imm)) {
    g_.cmp(value(), static_cast<uint32_t>(imm));
  } else {
    g_.mov(g_.rcx, a.imm);
    g_.cmp(value(), g_.rcx);
  }
  if (!flags_live) {
    if (uses_rcx) g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
    if (!row_slot) g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
    switch (a.cond) {  // skip when the condition does not hold (unsigned)
      case Condition::kEq:
        g_.jne(skip, kNear);
        break;
      case Condition::kNe:
        g_.je(skip, kNear);
        break;
      case Condition::kLt:
        g_.jae(skip, kNear);
        break;
      case Condition::kLe:
        g_.ja(skip, kNear);
        break;
      case Condition::kGt:
        g_.jbe(skip, kNear);
        break;
      case Condition::kGe:
        g_.jb(skip, kNear);
        break;
      default:
        break;
    }
    return;
  }
  switch (a.cond) {
    case Condition::kEq:
      g_.sete(g_.cl);
      break;
    case Condition::kNe:
      g_.setne(g_.cl);
      break;
    case Condition::kLt:
      g_.setb(g_.cl);
      break;
    case Condition::kLe:
      g_.setbe(g_.cl);
      break;
    case Condition::kGt:
      g_.seta(g_.cl);
      break;
    case Condition::kGe:
      g_.setae(g_.cl);
      break;
    default:
      break;
  }
  g_.movzx(g_.ecx, g_.cl);  // rcx = holds ? 1 : 0
  restore_flags_from_rax();
  g_.mov(g_.rax, tls(QPLUG_TLS_FIELD(spill_rax)));
  if (!row_slot) g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
  Xbyak::Label not_taken, taken;
  g_.jrcxz(not_taken);
  g_.jmp(taken, Xbyak::CodeGenerator::T_SHORT);
  g_.L(not_taken);
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  g_.jmp(skip, kNear);
  g_.L(taken);
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
}

bool ActionEmitter::inline_call(const runtime::Action& a, bool flags_live, bool mem) {
  const void* target =
      mem ? reinterpret_cast<const void*>(a.mem_direct) : reinterpret_cast<const void*>(a.direct);
  if (env_.no_inlining) return false;
  const InlineBody& body = inline_body(target, mem ? 4 : 2);
  if (!body.ok) return false;
  // The copy must fit where it goes (its RIP-relative operands within reach):
  // placed into a scratch buffer first, as it would land.
  const bool save_flags = flags_live && body.writes_flags;
  uint16_t saved = body.writes | body.reads;
  if (save_flags) saved |= 1u << 0;  // lahf/seto work in rax
  const int scratch = body.uses_scratch ? body.scratch : -1;
  if (scratch >= 0) saved |= static_cast<uint16_t>(1u << scratch);
  auto slot = [&](int r) { return tls(QPLUG_TLS_FIELD(inline_save) + 8 * static_cast<size_t>(r)); };
  const size_t start = g_.getSize();
  for (int r = 0; r < runtime::kGprCount; ++r)
    if (saved & (1u << r)) g_.mov(slot(r), gpr64(r));
  if (save_flags) {
    save_flags_in_rax();
    g_.mov(tls(QPLUG_TLS_FIELD(inline_flags)), g_.rax);
  }
  // The arguments, as the call would have passed them.
  if (body.reads & (1u << 7)) {  // edi: the vCPU
    g_.db(0x64);
    g_.mov(g_.edi, g_.dword[reinterpret_cast<void*>(
                       env_.tls + static_cast<int64_t>(QPLUG_TLS_FIELD(vcpu_index)))]);
  }
  if (mem) {
    if (body.reads & (1u << 6)) g_.mov(g_.esi, a.mem_info);
    if (body.reads & (1u << 2)) g_.mov(g_.rdx, tls(QPLUG_TLS_FIELD(mem_addr) + 8 * a.mem_slot));
    if (body.reads & (1u << 1)) g_.mov(g_.rcx, a.arg);
  } else if (body.reads & (1u << 6)) {
    g_.mov(g_.rsi, a.arg);
  }
  std::vector<size_t> guard_rel32;  // where each guard's rel32 to the slow path is
  for (size_t k = 0; k < body.insns.size(); ++k) {
    const DecodedInsn& d = body.insns[k];
    if (std::find(body.guards.begin(), body.guards.end(), k) != body.guards.end()) {
      const uint8_t* op = d.bytes + d.insn.raw.prefix_count;
      const uint8_t cc = op[0] == 0x0F ? op[1] & 0x0F : op[0] & 0x0F;
      g_.db(0x0F);
      g_.db(0x80 | cc);  // jcc rel32, aimed below
      guard_rel32.push_back(g_.getSize());
      g_.dd(0);
      continue;
    }
    uint8_t bytes[32];
    const bool drop_lock = env_.single_thread && has_lock(d);
    const size_t n = place_inline_insn(d, g_.getCurr(), bytes, drop_lock, scratch);
    if (n == 0) {  // out of reach from here: take it all back, and call
      g_.setSize(start);
      return false;
    }
    if (drop_lock) block_.elided_locks = true;
    g_.db(bytes, n);
  }
  auto restore = [&] {
    if (save_flags) {
      g_.mov(g_.rax, tls(QPLUG_TLS_FIELD(inline_flags)));
      restore_flags_from_rax();
    }
    for (int r = 0; r < runtime::kGprCount; ++r)
      if (saved & (1u << r)) g_.mov(gpr64(r), slot(r));
  };
  restore();
  if (!guard_rel32.empty()) {
    // A guard branched: as if nothing ran (what ran has no effect), call the
    // function from its start.
    Xbyak::Label done;
    g_.jmp(done, kNear);
    const size_t slow = g_.getSize();
    uint8_t* code = const_cast<uint8_t*>(g_.getCode());
    for (size_t at : guard_rel32) {
      const auto rel = static_cast<int32_t>(slow - (at + 4));
      std::memcpy(code + at, &rel, 4);
    }
    restore();
    direct_call(a, flags_live, mem, /*allow_inline=*/false);
    g_.L(done);
  }
  count_inlined_call();
  return true;
}

void ActionEmitter::direct_call(const runtime::Action& a, bool flags_live, bool mem,
                                bool allow_inline) {
  if (allow_inline && inline_call(a, flags_live, mem)) return;
  static const Xbyak::Reg64 kCallerSaved[] = {g_.rax, g_.rcx, g_.rdx, g_.rsi, g_.rdi,
                                              g_.r8,  g_.r9,  g_.r10, g_.r11};
  const bool save_flags = flags_live && a.touches_flags;
  const uint64_t target =
      mem ? reinterpret_cast<uint64_t>(a.mem_direct) : reinterpret_cast<uint64_t>(a.direct);
  // The general registers saved are those of the SysV caller-saved set that
  // the function may write (all of them for code the analysis cannot bound)
  // and those the call itself loads. The vector state is saved only as far as
  // the function may change it, as declared and as analysing its code tells:
  // register by register, or all of it when the analysis cannot tell.
  Clobbers use = clobbers_of(reinterpret_cast<const void*>(target));
  uint16_t gprs = use.unknown ? 0x0fc7 : use.gprs;
  gprs |= (1u << 7) | (1u << 6);           // rdi, rsi: arguments
  if (mem) gprs |= (1u << 2) | (1u << 1);  // rdx, rcx: arguments
  gprs |= 1u << 0;                         // rax: a far call's target, fnstsw, lahf
  if (!a.touches_vector) {
    use.unknown = false;
    use.vector = use.mask = 0;
    use.mxcsr = use.fp = use.vex = false;
  }
  const bool flags_free = save_flags || !flags_live;
  std::vector<Xbyak::Reg64> saved;
  for (const Xbyak::Reg64& r : kCallerSaved)
    if (gprs & (1u << r.getIdx())) saved.push_back(r);
  g_.mov(tls(QPLUG_TLS_FIELD(spill_rsp)), g_.rsp);
  g_.mov(g_.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));  // 16-aligned, below the dispatcher's frame
  for (const Xbyak::Reg64& r : saved) g_.push(r);
  // One more slot (the flags, or padding) when an odd number of registers
  // was pushed, so that rsp is 16-aligned at the call.
  const bool odd = saved.size() % 2 != 0;
  if (save_flags) {
    // lahf + seto (rax is saved above): a few cycles, where pushfq + popfq
    // cost twenty. DF and AC are the guest's own: blocks with std or popf
    // count as flags-live everywhere but keep them, as the ABI expects DF=0.
    save_flags_in_rax();
    g_.push(g_.rax);
    if (!odd) g_.lea(g_.rsp, g_.ptr[g_.rsp - 8]);
  } else if (odd) {
    g_.lea(g_.rsp, g_.ptr[g_.rsp - 8]);
  }
  auto call = [&] {
    g_.db(0x64);
    g_.mov(g_.edi, g_.dword[reinterpret_cast<void*>(
                       env_.tls + static_cast<int64_t>(QPLUG_TLS_FIELD(vcpu_index)))]);
    if (mem) {
      g_.mov(g_.esi, a.mem_info);
      g_.mov(g_.rdx, tls(QPLUG_TLS_FIELD(mem_addr) + 8 * a.mem_slot));
      g_.mov(g_.rcx, a.arg);
    } else {
      g_.mov(g_.rsi, a.arg);
    }
    if (a.qemu_callback) {  // what the callout routine would have recorded
      // The running plugin, for the API functions that take no id. It is
      // not cleared after the call (a store per call saved): plugin code
      // runs only from a call that sets it, or an event that scopes it.
      g_.mov(g_.rax, reinterpret_cast<uint64_t>(a.context));
      g_.db(0x64);
      g_.mov(g_.qword[reinterpret_cast<void*>(env_.plugin_context_tls)], g_.rax);
      if (mem) {
        g_.db(0x64);
        g_.mov(g_.dword[reinterpret_cast<void*>(env_.tls +
                                                static_cast<int64_t>(QPLUG_TLS_FIELD(mem_info)))],
               a.mem_info);
        g_.mov(tls(QPLUG_TLS_FIELD(mem_vaddr)), g_.rdx);
      }
    }
    const int64_t rel = static_cast<int64_t>(target) -
                        static_cast<int64_t>(reinterpret_cast<uint64_t>(g_.getCurr()) + 5);
    if (fits_int32(rel)) {
      g_.db(0xE8);  // call rel32
      g_.dd(static_cast<uint32_t>(rel));
    } else {
      g_.mov(g_.rax, target);
      g_.call(g_.rax);
    }
  };
  if (!use.unknown) {
    save_vector_registers(use, /*restore=*/false, flags_free);
    call();
    save_vector_registers(use, /*restore=*/true, flags_free);
  } else {
    // Unknown code: every vector and mask register and MXCSR, stored one by
    // one (about 20 ns here, against 300 ns for XSAVE + XRSTOR), unless the
    // guest has values on the x87 stack (TOP != 0), which a callee using x87
    // could overwrite: then XSAVE.
    Clobbers all;
    all.unknown = false;
    all.vector = env_.vector_bytes == 64 ? 0xffffffffu : 0xffffu;
    all.mask = 0xff;
    all.mxcsr = all.fp = all.vex = true;
    Xbyak::Label x87_in_use, done;
    g_.fnstsw(g_.ax);
    g_.test(g_.ax, 0x3800);  // flags: saved above where live
    g_.jnz(x87_in_use, kNear);
    save_vector_registers(all, /*restore=*/false, flags_free);
    // The upper halves are saved: clearing them keeps the callee's legacy SSE
    // code (glib's, a plugin's) from running against a dirty upper state,
    // which cost about a hundred nanoseconds per call.
    if (env_.vector_bytes >= 32) g_.vzeroupper();
    call();
    save_vector_registers(all, /*restore=*/true, flags_free);
    g_.jmp(done, kNear);
    g_.L(x87_in_use);
    g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
    load_xstate_mask(g_);
    g_.db(0x21AE0F48, 4);  // xsave64 [rcx]
    g_.db(0x64);
    g_.ldmxcsr(g_.dword[reinterpret_cast<void*>(
        env_.tls + static_cast<int64_t>(QPLUG_TLS_FIELD(host_mxcsr)))]);
    call();
    g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
    load_xstate_mask(g_);
    g_.db(0x29AE0F48, 4);  // xrstor64 [rcx]
    g_.L(done);
  }
  if (save_flags) {
    if (!odd) g_.lea(g_.rsp, g_.ptr[g_.rsp + 8]);
    g_.pop(g_.rax);
    restore_flags_from_rax();
  } else if (odd) {
    g_.lea(g_.rsp, g_.ptr[g_.rsp + 8]);
  }
  for (size_t i = saved.size(); i-- > 0;) g_.pop(saved[i]);
  g_.mov(g_.rsp, tls(QPLUG_TLS_FIELD(spill_rsp)));
}

void ActionEmitter::save_vector_registers(const Clobbers& use, bool restore, bool flags_free) {
  const size_t base = QPLUG_TLS_FIELD(vector_save);
  auto slot = [&](size_t offset) {
    g_.db(0x64);
    return g_.ptr[reinterpret_cast<void*>(env_.tls + static_cast<int64_t>(base + offset))];
  };
  auto slot32 = [&](size_t offset) {
    g_.db(0x64);
    return g_.dword[reinterpret_cast<void*>(env_.tls + static_cast<int64_t>(base + offset))];
  };
  auto host_mxcsr = [&] {
    g_.db(0x64);
    return g_.dword[reinterpret_cast<void*>(env_.tls +
                                            static_cast<int64_t>(QPLUG_TLS_FIELD(host_mxcsr)))];
  };
  const size_t kMasks = 32 * 64, kMxcsr = kMasks + 8 * 8, kMxcsrAfter = kMxcsr + 4;
  // MXCSR matters to a callee that computes in floating point (the guest may
  // have changed rounding or flush-to-zero), or loads MXCSR itself. Where the
  // flags may be clobbered, the host's MXCSR is loaded only if the guest's
  // control bits differ from it, and the guest's is loaded back only if the
  // callee changed it (its exception flags, say): ldmxcsr stalls, stmxcsr and
  // a compare do not.
  const bool mxcsr = use.mxcsr || use.fp;
  const bool conditional = flags_free && !use.mxcsr;
  if (mxcsr && restore) {
    if (conditional) {
      Xbyak::Label same;
      g_.stmxcsr(slot32(kMxcsrAfter));
      g_.mov(g_.eax, slot32(kMxcsrAfter));
      g_.cmp(g_.eax, slot32(kMxcsr));
      g_.je(same, kNear);
      g_.ldmxcsr(slot32(kMxcsr));
      g_.L(same);
    } else {
      g_.ldmxcsr(slot32(kMxcsr));
    }
  }
  // Legacy SSE callees change only the low 128 bits of what they write:
  // saving those with legacy moves keeps the upper state untouched and the
  // call free of SSE/AVX transitions.
  const int width = use.vex ? env_.vector_bytes : 16;
  for (int i = 0; i < 32; ++i) {
    if (!(use.vector & (1u << i))) continue;
    if (width == 64) {
      const Xbyak::Zmm z(i);
      if (restore)
        g_.vmovdqu64(z, slot(64 * i));
      else
        g_.vmovdqu64(slot(64 * i), z);
    } else if (i < 16 && width == 32) {
      const Xbyak::Ymm y(i);
      if (restore)
        g_.vmovdqu(y, slot(64 * i));
      else
        g_.vmovdqu(slot(64 * i), y);
    } else if (i < 16) {
      const Xbyak::Xmm x(i);
      if (restore)
        g_.movdqu(x, slot(64 * i));
      else
        g_.movdqu(slot(64 * i), x);
    }
  }
  for (int i = 0; i < 8 && env_.vector_bytes == 64; ++i) {
    if (!(use.mask & (1u << i))) continue;
    if (restore)
      g_.kmovq(Xbyak::Opmask(i), slot(kMasks + 8 * i));
    else
      g_.kmovq(slot(kMasks + 8 * i), Xbyak::Opmask(i));
  }
  if (mxcsr && !restore) {
    g_.stmxcsr(slot32(kMxcsr));
    if (conditional) {
      Xbyak::Label same;
      g_.mov(g_.eax, slot32(kMxcsr));
      g_.xor_(g_.eax, host_mxcsr());
      g_.test(g_.eax, ~0x3f);  // the exception flags do not matter to the host
      g_.jz(same, kNear);
      g_.ldmxcsr(host_mxcsr());
      g_.L(same);
    } else {
      g_.ldmxcsr(host_mxcsr());
    }
  }
}

void ActionEmitter::record(const runtime::Action& a, bool mem) {
  const auto imm = static_cast<int64_t>(a.imm);
  g_.mov(tls(QPLUG_TLS_FIELD(spill_rcx)), g_.rcx);
  g_.mov(g_.rcx, row(a.record_cursor));  // minus the free bytes
  if (!mem && fits_int32(imm)) {
    g_.mov(row_indexed(g_.rcx, a.record_end), static_cast<uint64_t>(imm));  // imm32, sign-extended
  } else {
    g_.mov(tls(QPLUG_TLS_FIELD(spill_scratch)), g_.r11);
    if (mem)
      g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(mem_addr) + 8 * a.mem_slot));
    else
      g_.mov(g_.r11, a.imm);
    g_.mov(row_indexed(g_.rcx, a.record_end), g_.r11);
    g_.mov(g_.r11, tls(QPLUG_TLS_FIELD(spill_scratch)));
  }
  g_.lea(g_.rcx, g_.ptr[g_.rcx + 8]);
  g_.mov(row(a.record_cursor), g_.rcx);
  Xbyak::Label full, done;
  g_.jrcxz(full);
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  g_.jmp(done, kNear);
  g_.L(full);
  g_.mov(g_.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  callout(*a.record_flush);
  g_.L(done);
}

void ActionEmitter::callout(const runtime::Action& a) {
  block_.callouts.push_front(a);
  Xbyak::Label resume;
  g_.mov(tls(QPLUG_TLS_FIELD(spill_r11)), g_.r11);
  g_.mov(g_.r11, pc_);  // the pc a plugin reads as rip during the callback
  g_.mov(tls(QPLUG_TLS_FIELD(rip)), g_.r11);
  g_.mov(g_.r11, reinterpret_cast<uint64_t>(&block_.callouts.front()));
  g_.mov(tls(QPLUG_TLS_FIELD(callout_action)), g_.r11);
  g_.lea(g_.r11, g_.ptr[g_.rip + resume]);
  g_.mov(tls(QPLUG_TLS_FIELD(callout_return)), g_.r11);
  g_.jmp(tls(QPLUG_TLS_FIELD(callout_routine)));
  g_.L(resume);
}

}  // namespace qplug::x86_64
