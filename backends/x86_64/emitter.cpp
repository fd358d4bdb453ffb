#include "x86_64/emitter.h"

#include <cstring>
#include <functional>
#include <span>

#include "x86_64/action_emitter.h"
#include "x86_64/asm_util.h"
#include "x86_64/liveness.h"
#include "x86_64/memory_access.h"
#include "x86_64/relocator.h"

namespace qplug::x86_64 {

using runtime::ExitReason;
using runtime::ExitStub;
using runtime::GuestMark;

namespace {

constexpr size_t kMaxHostBytesPerInsn =
    48 + 40;                               // far RIP-relative form, or a jcc and its slow path
constexpr size_t kMaxTransferBytes = 160;  // push + inline lookup or two exits
constexpr size_t kSlowPathBytes = 40;
// Accesses reported per instruction (ThreadState::mem_addr): enough for a
// 64-byte vector access in 16-byte parts, or a push of a memory operand.
constexpr size_t kMaxAccesses = 4;

class BlockEmitter {
 public:
  BlockEmitter(const CodeSpace& space, runtime::Block& block, const EmitEnv& env,
               EntryPlacement entry)
      : entry_(entry),
        g_(generator(0, space.hot, space.hot_capacity)),
        cold_(generator(1, space.cold, space.cold_capacity)),
        where_(space.hot),
        block_(block),
        env_(env),
        actions_(g_, env, block) {
    pending_.reserve(4);
  }

  bool emit(std::span<const DecodedInsn> insns, uint64_t end_pc, std::string* error,
            const runtime::BlockInstrumentation* instr) {
    block_.guest_pc = insns.front().pc;      // marks are relative to it
    block_.marks.reserve(insns.size() + 4);  // one per instruction, a few per transfer
    block_.exits.reserve(3);
    block_.hot_code = const_cast<uint8_t*>(g_.getCurr());
    if (entry_ == EntryPlacement::kInline) {
      block_.host_code = block_.hot_code;
      emit_checked_entry(g_, insns.front().pc);
    }
    block_.body = const_cast<uint8_t*>(g_.getCurr());
    current_pc_ = insns.front().pc;
    if (instr) flags_live_ = status_flags_live(insns);
    actions_.set_pc(current_pc_);
    if (instr) actions_.emit(instr->at_entry, flags_live_[0]);
    bool ended = false;
    for (size_t i = 0; i < insns.size(); ++i) {
      const DecodedInsn& d = insns[i];
      current_pc_ = d.pc;
      actions_.set_pc(current_pc_);
      if (instr && i < instr->before_insn.size())
        actions_.emit(instr->before_insn[i], flags_live_[i]);
      const std::vector<runtime::MemAction>* mem =
          instr && i < instr->mem_of_insn.size() && !instr->mem_of_insn[i].empty()
              ? &instr->mem_of_insn[i]
              : nullptr;
      if (mem) {
        const std::vector<MemAccess> accesses = memory_accesses(d);
        if (d.kind == InsnKind::kPlain && is_rep_string(d)) {
          emit_rep_string(d, accesses, *mem);
          continue;
        }
        capture_addresses(d, accesses);
        if (d.kind == InsnKind::kPlain) {
          if (!emit_insn(d, error)) return false;
          emit_mem_actions(accesses, *mem, flags_live_[i + 1]);
          continue;
        }
        if (d.kind == InsnKind::kCallDirect || d.kind == InsnKind::kCallIndirect) {
          // Reported after the push (mem_get_value sees the return address).
          const std::function<void()> report = [&] { emit_mem_actions(accesses, *mem, true); };
          if (!emit_call(d, error, &report)) return false;
          continue;
        }
        // ret and jmp [mem] only load: report their accesses before they leave.
        emit_mem_actions(accesses, *mem, true);
      }
      if (!emit_insn(d, error)) return false;
      ended = d.kind != InsnKind::kPlain && d.kind != InsnKind::kJcc;
    }
    if (!ended) exit_to(end_pc);
    emit_slow_paths();
    emit_constants();
    if (entry_ == EntryPlacement::kCold) {
      block_.host_code = const_cast<uint8_t*>(cold_.getCurr());
      emit_checked_entry(cold_, insns.front().pc);
      cold_.jmp(block_.body);  // within the zone: rel32
    }
    return true;
  }

  size_t size() const { return g_.getSize(); }
  size_t cold_size() const { return cold_.getSize(); }

 private:
  struct PendingExit {
    ExitStub* stub;
    size_t patch_offset;
  };

  Xbyak::Address tls(size_t field) { return x86_64::tls(g_, env_.tls, field); }

  size_t offset() const { return g_.getSize(); }

  // Pads with nops, where needed, so that the rel32 that follows
  // `opcode_bytes` lies within one 16-byte block: linking rewrites it with one
  // 4-byte store while other threads may run the code, and such a store is
  // seen whole by instruction fetch and data reads alike. (4-byte alignment
  // would do too, but costs one to three nops before most exits, in the
  // hottest code.)
  void align_rel32(size_t opcode_bytes) {
    const auto rel32_at = [&] { return reinterpret_cast<uintptr_t>(g_.getCurr()) + opcode_bytes; };
    if (rel32_at() % 16 <= 12) return;
    while (rel32_at() % 16 != 0) g_.nop();
  }

  ExitStub* new_stub(uint64_t target) {
    block_.exits.push_back(std::make_unique<ExitStub>());
    ExitStub* stub = block_.exits.back().get();
    stub->target_pc = target;
    stub->owner = &block_;
    return stub;
  }

  // jmp rel32 to `target`, unlinked for now.
  void exit_to(uint64_t target) {
    align_rel32(1);
    g_.db(0xE9);
    pending_.push_back({new_stub(target), offset()});
    g_.dd(0);
  }

  // jcc rel32 (condition `cc`, 0..15) to `target`.
  void exit_if(uint8_t cc, uint64_t target) {
    align_rel32(2);
    g_.db(0x0F);
    g_.db(0x80 | cc);
    pending_.push_back({new_stub(target), offset()});
    g_.dd(0);
  }

  // Leaves to the dispatcher with `reason` and `arg` (guest r11 parked), from
  // the hot code (`g_`) or the cold code (exit slow paths).
  void leave(Xbyak::CodeGenerator& g, ExitReason reason, uint64_t arg) {
    tls_store(g, env_.tls, QPLUG_TLS_FIELD(spill_r11), g.r11);
    g.mov(g.r11, arg);
    tls_store_imm32(g, env_.tls, QPLUG_TLS_FIELD(exit_reason), static_cast<int32_t>(reason));
    tls_jmp(g, env_.tls, QPLUG_TLS_FIELD(exit_common));
  }

  // Pushes a guest return address without touching flags, in one 8-byte
  // store (two 4-byte halves would defeat store-to-load forwarding for the
  // `ret`'s 8-byte load and stall every return): `push imm32` when the address
  // sign-extends from 32 bits, else `push qword [rip+k]` from the block's
  // constants. `call_pc` and `r11_spilled` describe the call for a fault on
  // the push (a guest stack overflow is reported at the call).
  void push_return_address(uint64_t ret, uint64_t call_pc, bool r11_spilled) {
    mark_transfer(call_pc, -1, r11_spilled);
    const auto low = static_cast<uint32_t>(ret);
    if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(low))) == ret) {
      g_.db(0x68);  // push imm32, sign-extended to 64 bits
      g_.dd(low);
      return;
    }
    g_.db(0xFF);
    g_.db(0x35);  // push qword [rip + disp32]
    constants_.push_back({offset(), ret});
    g_.dd(0);
  }

  // The 8-byte constants the block's code loads RIP-relative, after its code.
  void emit_constants() {
    if (constants_.empty()) return;
    while (reinterpret_cast<uintptr_t>(g_.getCurr()) % 8 != 0) g_.db(0xCC);
    for (const auto& [disp_offset, value] : constants_) {
      const auto disp = static_cast<int32_t>(offset() - (disp_offset + 4));
      std::memcpy(where_ + disp_offset, &disp, sizeof disp);
      g_.dq(value);
    }
  }

  // Checked entry (runtime/thread_state.h explains the lookup table): an
  // indirect branch arrives here through the table with the guest target in
  // r11 and the guest's rcx and r11 parked. The block checks that the target
  // is its own pc, flag-free, and gives the registers back; anything else
  // leaves through lookup_miss. Emitted by `g`: inline before the body, or
  // in the cold code followed by a jump to the body (EntryPlacement).
  void emit_checked_entry(Xbyak::CodeGenerator& g, uint64_t pc) {
    if (pc <= 0x80000000u) {  // -pc fits a sign-extended disp32
      g.lea(g.rcx, g.ptr[g.r11 - static_cast<uint32_t>(pc)]);
    } else {
      g.mov(g.rcx, ~pc);
      g.lea(g.rcx, g.ptr[g.rcx + g.r11 + 1]);  // ~pc + target + 1 == target - pc
    }
    g.db(0xE3);  // jrcxz over the jump to lookup_miss
    g.db(kTlsJmpBytes);
    tls_jmp(g, env_.tls, QPLUG_TLS_FIELD(lookup_miss));
    tls_load(g, env_.tls, g.rcx, QPLUG_TLS_FIELD(spill_rcx));
    tls_load(g, env_.tls, g.r11, QPLUG_TLS_FIELD(spill_r11));
  }

  // Jumps to the guest target in r11 (guest r11 parked in spill_r11) through
  // the lookup table, without touching flags: the table is indexed by the
  // target's low 16 bits, which one movzx extracts.
  void lookup_and_jump() {
    static_assert(kLookupEntries == 1 << 16, "the index is the target's low 16 bits");
    const size_t begin = offset();
    tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_rcx), g_.rcx);
    g_.movzx(g_.ecx, g_.r11w);
    g_.jmp(tls_indexed(g_, env_.tls, QPLUG_TLS_FIELD(lookup), g_.rcx, 8));
    block_.lookup_ranges.emplace_back(static_cast<uint32_t>(begin),
                                      static_cast<uint32_t>(offset()));
  }

  // Records that host code from `at` on is guest instruction `pc`.
  void mark(const uint8_t* at, uint64_t pc, int8_t scratch, bool r11_spilled, bool exact = true) {
    GuestMark m{static_cast<uint32_t>(at - where_), static_cast<uint16_t>(pc - block_.guest_pc),
                scratch};
    m.r11_spilled = r11_spilled;
    m.exact = exact;
    block_.marks.push_back(m);
  }
  // A transfer's guest-memory accesses (target load, push, pop) span a few
  // host instructions from here on.
  void mark_transfer(uint64_t pc, int8_t scratch, bool r11_spilled) {
    mark(g_.getCurr(), pc, scratch, r11_spilled, /*exact=*/false);
  }

  // ---- memory callbacks ----

  // Stores each access's address, from the registers as they are before the
  // instruction, in ThreadState::mem_addr[k] (flag-free).
  void capture_addresses(const DecodedInsn& d, const std::vector<MemAccess>& accesses) {
    for (size_t k = 0; k < accesses.size() && k < kMaxAccesses; ++k) {
      const ZydisDecodedOperand& op = *accesses[k].operand;
      tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_scratch), g_.r11);
      if (op.mem.base == ZYDIS_REGISTER_RIP) {
        g_.mov(g_.r11, d.next_pc() + static_cast<uint64_t>(op.mem.disp.value) +
                           static_cast<uint64_t>(accesses[k].stack_adjust));
      } else {
        Xbyak::RegExp e(static_cast<size_t>(op.mem.disp.value + accesses[k].stack_adjust));
        if (gpr_number(op.mem.base) >= 0) e = e + gpr64(gpr_number(op.mem.base));
        if (gpr_number(op.mem.index) >= 0)
          e = e + gpr64(gpr_number(op.mem.index)) * (op.mem.scale ? op.mem.scale : 1);
        g_.lea(g_.r11, g_.ptr[e]);
      }
      if (op.mem.segment == ZYDIS_REGISTER_FS) {  // the guest's FS base is in GS
        tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_rcx), g_.rcx);
        g_.db(0xC9AE0F48F3ull, 5);  // rdgsbase rcx
        g_.lea(g_.r11, g_.ptr[g_.r11 + g_.rcx]);
        tls_load(g_, env_.tls, g_.rcx, QPLUG_TLS_FIELD(spill_rcx));
      }
      g_.mov(tls(QPLUG_TLS_FIELD(mem_addr) + 8 * k), g_.r11);
      tls_load(g_, env_.tls, g_.r11, QPLUG_TLS_FIELD(spill_scratch));
    }
  }

  void emit_mem_actions(const std::vector<MemAccess>& accesses,
                        const std::vector<runtime::MemAction>& actions, bool flags_live) {
    for (size_t k = 0; k < accesses.size() && k < kMaxAccesses; ++k) {
      const uint8_t rw = accesses[k].is_store ? 2 : 1;
      for (const runtime::MemAction& m : actions) {
        if (!(m.rw & rw)) continue;
        runtime::Action a = m.action;
        a.mem_info = mem_info(accesses[k]);
        a.mem_slot = static_cast<uint8_t>(k);
        actions_.emit_mem(a, flags_live);
      }
    }
  }

  // rep string instructions report every iteration, so they run one
  // iteration at a time:  top: jrcxz done; insn; actions; rcx--; [jcc done]; jmp top
  void emit_rep_string(const DecodedInsn& d, const std::vector<MemAccess>& accesses,
                       const std::vector<runtime::MemAction>& actions) {
    uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
    size_t n = 0;
    bool repe = false, repne = false;
    for (size_t i = 0; i < d.length(); ++i) {
      const bool prefix = i < d.insn.raw.prefix_count;
      const uint8_t b = d.bytes[i];
      if (prefix && b == 0xF3) {
        repe = true;
        continue;
      }
      if (prefix && b == 0xF2) {
        repne = true;
        continue;
      }
      bytes[n++] = prefix && b == 0x64 ? 0x65 : b;  // fs: -> gs:
    }
    const bool compares =
        d.insn.mnemonic == ZYDIS_MNEMONIC_CMPSB || d.insn.mnemonic == ZYDIS_MNEMONIC_CMPSW ||
        d.insn.mnemonic == ZYDIS_MNEMONIC_CMPSD || d.insn.mnemonic == ZYDIS_MNEMONIC_CMPSQ ||
        d.insn.mnemonic == ZYDIS_MNEMONIC_SCASB || d.insn.mnemonic == ZYDIS_MNEMONIC_SCASW ||
        d.insn.mnemonic == ZYDIS_MNEMONIC_SCASD || d.insn.mnemonic == ZYDIS_MNEMONIC_SCASQ;
    Xbyak::Label top, body, zero, done;
    g_.L(top);
    g_.jrcxz(zero);
    g_.jmp(body, Xbyak::CodeGenerator::T_NEAR);
    g_.L(zero);
    g_.jmp(done, Xbyak::CodeGenerator::T_NEAR);
    g_.L(body);
    capture_addresses(d, accesses);
    mark(g_.getCurr(), d.pc, -1, false);  // an iteration faults with rcx/rsi/rdi at that iteration
    g_.db(bytes, n);
    emit_mem_actions(accesses, actions, true);  // keep the flags the iteration set
    g_.lea(g_.rcx, g_.ptr[g_.rcx - 1]);
    if (compares && repe) g_.jnz(done, Xbyak::CodeGenerator::T_NEAR);
    if (compares && repne) g_.jz(done, Xbyak::CodeGenerator::T_NEAR);
    g_.jmp(top, Xbyak::CodeGenerator::T_NEAR);
    g_.L(done);
  }

  // A jmp/call through a RIP-relative slot is almost always a PLT or GOT
  // call whose slot the dynamic linker filled before the code ran: its value
  // now is the likely target.
  uint64_t likely_target(const DecodedInsn& d) const {
    const ZydisDecodedOperand& op = d.ops[0];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.base != ZYDIS_REGISTER_RIP ||
        op.mem.segment == ZYDIS_REGISTER_FS)
      return 0;
    const uint64_t slot = d.next_pc() + static_cast<uint64_t>(op.mem.disp.value);
    uint64_t value = 0;
    if (!env_.read_guest || env_.read_guest(slot, &value, sizeof value) != sizeof value) return 0;
    return value;
  }

  // Target in r11 (guest r11 parked): a linked exit to `expected` when it
  // matches, the inline lookup otherwise.
  void expect_and_jump(uint64_t expected) {
    const size_t begin = offset();
    Xbyak::Label hit, miss;
    tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_rcx), g_.rcx);
    g_.mov(g_.rcx, ~expected);
    g_.lea(g_.rcx, g_.ptr[g_.rcx + g_.r11 + 1]);  // target - expected
    g_.jrcxz(hit);
    g_.jmp(miss, Xbyak::CodeGenerator::T_NEAR);
    g_.L(hit);
    tls_load(g_, env_.tls, g_.rcx, QPLUG_TLS_FIELD(spill_rcx));
    tls_load(g_, env_.tls, g_.r11, QPLUG_TLS_FIELD(spill_r11));
    exit_to(expected);
    g_.L(miss);
    tls_load(g_, env_.tls, g_.rcx, QPLUG_TLS_FIELD(spill_rcx));
    lookup_and_jump();
    block_.lookup_ranges.emplace_back(static_cast<uint32_t>(begin),
                                      static_cast<uint32_t>(offset()));
  }

  void jump_indirect(const DecodedInsn& d) {
    if (uint64_t expected = likely_target(d)) {
      expect_and_jump(expected);
    } else {
      lookup_and_jump();
    }
  }

  // call: push the guest return address, run `after_push` with the guest's
  // registers in place (plugin actions), then go to the target.
  bool emit_call(const DecodedInsn& d, std::string* error,
                 const std::function<void()>* after_push) {
    if (d.kind == InsnKind::kCallDirect) {
      push_return_address(d.next_pc(), d.pc, /*r11_spilled=*/false);
      if (after_push) (*after_push)();
      exit_to(d.branch_target());
      return true;
    }
    tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_r11), g_.r11);
    mark_transfer(d.pc, -1, true);  // the target load reads guest memory
    if (!load_branch_target(g_, d, env_.tls, error)) return false;
    push_return_address(d.next_pc(), d.pc, true);
    if (after_push) {
      // r11 holds the target: park it and give the guest its r11 meanwhile.
      tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_target), g_.r11);
      tls_load(g_, env_.tls, g_.r11, QPLUG_TLS_FIELD(spill_r11));
      (*after_push)();
      tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_r11), g_.r11);
      tls_load(g_, env_.tls, g_.r11, QPLUG_TLS_FIELD(spill_target));
    }
    jump_indirect(d);
    return true;
  }

  bool emit_insn(const DecodedInsn& d, std::string* error) {
    switch (d.kind) {
      case InsnKind::kPlain: {
        RelocationInfo info;
        if (!relocate_plain(g_, d, env_.tls, error, &info)) return false;
        mark(info.insn_start, d.pc, static_cast<int8_t>(info.scratch), false);
        return true;
      }
      case InsnKind::kJmpDirect:
        exit_to(d.branch_target());
        return true;
      case InsnKind::kJcc:  // the fall-through path continues in this block
        exit_if(d.insn.opcode & 0x0F, d.branch_target());
        return true;
      case InsnKind::kJccRel8Only:
        emit_rel8_only(d);
        return true;
      case InsnKind::kCallDirect:
      case InsnKind::kCallIndirect:
        return emit_call(d, error, nullptr);
      case InsnKind::kJmpIndirect:
        tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_r11), g_.r11);
        mark_transfer(d.pc, -1, true);  // the target load reads guest memory
        if (!load_branch_target(g_, d, env_.tls, error)) return false;
        jump_indirect(d);
        return true;
      case InsnKind::kRet:
        tls_store(g_, env_.tls, QPLUG_TLS_FIELD(spill_r11), g_.r11);
        mark_transfer(d.pc, -1, true);
        g_.pop(g_.r11);
        if (d.insn.operand_count_visible > 0 && d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
          g_.lea(g_.rsp, g_.ptr[g_.rsp + static_cast<uint32_t>(d.ops[0].imm.value.u & 0xffff)]);
        lookup_and_jump();
        return true;
      case InsnKind::kSyscall:
        leave(g_, ExitReason::kSyscall, d.next_pc());
        return true;
      case InsnKind::kTrap:
        leave(g_, ExitReason::kInterrupt, d.pc);
        return true;
      case InsnKind::kUnsupported:
        leave(g_, ExitReason::kUnsupported, d.pc);
        return true;
    }
    return false;
  }

  // jrcxz/loop*: only a rel8 form exists, so branch over a pair of exits:
  //   loop +k ; jmp rel32 (fall-through exit) ; jmp rel32 (taken exit)
  void emit_rel8_only(const DecodedInsn& d) {
    const size_t opcode_len = d.length() - 1;  // everything but the rel8
    g_.db(d.bytes, opcode_len);
    uint8_t* rel8 = const_cast<uint8_t*>(g_.getCurr());
    g_.db(0);
    exit_to(d.next_pc());
    align_rel32(1);
    *rel8 = static_cast<uint8_t>(g_.getCurr() - (rel8 + 1));  // to the taken exit
    exit_to(d.branch_target());
  }

  // Each exit's slow path, run until the exit is linked (usually once), goes
  // to the cold code: hot code stays dense in the instruction cache.
  void emit_slow_paths() {
    for (PendingExit& p : pending_) {
      p.stub->slow_path = const_cast<uint8_t*>(cold_.getCurr());
      leave(cold_, ExitReason::kLink, reinterpret_cast<uint64_t>(p.stub));
      p.stub->patch_site = where_ + p.patch_offset;
    }
  }

 public:
  void patch_exits() {
    for (PendingExit& p : pending_) patch_rel32(p.stub->patch_site, p.stub->slow_path);
  }

 private:
  // The calling thread's generator `which` (0 hot, 1 cold), pointed at `buffer`.
  static Xbyak::CodeGenerator& generator(int which, uint8_t* buffer, size_t capacity) {
    static thread_local RetargetableGenerator generators[2];
    generators[which].retarget(buffer, capacity);
    return generators[which];
  }

  EntryPlacement entry_;
  Xbyak::CodeGenerator& g_;
  Xbyak::CodeGenerator& cold_;
  uint8_t* where_;
  runtime::Block& block_;
  const EmitEnv& env_;
  std::vector<PendingExit> pending_;
  struct Constant {
    size_t disp_offset;  // where the disp32 that loads it is
    uint64_t value;
  };
  std::vector<Constant> constants_;
  uint64_t current_pc_ = 0;  // guest pc of the instruction being emitted
  ActionEmitter actions_;
  std::vector<bool> flags_live_;  // per instruction (and the end), when instrumented
};

}  // namespace

size_t max_block_size(size_t n_insns) {
  return n_insns * kMaxHostBytesPerInsn + 2 * kMaxTransferBytes;
}

size_t max_cold_size(size_t n_insns) {
  return (2 * n_insns + 2) * kSlowPathBytes;  // at most two exits per instruction
}

namespace {
const uint8_t kJmpRipIndirect[6] = {0xFF, 0x25, 0, 0, 0, 0};  // jmp qword [rip+0]
}  // namespace

void write_far_jump(uint8_t* where, const uint8_t* target) {
  std::memcpy(where, kJmpRipIndirect, sizeof kJmpRipIndirect);
  uint64_t address = reinterpret_cast<uint64_t>(target);
  // Plain stores suffice: an exit is pointed at the trampoline only after it
  // is written, and a retarget happens only after invalidation has pointed
  // the exit back at its slow path.
  std::memcpy(where + 6, &address, sizeof address);
}

const uint8_t* far_jump_target(const uint8_t* at) {
  if (std::memcmp(at, kJmpRipIndirect, sizeof kJmpRipIndirect) != 0) return nullptr;
  uint64_t address;
  std::memcpy(&address, at + 6, sizeof address);
  return reinterpret_cast<const uint8_t*>(address);
}

bool patch_rel32(uint8_t* patch_site, const uint8_t* target) {
  const int64_t rel = target - (patch_site + 4);
  if (!fits_int32(rel)) return false;
  __atomic_store_n(reinterpret_cast<int32_t*>(patch_site), static_cast<int32_t>(rel),
                   __ATOMIC_RELEASE);
  return true;
}

size_t max_instrumentation_size(const runtime::BlockInstrumentation& instr) {
  constexpr size_t kPerAction = ActionEmitter::kMaxBytes;
  constexpr size_t kCapturePerInsn = kMaxAccesses * 80 + 64;  // addresses + rep-loop control
  size_t n = instr.at_entry.size();
  for (const auto& v : instr.before_insn) n += v.size();
  size_t bytes = 0;
  for (const auto& v : instr.mem_of_insn) {
    if (!v.empty()) bytes += kCapturePerInsn + v.size() * kMaxAccesses * kPerAction;
  }
  return bytes + n * kPerAction;
}

EmitStatus emit_block(std::span<const DecodedInsn> insns, uint64_t end_pc, const CodeSpace& space,
                      runtime::Block& block, const EmitEnv& env,
                      const runtime::BlockInstrumentation* instr, EntryPlacement entry) {
  EmitStatus status;
  try {
    BlockEmitter emitter(space, block, env, entry);
    if (!emitter.emit(insns, end_pc, &status.error, instr)) return status;
    emitter.patch_exits();
    status.size = emitter.size();
    status.cold_size = emitter.cold_size();
    status.ok = true;
  } catch (const Xbyak::Error& e) {
    status.error = std::string("code generation failed: ") + e.what();
  }
  block.host_size = static_cast<uint32_t>(status.size);
  block.cold_code = space.cold;
  block.cold_size = static_cast<uint32_t>(status.cold_size);
  return status;
}

}  // namespace qplug::x86_64
