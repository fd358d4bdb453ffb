#include "runtime/dispatcher.h"

#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gdbstub/stub.h"
#include "os/linux/code_pages.h"
#include "os/linux/signals.h"
#include "os/linux/syscalls.h"
#include "os/linux/ucontext_regs.h"
#include "os/linux/vsyscall.h"
#include "qplug/translation.h"
#include "runtime/guest_symbols.h"
#include "runtime/runtime.h"
#include "runtime/tb_impl.h"
#include "runtime/translation_log.h"
#include "x86_64/callee_analysis.h"
#include "x86_64/callee_inliner.h"
#include "x86_64/xstate.h"

namespace qplug::runtime {

using x86_64::DecodedInsn;
using x86_64::InsnKind;

Dispatcher::Dispatcher() {
  rt().env.read_guest = &Dispatcher::read_guest;
  insn_buffer_ = std::make_unique<DecodedInsn[]>(kMaxBlockInsns);
  log_guest_code_ = cli::has_log_item(rt().options.log_items, "in_asm");
  log_host_code_ = cli::has_log_item(rt().options.log_items, "out_asm");
  log_exec_ = cli::has_log_item(rt().options.log_items, "exec");
  log_cpu_ = cli::has_log_item(rt().options.log_items, "cpu");
  no_chaining_ = cli::has_log_item(rt().options.log_items, "nochain");
  // -perfmap or QPLUG_PERF_MAP=1: name each block after its guest pc for `perf report`.
  const char* perf_map_env = std::getenv("QPLUG_PERF_MAP");
  if (rt().options.perfmap || (perf_map_env && *perf_map_env == '1')) {
    char path[64];
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", getpid());
    perf_map_ = std::fopen(path, "w");
    if (perf_map_) setvbuf(perf_map_, nullptr, _IOLBF, 0);
  }
}

void Dispatcher::add_thread(ThreadState* ts) {
  std::lock_guard guard(mutex_);
  // Code translated for one thread may have dropped LOCK prefixes: it goes
  // before the second thread runs (the first is in the dispatcher now).
  if (elided_locks_) {
    flush_all();
    rt().tool->flush();
  }
  threads_.push_back(ts);
}

size_t Dispatcher::live_threads() const {
  return static_cast<size_t>(std::count_if(
      threads_.begin(), threads_.end(), [](const ThreadState* t) { return !t->separate_process; }));
}

void Dispatcher::forget_other_threads(ThreadState* self) {
  std::lock_guard guard(mutex_);
  threads_.assign(1, self);
}

void Dispatcher::remove_thread(ThreadState* ts) {
  std::lock_guard guard(mutex_);
  std::erase(threads_, ts);
}

// read_guest (qemu_plugin_mem_get_value and others call it from callbacks
// that run as direct calls) uses no vector register: its copy is the context
// switch's safe_copy, `rep movsb`, reached through a pointer that callee
// analysis cannot follow.
[[maybe_unused]] static const bool read_guest_vector_safe =
    (x86_64::declare_vector_safe(reinterpret_cast<const void*>(&Dispatcher::read_guest)), true);

size_t Dispatcher::read_guest(uint64_t addr, void* out, size_t len) {
  // A fault on guest memory is recovered by the SIGSEGV handler (safe_copy),
  // so an unmapped or unreadable page just ends the copy.
  return len - rt().ctx.safe_copy(out, reinterpret_cast<const void*>(addr), len);
}

// Guest code as the CPU would fetch it: only from executable pages, and the
// vsyscall page as the kernel emulates it (it cannot be read).
size_t Dispatcher::read_code(uint64_t addr, void* out, size_t len) {
  if (os::in_vsyscall_page(addr)) return os::vsyscall_code(addr, static_cast<uint8_t*>(out), len);
  return read_guest(addr, out, os::executable_bytes(addr, len));
}

Block* Dispatcher::translate(uint64_t pc, x86_64::EntryPlacement entry, size_t max_insns) {
  const bool instruments = rt().tool->instruments();
  // Most blocks are short: read a little and more only when a block needs it.
  // Code the guest may write is write-protected before it is read, never
  // after (code_pages.h): a write that lands in between would be lost.
  uint8_t code[kMaxBlockInsns * 16];
  constexpr size_t kChunk = 256;
  os::protect_translated(pc, pc + kChunk);
  size_t avail = read_code(pc, code, kChunk);
  bool more = avail == kChunk;
  // Decoded in place into a buffer kept across translations: a DecodedInsn is
  // about 1 KiB, and allocating, zeroing or copying them was a visible share of
  // start-up (thousands of blocks translated per process).
  DecodedInsn* const buffer = insn_buffer_.get();
  const bool all_operands = instruments || log_guest_code_;
  size_t n = 0;
  size_t off = 0;
  uint64_t cur = pc;
  size_t conditional_branches = 0;
  if (rt().options.one_insn_per_tb || gdb::single_insn()) max_insns = 1;
  while (n < max_insns) {
    // A block ends before a gdb breakpoint, so that the dispatcher sees the
    // thread arrive there.
    if (n > 0 && gdb::active() && gdb::is_breakpoint(cur)) break;
    if (more && avail - off < 16 && avail + kChunk <= sizeof code) {
      os::protect_translated(pc + avail, pc + avail + kChunk);
      const size_t got = read_code(pc + avail, code + avail, kChunk);
      more = got == kChunk;
      avail += got;
    }
    DecodedInsn& d = buffer[n++];
    if (!decoder_.decode(code + off, avail - off, cur, d, all_operands)) {
      if (n > 1) {  // the block ends before it; fault when reached
        --n;
        break;
      }
      d = DecodedInsn{};
      d.pc = cur;
      d.kind = InsnKind::kTrap;  // undecodable or unreadable: a trap at this pc
      break;
    }
    if (d.kind == InsnKind::kTrap || d.kind == InsnKind::kUnsupported) {
      if (n > 1) --n;  // alone in its own block
      break;
    }
    off += d.length();
    cur = d.next_pc();
    // A conditional branch does not end the block: its fall-through path is
    // translated right after it, which saves a jump per not-taken branch. A few
    // only: longer blocks translate cold paths that may never run.
    // With plugins, blocks end at every branch as QEMU's TBs do: a plugin's
    // per-block counts assume the whole block runs.
    if (d.kind == InsnKind::kJcc && !instruments && ++conditional_branches <= kMaxBlockConditionals)
      continue;
    if (d.kind != InsnKind::kPlain) break;
  }
  const std::span<const DecodedInsn> insns(buffer, n);

  auto block = std::make_unique<Block>();
  Block* b = block.get();
  b->guest_pc = pc;
  b->n_insns = static_cast<uint32_t>(insns.size());
  b->guest_end = insns.back().pc + std::max<uint64_t>(insns.back().length(), 1);
  runtime::BlockInstrumentation instr;
  const bool instrumented = instruments && insns.front().length() > 0;
  if (instrumented) {
    detail::TbImpl impl{insns, &instr};
    Tb tb(&impl);
    instr.before_insn.resize(insns.size());
    instr.mem_of_insn.resize(insns.size());
    rt().tool->tb_trans(tb);
    uint16_t offsets[kMaxBlockInsns];
    for (size_t i = 0; i < insns.size(); ++i) offsets[i] = static_cast<uint16_t>(insns[i].pc - pc);
    b->merged_adds = merge_inline_adds(instr, {offsets, insns.size()});
  }
  const size_t max = x86_64::max_block_size(insns.size()) +
                     (instrumented ? x86_64::max_instrumentation_size(instr) : 0);
  const size_t max_cold = x86_64::max_cold_size(insns.size());
  CodeCache::Reservation space = rt().cache.reserve(pc, max, max_cold);
  if (!space.hot) {  // the cache is full: flush it (QEMU's tb_flush) and try again
    flush_all();
    rt().tool->flush();
    space = rt().cache.reserve(pc, max, max_cold);
  }
  if (!space.hot) {
    std::fprintf(stderr, "%s\n", address_space_problem("the code cache").c_str());
    std::exit(1);
  }
  rt().env.single_thread = threads_.size() <= 1;
  x86_64::EmitStatus st = x86_64::emit_block(insns, cur, {space.hot, max, space.cold, max_cold}, *b,
                                             rt().env, instrumented ? &instr : nullptr, entry);
  if (!st.ok) {
    std::fprintf(stderr, "qplug: cannot translate guest code at 0x%lx: %s\n",
                 static_cast<unsigned long>(pc), st.error.c_str());
    std::exit(1);
  }
  rt().cache.commit(space, st.size, st.cold_size);
  // -dfilter: by the block's first pc, as QEMU filters its TB logs.
  if ((log_guest_code_ || log_host_code_) && cli::in_dfilter(rt().options, pc)) {
    if (log_guest_code_) log_guest_code(rt().log, insns, decoder_);
    if (log_host_code_) log_host_code(rt().log, *b, decoder_);
  }
  if (perf_map_) {
    std::fprintf(perf_map_, "%lx %x guest_%lx\n", reinterpret_cast<unsigned long>(b->hot_code),
                 b->host_size, static_cast<unsigned long>(pc));
  }
  all_.push_back(std::move(block));
  ++translated_;
  live_bytes_ += b->host_size + b->cold_size;
  if (b->elided_locks) elided_locks_ = true;
  blocks_.set(pc, b);
  for (uint64_t page = first_page(*b); page <= last_page(*b); ++page)
    blocks_by_page_[page].push_back(b);
  // Host addresses only grow within a zone (hot and cold code alike): each
  // zone's lists stay sorted.
  const auto zone = static_cast<size_t>(rt().cache.zone_index(b->hot_code));
  if (by_zone_.size() <= zone) by_zone_.resize(zone + 1);
  by_zone_[zone].hot.push_back(b);
  if (b->cold_size) by_zone_[zone].cold.push_back(b);
  publish(b);
  // Eager linking to targets that already exist saves a round trip each.
  for (auto& stub : b->exits) {
    if (Block* target = blocks_.find(stub->target_pc)) link(stub.get(), target);
  }
  return b;
}

// Nothing links to or looks up a block where gdb must see the thread arrive.
bool Dispatcher::unchainable(uint64_t guest_pc) const {
  return no_chaining_ || (gdb::active() && (gdb::single_insn() || gdb::is_breakpoint(guest_pc)));
}

void Dispatcher::publish(Block* b) {
  // -d nochain: every indirect branch through the dispatcher
  if (unchainable(b->guest_pc)) return;
  // One 8-byte store: the block's checked entry verifies the target itself.
  __atomic_store_n(&current_thread().lookup[lookup_index(b->guest_pc)],
                   reinterpret_cast<uint64_t>(b->host_code), __ATOMIC_RELEASE);
}

Block* Dispatcher::block_for(uint64_t pc, x86_64::EntryPlacement entry) {
  if (Block* b = blocks_.find(pc)) return b;
  if (flush_due()) {
    flush_all();
    rt().tool->flush();  // the FLUSH event, as QEMU's tb_flush raises it
  }
  return translate(pc, entry);
}

void Dispatcher::link(ExitStub* stub, Block* target) {
  if (unchainable(target->guest_pc) || !stub->owner->valid || !target->valid) return;
  if (!x86_64::patch_rel32(stub->patch_site, target->body)) {
    // Zones more than 2 GiB apart (JIT code far from the program, say): go
    // through a trampoline near the exit that jumps to a 64-bit address.
    if (!stub->far_trampoline) {
      const CodeCache::Reservation r = rt().cache.reserve(stub->owner->guest_pc, 0, 16);
      if (!r.hot) return;
      rt().cache.commit(r, 0, 14);
      stub->far_trampoline = r.cold;
    }
    x86_64::write_far_jump(stub->far_trampoline, target->body);
    if (!x86_64::patch_rel32(stub->patch_site, stub->far_trampoline)) return;
  }
  if (stub->linked_to != target) {
    stub->linked_to = target;
    target->incoming.push_back(stub);
  }
}

void Dispatcher::unlink_exits(Block* b) {
  for (auto& stub : b->exits) x86_64::patch_rel32(stub->patch_site, stub->slow_path);
}

void Dispatcher::invalidate(uint64_t begin, uint64_t end) {
  std::lock_guard guard(mutex_);
  if (begin >= end) return;
  std::vector<Block*> victims;
  auto collect = [&](const std::vector<Block*>& on_page) {
    for (Block* b : on_page)
      if (b->guest_pc < end && b->guest_end > begin) victims.push_back(b);
  };
  const uint64_t first = begin >> kPageBits, last = (end - 1) >> kPageBits;
  if (last - first >= blocks_by_page_.size()) {  // a huge range: look at every page
    for (const auto& [page, on_page] : blocks_by_page_)
      if (page >= first && page <= last) collect(on_page);
  } else {
    for (uint64_t page = first; page <= last; ++page) {
      auto it = blocks_by_page_.find(page);
      if (it != blocks_by_page_.end()) collect(it->second);
    }
  }
  for (Block* b : victims)
    if (b->valid) invalidate_block(b);
}

void Dispatcher::invalidate_block(Block* b) {
  b->valid = false;
  live_bytes_ -= b->host_size + b->cold_size;
  dead_bytes_ += b->host_size + b->cold_size;
  for (ExitStub* in : b->incoming) {
    if (in->linked_to == b) {
      x86_64::patch_rel32(in->patch_site, in->slow_path);
      in->linked_to = nullptr;
    }
  }
  b->incoming.clear();
  unlink_exits(b);
  for (ThreadState* t : threads_) {
    uint64_t& e = t->lookup[lookup_index(b->guest_pc)];
    if (e == reinterpret_cast<uint64_t>(b->host_code))
      __atomic_store_n(&e, t->lookup_miss, __ATOMIC_RELEASE);
  }
  blocks_.erase(b->guest_pc, b);
  for (uint64_t page = first_page(*b); page <= last_page(*b); ++page) {
    auto it = blocks_by_page_.find(page);
    if (it == blocks_by_page_.end()) continue;
    std::erase(it->second, b);
    if (it->second.empty()) blocks_by_page_.erase(it);
  }
}

void Dispatcher::flush_all() {
  std::lock_guard guard(mutex_);
  invalidate(0, ~uint64_t{0});
  for (ThreadState* t : threads_) clear_lookup_table(*t);
  // Threads still in the old code leave it at their next exit (every link
  // and lookup entry now leads out); its memory goes once they all have.
  const uint32_t generation = rt().cache.retire();
  retired_.push_back({generation, epoch_.fetch_add(1) + 1, std::move(all_)});
  all_.clear();
  live_bytes_ = dead_bytes_ = 0;
  elided_locks_ = false;
  ++flushes_;
  release_quiescent();
}

// More than half of what is translated is dead, and enough to be worth a
// flush: retranslating what is live then costs at most what was translated
// since the last flush (amortized), and memory stays near twice the live code.
bool Dispatcher::flush_due() const {
  constexpr size_t kMinDead = 8u << 20;
  return dead_bytes_ >= kMinDead && dead_bytes_ > live_bytes_;
}

void Dispatcher::leave_cache(ThreadState& ts) {
  __atomic_store_n(&ts.in_cache, false, __ATOMIC_RELEASE);
  __atomic_store_n(&ts.left_cache_epoch, epoch_.load(), __ATOMIC_RELEASE);
}

bool Dispatcher::quiescent_since(uint64_t epoch, bool plugin_events) const {
  for (const ThreadState* t : threads_) {
    const bool in_cache = __atomic_load_n(&t->in_cache, __ATOMIC_ACQUIRE);
    if (in_cache && __atomic_load_n(&t->left_cache_epoch, __ATOMIC_ACQUIRE) < epoch) return false;
    if (plugin_events && __atomic_load_n(&t->in_plugin_events, __ATOMIC_ACQUIRE) != 0) return false;
  }
  return true;
}

void Dispatcher::when_quiescent(std::function<void()> work) {
  std::lock_guard guard(mutex_);
  after_quiescence_.emplace_back(epoch_.load(), std::move(work));
  release_quiescent();
}

void Dispatcher::release_quiescent() {
  // Work first (it may flush and retire more), oldest first.
  while (!after_quiescence_.empty() && quiescent_since(after_quiescence_.front().first, true)) {
    auto work = std::move(after_quiescence_.front().second);
    after_quiescence_.erase(after_quiescence_.begin());
    work();
  }
  std::erase_if(retired_, [this](Retired& r) {
    if (!quiescent_since(r.epoch, false)) return false;
    for (size_t zone = 0; zone < by_zone_.size(); ++zone) {
      if (rt().cache.zone_in(static_cast<int>(zone), r.generation)) by_zone_[zone] = {};
    }
    rt().cache.release(r.generation);
    return true;  // frees the blocks
  });
}

void Dispatcher::at_next_exit(const uint8_t* host_pc, std::function<void()> work) {
  std::lock_guard guard(mutex_);
  deferred_.push_back(std::move(work));
  if (!host_pc) return;
  if (Block* b = block_at_host(host_pc)) unlink_exits(b);
}

void Dispatcher::run_deferred() {
  while (!deferred_.empty()) {
    auto work = std::move(deferred_.back());
    deferred_.pop_back();
    work();
  }
}

namespace {

// The block of `blocks` (sorted by `start`) whose [start, start + size) holds
// `pc`, valid or not: a thread may still run an invalidated block (its code
// stays where it is), and faults and signals there are located all the same.
template <class Start, class Size>
Block* find_covering(const std::vector<Block*>& blocks, const uint8_t* pc, Start start, Size size) {
  auto it = std::upper_bound(blocks.begin(), blocks.end(), pc,
                             [&](const uint8_t* p, const Block* b) { return p < start(b); });
  if (it == blocks.begin()) return nullptr;
  Block* b = *--it;
  return pc < start(b) + size(b) ? b : nullptr;
}

}  // namespace

const Dispatcher::ZoneBlocks* Dispatcher::zone_blocks(const uint8_t* host_pc) const {
  const int zone = rt().cache.zone_index(host_pc);
  if (zone < 0 || static_cast<size_t>(zone) >= by_zone_.size()) return nullptr;
  return &by_zone_[static_cast<size_t>(zone)];
}

Block* Dispatcher::block_at_host(const uint8_t* host_pc) const {
  const ZoneBlocks* z = zone_blocks(host_pc);
  return z ? find_covering(
                 z->hot, host_pc, [](const Block* b) { return b->hot_code; },
                 [](const Block* b) { return b->host_size; })
           : nullptr;
}

Block* Dispatcher::block_at_cold(const uint8_t* host_pc) const {
  const ZoneBlocks* z = zone_blocks(host_pc);
  return z ? find_covering(
                 z->cold, host_pc, [](const Block* b) { return b->cold_code; },
                 [](const Block* b) { return b->cold_size; })
           : nullptr;
}

void Dispatcher::force_exit(const ucontext_t* uc) {
  // Another thread may be translating: give it the CPU until it is done (a
  // bounded wait; past it, this thread notices its signal at its next exit
  // to the dispatcher instead of right away).
  std::unique_lock guard(mutex_, std::try_to_lock);
  for (int tries = 0; !guard.owns_lock() && tries < 10000; ++tries) {
    sched_yield();
    guard.try_lock();
  }
  if (!guard.owns_lock()) return;
  const auto* pc = reinterpret_cast<const uint8_t*>(uc->uc_mcontext.gregs[REG_RIP]);
  Block* b = block_at_host(pc);
  if (!b) {
    // In cold code: a checked entry about to fall into its body, a slow path
    // (already leaving), or a far trampoline about to enter another block.
    if (Block* owner = block_at_cold(pc)) {
      unlink_exits(owner);
    } else if (const uint8_t* target =
                   rt().cache.contains(pc) ? x86_64::far_jump_target(pc) : nullptr) {
      if (Block* next = block_at_host(target)) unlink_exits(next);
    }
    return;
  }
  unlink_exits(b);
  // Inside an inline lookup the thread may be about to enter another block
  // without passing an exit of this one: unlink the destination too.
  const auto offset = static_cast<uint32_t>(pc - b->hot_code);
  for (auto [lo, hi] : b->lookup_ranges) {
    if (offset < lo || offset >= hi) continue;
    const ThreadState& ts = current_thread();
    for (uint64_t guest : {static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_R11]), ts.spill_r11}) {
      if (Block* next = blocks_.find(guest)) unlink_exits(next);
    }
    if (Block* next = block_at_host(reinterpret_cast<const uint8_t*>(ts.jump_target)))
      unlink_exits(next);
  }
}

namespace {

// The mark of the guest instruction whose host code holds `offset`, or null.
const GuestMark* mark_at(const Block& b, uint32_t offset) {
  const GuestMark* mark = nullptr;
  for (const GuestMark& m : b.marks) {
    if (m.host_offset > offset) break;
    mark = &m;
  }
  if (!mark || (mark->exact && mark->host_offset != offset)) return nullptr;
  return mark;
}

}  // namespace

bool Dispatcher::write_hits_rest_of_block(const ucontext_t* uc, uint64_t begin, uint64_t end) {
  std::lock_guard guard(mutex_);
  const auto* pc = reinterpret_cast<const uint8_t*>(uc->uc_mcontext.gregs[REG_RIP]);
  const Block* b = block_at_host(pc);
  const GuestMark* mark = b ? mark_at(*b, static_cast<uint32_t>(pc - b->hot_code)) : nullptr;
  if (!mark) return false;
  // The rest starts at the next instruction's mark (marks ascend with the
  // guest offset too); the writing instruction itself has been fetched.
  uint64_t rest = b->guest_end;
  for (const GuestMark& m : b->marks) {
    if (m.guest_offset > mark->guest_offset) {
      rest = b->guest_pc + m.guest_offset;
      break;
    }
  }
  return rest < b->guest_end && rest < end && b->guest_end > begin;
}

bool Dispatcher::guest_state_at_fault(const ucontext_t* uc, ThreadState& ts) {
  std::lock_guard guard(mutex_);  // held by another thread at worst: it finishes translating
  const auto* pc = reinterpret_cast<const uint8_t*>(uc->uc_mcontext.gregs[REG_RIP]);
  const Block* b = block_at_host(pc);
  if (!b) return false;
  const GuestMark* mark = mark_at(*b, static_cast<uint32_t>(pc - b->hot_code));
  if (!mark) return false;
  os::gregs_to_guest(uc->uc_mcontext.gregs, ts.gpr);
  if (mark->r11_spilled) ts.gpr[kR11] = ts.spill_r11;
  if (mark->scratch >= 0) ts.gpr[mark->scratch] = ts.spill_scratch;
  ts.rip = b->guest_pc + mark->guest_offset;
  if (!b->merged_adds.empty()) undo_merged_adds(b->merged_adds, mark->guest_offset, ts);
  ts.rflags = static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_EFL]);
  if (uc->uc_mcontext.fpregs)  // sized by the kernel for this process, not by XCR0
    x86_64::import_fpstate(ts.xsave_area, reinterpret_cast<const uint8_t*>(uc->uc_mcontext.fpregs));
  return true;
}

void Dispatcher::handle_exit(ThreadState& ts) {
  ++exit_counts_[static_cast<size_t>(ts.exit_reason)];
  switch (ts.exit_reason) {
    case ExitReason::kLink: {
      std::lock_guard guard(mutex_);
      auto* stub = reinterpret_cast<ExitStub*>(ts.exit_arg);
      ts.rip = stub->target_pc;
      Block* target = block_for(ts.rip);  // may flush: the stub's block is then retired
      link(stub, target);
      leave_cache(ts);
      break;
    }
    case ExitReason::kIndirect: {
      std::lock_guard guard(mutex_);
      ts.rip = ts.exit_arg;
      // A first arrival through the lookup table: more will come the same way,
      // so the checked entry goes inline. The block may also have been evicted
      // from the table by a colliding target.
      publish(block_for(ts.rip, x86_64::EntryPlacement::kInline));
      break;
    }
    case ExitReason::kSyscall:
      ts.rip = ts.exit_arg;
      os::handle_syscall(ts);
      break;
    case ExitReason::kSignal:
      break;
    case ExitReason::kFault:
      os::deliver_fault(ts);
      break;
    case ExitReason::kCodeChanged:
      ts.next_block_alone = true;
      break;
    case ExitReason::kInterrupt:
      ts.rip = ts.exit_arg;
      raise_trap(ts);
      break;
    case ExitReason::kUnsupported: {
      uint8_t code[16];
      size_t n = read_guest(ts.exit_arg, code, sizeof code);
      DecodedInsn d;
      std::string text = decoder_.decode(code, n, ts.exit_arg, d) ? decoder_.format(d) : "?";
      if (d.insn.length) n = d.insn.length;
      std::fprintf(stderr, "qplug: unsupported instruction at 0x%lx: %s (bytes %s)\n",
                   static_cast<unsigned long>(ts.exit_arg), text.c_str(),
                   x86_64::hex_bytes(code, n).c_str());
      std::exit(1);
    }
    case ExitReason::kNone:
      break;
  }
}

void Dispatcher::raise_trap(ThreadState& ts) {
  DecodedInsn d;
  uint8_t code[16] = {};
  const size_t n = read_code(ts.rip, code, sizeof code);
  bool decoded = n > 0 && decoder_.decode(code, n, ts.rip, d);
  // Cut short by a page it cannot fetch from (unmapped, not executable, or a
  // file page past the end of its file): the fetch faults there, unless the
  // bytes it has are invalid whatever follows.
  if (!decoded && n < sizeof code && decoder_.decode(code, sizeof code, ts.rip, d)) {
    const uint64_t addr = ts.rip + n;
    if (os::executable_bytes(addr, 1) == 0) {
      os::raise_synchronous(ts, SIGSEGV, SEGV_ACCERR, ts.rip, addr);
    } else {
      const os::CopyFault f = os::last_copy_fault();
      os::raise_synchronous(ts, f.sig, f.code, ts.rip, addr);
    }
  } else if (!decoded || d.insn.mnemonic == ZYDIS_MNEMONIC_UD2 ||
             d.insn.mnemonic == ZYDIS_MNEMONIC_UD0 || d.insn.mnemonic == ZYDIS_MNEMONIC_UD1) {
    os::raise_synchronous(ts, SIGILL, ILL_ILLOPN, ts.rip, ts.rip);
  } else if (d.insn.mnemonic == ZYDIS_MNEMONIC_INT3) {
    const uint64_t int3_pc = ts.rip;
    ts.rip = d.next_pc();  // the kernel reports int3 after the instruction
    os::raise_synchronous(ts, SIGTRAP, SI_KERNEL, int3_pc, 0);
  } else {
    os::raise_synchronous(ts, SIGSEGV, SI_KERNEL, ts.rip, 0);  // hlt, int n, privileged
  }
}

void Dispatcher::print_stats(FILE* out) const {
  static const char* const names[] = {"none",        "link",   "indirect",
                                      "syscall",     "signal", "interrupt",
                                      "unsupported", "fault",  "code_changed"};
  static_assert(std::size(names) == std::size(decltype(exit_counts_){}));
  std::fprintf(out, "qplug: %lu blocks translated, %lu flushes, %lu callbacks inlined; exits:",
               translated_, flushes_, x86_64::inlined_calls());
  for (size_t i = 0; i < std::size(names); ++i)
    std::fprintf(out, " %s=%lu", names[i], exit_counts_[i]);
  const struct mallinfo2 heap = mallinfo2();
  std::fprintf(out, "; host heap in use %zu KiB\n", heap.uordblks >> 10);
}

// -d exec: one line per block entered from the dispatcher (every block with
// -d nochain), in QEMU's "Trace" layout: vCPU, host code, [cs_base/pc/flags/
// cflags] (qplug has neither cs_base nor TB flags) and the function's name.
void Dispatcher::log_block_entry(const ThreadState& ts, const Block& b) const {
  const char* symbol = guest_symbol(b.guest_pc);
  std::fprintf(rt().log, "Trace %u: %p [00000000/%016" PRIx64 "/00000000/00000000] %s\n",
               static_cast<unsigned>(ts.vcpu_index), static_cast<const void*>(b.body), b.guest_pc,
               symbol ? symbol : "");
}

// -d cpu: the guest's general registers, pc and flags before each block the
// dispatcher enters, in the layout of QEMU's x86 register dump (its segment,
// control and descriptor-table lines have no meaning here).
void Dispatcher::log_cpu_state(const ThreadState& ts) const {
  static const char* const kNames[kGprCount] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP",
                                                "RSI", "RDI", "R8 ", "R9 ", "R10", "R11",
                                                "R12", "R13", "R14", "R15"};
  // QEMU's order: RAX RBX RCX RDX / RSI RDI RBP RSP / R8-R11 / R12-R15.
  static const int kOrder[kGprCount] = {0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
  FILE* log = rt().log;
  for (int i = 0; i < kGprCount; ++i) {
    std::fprintf(log, "%s=%016" PRIx64 "%c", kNames[kOrder[i]], ts.gpr[kOrder[i]],
                 i % 4 == 3 ? '\n' : ' ');
  }
  const uint64_t f = ts.rflags;
  std::fprintf(log, "RIP=%016" PRIx64 " RFL=%08" PRIx64 " [%c%c%c%c%c%c%c] CPL=3\n", ts.rip, f,
               f & 0x400 ? 'D' : '-', f & 0x800 ? 'O' : '-', f & 0x80 ? 'S' : '-',
               f & 0x40 ? 'Z' : '-', f & 0x10 ? 'A' : '-', f & 0x4 ? 'P' : '-',
               f & 0x1 ? 'C' : '-');
}

void Dispatcher::run(ThreadState& ts) {
  for (;;) {
    if (gdb::active()) gdb::at_loop_top(ts);
    if (ts.signal_pending) os::deliver_pending_signals(ts);
    {
      std::lock_guard guard(mutex_);
      Block* b;
      if (ts.next_block_alone) {
        // The store that changed code after it in its block runs on its own,
        // so whatever follows it is translated from what it wrote.
        ts.next_block_alone = false;
        if (Block* old = blocks_.find(ts.rip)) invalidate_block(old);
        b = translate(ts.rip, x86_64::EntryPlacement::kCold, 1);
      } else {
        b = block_for(ts.rip);
      }
      // Work that a translation asked for (a plugin's reset from tb_trans)
      // runs before the thread enters the cache, and may drop the block.
      if (!deferred_.empty()) {
        run_deferred();
        b = block_for(ts.rip);
      }
      if (gdb::active() && !gdb::may_enter(ts)) continue;
      ts.jump_target = reinterpret_cast<uint64_t>(b->body);
      if ((log_exec_ || log_cpu_) && cli::in_dfilter(rt().options, b->guest_pc)) {
        if (log_exec_) log_block_entry(ts, *b);
        if (log_cpu_) log_cpu_state(ts);
      }
      __atomic_store_n(&ts.in_cache, true, __ATOMIC_RELEASE);  // see code_cache.h
    }
    ts.exit_reason = ExitReason::kNone;
    rt().ctx.enter();
    // A link exit's argument is an exit stub of a block, which a flush may
    // retire: the thread leaves the cache once that is used (handle_exit).
    if (ts.exit_reason != ExitReason::kLink) leave_cache(ts);
    handle_exit(ts);
    std::lock_guard guard(mutex_);
    run_deferred();
    if (!retired_.empty() || !after_quiescence_.empty()) release_quiescent();
  }
}

}  // namespace qplug::runtime
