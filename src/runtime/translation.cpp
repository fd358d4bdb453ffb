// The views and action requests of qplug/translation.h, on the engine's data:
// each request becomes a runtime::Action at its point of the block, which the
// emitter generates inline.
#include "qplug/translation.h"

#include <deque>
#include <map>
#include <mutex>

#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "runtime/tb_impl.h"
#include "x86_64/memory_access.h"
#include "x86_64/qemu_disas.h"

namespace qplug {
namespace {

using runtime::Action;
using runtime::ActionKind;

const x86_64::DecodedInsn& insn_at(const detail::TbImpl* tb, size_t i) { return tb->insns[i]; }

// Cond lists QEMU's conditions from kEq on, in QEMU's order.
static_assert(static_cast<int>(runtime::Condition::kEq) == 2 &&
              static_cast<int>(runtime::Condition::kGe) == 7 && static_cast<int>(Cond::kGe) == 5);
runtime::Condition condition(Cond c) {
  return static_cast<runtime::Condition>(static_cast<int>(c) + 2);
}

runtime::SlotRef row_slot(const Counter& counter) {
  runtime::SlotRef slot;
  slot.row_offset = static_cast<int32_t>(counter.row_offset());
  return slot;
}

Action counter_action(ActionKind kind, Counter& counter, uint64_t imm) {
  Action a;
  a.kind = kind;
  a.slot = row_slot(counter);
  a.imm = imm;
  return a;
}

// The callout that empties a full buffer: one per buffer, alive for the run
// (translated code points at it).
const Action* flush_action(RecordBuffer& buffer) {
  static std::mutex mutex;
  static auto* actions = new std::map<RecordBuffer*, Action>;
  std::lock_guard guard(mutex);
  auto [it, fresh] = actions->try_emplace(&buffer);
  if (fresh) {
    Action& a = it->second;
    a.kind = ActionKind::kCall;
    a.userdata = &buffer;
    a.runner = [](const Action& self) {
      static_cast<RecordBuffer*>(self.userdata)
          ->flush(static_cast<unsigned>(runtime::current_thread().vcpu_index));
      return 0;
    };
  }
  return &it->second;
}

Action record_action(ActionKind kind, RecordBuffer& buffer, uint64_t value) {
  Action a;
  a.kind = kind;
  a.imm = value;
  a.record_cursor = buffer.cursor_offset();
  a.record_end = buffer.end_offset();
  a.record_flush = flush_action(buffer);
  return a;
}

Action direct_action(ActionKind kind, uint64_t arg, CallOptions options) {
  Action a;
  a.kind = kind;
  a.arg = arg;
  a.touches_vector = options.touches_vector;
  a.touches_flags = options.touches_flags;
  return a;
}

std::vector<Action>& point(detail::TbImpl* tb, size_t insn) {
  return insn == Tb::kEntry ? tb->instr->at_entry : tb->instr->before_insn[insn];
}

}  // namespace

namespace detail {

void ActionSink::add(Counter& counter, uint64_t n) {
  point(tb_, insn_).push_back(counter_action(ActionKind::kInlineAdd, counter, n));
}

void ActionSink::store(Counter& counter, uint64_t value) {
  point(tb_, insn_).push_back(counter_action(ActionKind::kInlineStore, counter, value));
}

void ActionSink::call_if(Counter& counter, Cond cond, uint64_t imm, DirectFn fn, uint64_t arg,
                         CallOptions options) {
  Action a = direct_action(ActionKind::kDirectCondCall, arg, options);
  a.direct = fn;
  a.slot = row_slot(counter);
  a.cond = condition(cond);
  a.imm = imm;
  point(tb_, insn_).push_back(a);
}

void ActionSink::call(DirectFn fn, uint64_t arg, CallOptions options) {
  Action a = direct_action(ActionKind::kDirectCall, arg, options);
  a.direct = fn;
  point(tb_, insn_).push_back(a);
}

void ActionSink::record(RecordBuffer& buffer, uint64_t value) {
  point(tb_, insn_).push_back(record_action(ActionKind::kRecord, buffer, value));
}

}  // namespace detail

uint64_t Tb::vaddr() const { return tb_->insns.front().pc; }
size_t Tb::n_insns() const { return tb_->insns.size(); }
size_t Tb::size() const {
  const x86_64::DecodedInsn& last = tb_->insns.back();
  return last.next_pc() - vaddr();
}

uint64_t Insn::vaddr() const { return insn_at(tb_, insn_).pc; }
size_t Insn::size() const { return insn_at(tb_, insn_).length(); }
std::span<const uint8_t> Insn::bytes() const {
  const x86_64::DecodedInsn& d = insn_at(tb_, insn_);
  return {d.bytes, d.length()};
}
std::string Insn::disas() const {
  const x86_64::DecodedInsn& d = insn_at(tb_, insn_);
  return x86_64::qemu_disas_text(d.bytes, d.length(), d.pc);
}
size_t Insn::mem_count() const { return x86_64::memory_accesses(insn_at(tb_, insn_)).size(); }
MemOperandInfo Insn::mem(size_t i) const {
  const auto accesses = x86_64::memory_accesses(insn_at(tb_, insn_));
  if (i >= accesses.size()) return {};
  return {accesses[i].size_shift, accesses[i].is_store, accesses[i].sign_extend};
}

void Insn::mem_add(Counter& counter, uint64_t n, MemRw rw) {
  tb_->instr->mem_of_insn[insn_].push_back(
      {counter_action(ActionKind::kInlineAdd, counter, n), static_cast<uint8_t>(rw)});
}

void Insn::mem_record(RecordBuffer& buffer, MemRw rw) {
  tb_->instr->mem_of_insn[insn_].push_back(
      {record_action(ActionKind::kMemRecord, buffer, 0), static_cast<uint8_t>(rw)});
}

void Insn::mem_call(MemFn fn, uint64_t arg, MemRw rw, CallOptions options) {
  Action a = direct_action(ActionKind::kMemDirectCall, arg, options);
  a.mem_direct = fn;
  tb_->instr->mem_of_insn[insn_].push_back({a, static_cast<uint8_t>(rw)});
}

}  // namespace qplug
