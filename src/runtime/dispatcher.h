// Dispatcher: finds or translates the block for a guest pc, enters the code
// cache, and handles every exit (linking, indirect-branch misses, syscalls,
// signals, traps). One per process; every guest thread runs its loop.
#pragma once

#include <ucontext.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "runtime/block.h"
#include "runtime/pc_map.h"
#include "runtime/thread_state.h"
#include "x86_64/decoder.h"
#include "x86_64/emitter.h"

namespace qplug::runtime {

class Dispatcher {
 public:
  static constexpr size_t kMaxBlockInsns = 128;
  static constexpr size_t kMaxBlockConditionals = 2;

  Dispatcher();
  [[noreturn]] void run(ThreadState& ts);

  // The block that starts at `pc`, translated on first use (with its checked
  // entry placed as `entry` says). Never null: code that cannot be decoded
  // becomes a block that raises the guest's signal.
  Block* block_for(uint64_t pc, x86_64::EntryPlacement entry = x86_64::EntryPlacement::kCold);
  // Drops every translation overlapping guest [begin, end).
  void invalidate(uint64_t begin, uint64_t end);
  // Called from a host signal handler that interrupted translated code: makes
  // the thread leave the code cache at its next block exit.
  void force_exit(const ucontext_t* uc);
  // For a fault at host `pc` in translated code: stores the faulting guest
  // instruction's state (registers, flags, pc, vector state) from `uc` into
  // `ts`. False if `pc` is not at a guest instruction.
  bool guest_state_at_fault(const ucontext_t* uc, ThreadState& ts);
  // For a write at host `pc` in translated code to guest [begin, end): true if
  // the block running there has instructions after the writing one in that
  // range, which its translation would run stale. Changes nothing.
  bool write_hits_rest_of_block(const ucontext_t* uc, uint64_t begin, uint64_t end);
  // Drops every translation and retires the code cache's generation
  // (code_cache.h): plugin reset and uninstall, and the flush that keeps the
  // cache bounded. Only from the dispatcher loop, never while translated code
  // of this thread is running.
  void flush_all();
  // Runs `work` (in some thread's dispatcher loop) once every thread has been
  // outside the code cache since the last flush and is in no plugin event
  // callback: no plugin code of before can be running anywhere (reset and
  // uninstall, code_cache.h).
  void when_quiescent(std::function<void()> work);
  // Runs `work` at this thread's next pass through the dispatcher loop (its
  // next exit from the code cache, or before it enters it), which it makes
  // happen soon by unlinking the block whose host code contains `host_pc`
  // (e.g. the resume address of a plugin callback), if one is given.
  void at_next_exit(const uint8_t* host_pc, std::function<void()> work);

  // Translation and exit counters, for `-d exec`-style diagnostics.
  void print_stats(FILE* out) const;

  // Translation state is shared by all guest threads and guarded by this
  // lock, held while translating, linking and invalidating, never while
  // translated code or a syscall runs. Recursive: plugins called during
  // translation may call back into the dispatcher.
  std::recursive_mutex& mutex() { return mutex_; }
  // Threads of this process (not clone(CLONE_VM) child processes).
  size_t live_threads() const;
  // f(ThreadState&) for every live thread, with threads kept from coming and going.
  template <class F>
  void for_each_thread(F&& f) {
    std::lock_guard guard(mutex_);
    for (ThreadState* ts : threads_) f(*ts);
  }

  // Threads whose lookup tables invalidation must clear.
  void add_thread(ThreadState* ts);
  void remove_thread(ThreadState* ts);
  // In a fork child: only the forking thread exists.
  void forget_other_threads(ThreadState* self);

  const x86_64::Decoder& decoder() const { return decoder_; }
  // Reads guest memory without faulting; returns the bytes copied.
  static size_t read_guest(uint64_t addr, void* out, size_t len);
  // read_guest for instruction fetch: stops where the guest may not execute.
  static size_t read_code(uint64_t addr, void* out, size_t len);

 private:
  Block* translate(uint64_t pc, x86_64::EntryPlacement entry, size_t max_insns = kMaxBlockInsns);
  void link(ExitStub* stub, Block* target);
  void publish(Block* b);                     // enters b in the indirect-branch lookup table
  bool unchainable(uint64_t guest_pc) const;  // no links to it, no lookup-table entry
  void unlink_exits(Block* b);
  void invalidate_block(Block* b);
  Block* block_at_host(const uint8_t* host_pc) const;  // by hot code
  Block* block_at_cold(const uint8_t* host_pc) const;  // by cold code
  void handle_exit(ThreadState& ts);
  void raise_trap(ThreadState& ts);  // an instruction translated as a trap was reached
  void log_block_entry(const ThreadState& ts, const Block& b) const;
  void log_cpu_state(const ThreadState& ts) const;

  x86_64::Decoder decoder_;
  std::unique_ptr<x86_64::DecodedInsn[]> insn_buffer_;  // the block being translated
  static constexpr int kPageBits = 12;
  // The 4 KiB guest pages a block's code touches.
  static uint64_t first_page(const Block& b) { return b.guest_pc >> kPageBits; }
  static uint64_t last_page(const Block& b) { return (b.guest_end - 1) >> kPageBits; }
  PcMap blocks_;  // the valid block at each guest pc
  // Valid blocks by the 4 KiB guest pages their code touches, for invalidation.
  std::unordered_map<uint64_t, std::vector<Block*>> blocks_by_page_;
  struct ZoneBlocks {
    std::vector<Block*> hot;   // in hot_code order
    std::vector<Block*> cold;  // blocks with cold code, in cold_code order
  };
  std::vector<ZoneBlocks> by_zone_;                             // by code cache zone
  const ZoneBlocks* zone_blocks(const uint8_t* host_pc) const;  // nullptr outside the cache
  std::vector<std::unique_ptr<Block>> all_;  // owns every block of the current generation
  // Retired generations (flush_all): their blocks and code stay until every
  // thread has been outside the code cache since the flush (epoch).
  struct Retired {
    uint32_t generation;
    uint64_t epoch;
    std::vector<std::unique_ptr<Block>> blocks;
  };
  std::vector<Retired> retired_;
  std::atomic<uint64_t> epoch_{1};  // advanced by every flush
  // Host code bytes of valid and of dropped blocks in the current generation.
  size_t live_bytes_ = 0, dead_bytes_ = 0;
  unsigned long translated_ = 0, flushes_ = 0;
  bool elided_locks_ = false;  // some valid block has (Block::elided_locks)
  bool flush_due() const;
  void release_quiescent();  // frees the retired generations no thread can be in
  void leave_cache(ThreadState& ts);
  void run_deferred();  // the at_next_exit work, under the lock
  bool quiescent_since(uint64_t epoch, bool plugin_events) const;
  std::vector<std::pair<uint64_t, std::function<void()>>>
      after_quiescence_;  // ts runs no translated code and holds nothing of it
  std::recursive_mutex mutex_;
  std::vector<ThreadState*> threads_;  // every live thread, for lookup-table invalidation
  unsigned long exit_counts_[9] = {};
  std::vector<std::function<void()>> deferred_;  // run at the next exit (at_next_exit)
  bool log_guest_code_ = false;                  // -d in_asm
  bool log_host_code_ = false;                   // -d out_asm
  bool log_exec_ = false;                        // -d exec
  bool log_cpu_ = false;                         // -d cpu
  bool no_chaining_ = false;                     // -d nochain: no links, no lookup-table entries
  FILE* perf_map_ = nullptr;                     // perf's JIT symbol map, when QPLUG_PERF_MAP=1
};

}  // namespace qplug::runtime
