// CodeCache: executable memory for translated blocks, in zones placed near the
// guest code they translate so that RIP-relative operands keep a 32-bit
// displacement (the relocator's far form is the fallback, not the rule).
// Hot code (what runs every time) fills the first three quarters of a zone,
// cold code (exit slow paths, run once or so) the last quarter, so that hot
// blocks sit next to each other in the instruction cache and each still
// reaches its cold code with rel32.
//
// Lifetime and growth (the invariant this file owns):
// - Code is only appended to a zone; a block's code never moves and is never
//   written over while its zone lives. Dropped translations (invalidated
//   blocks) keep their bytes: a thread may still be running them, between
//   the invalidation and its next exit to the dispatcher.
// - Space comes back only a generation at a time, by a flush (QEMU's
//   tb_flush): every zone of the current generation is retired (no new code
//   goes there), every block is dropped, and new code goes to new zones. A
//   retired generation is unmapped only once every thread has been outside
//   the code cache since the flush (Dispatcher's quiescence check): none can
//   be running its code any more, nor return into it from a callback.
// - The dispatcher flushes when more than half of the translated bytes are
//   dead (a JIT mapping and unmapping code in a loop makes nothing else), and
//   when no space is left. So memory stays within about twice what the live
//   translations take, and a full cache is not an error.
// - Zone slots are read lock-free by signal handlers (zone_index): a slot's
//   base is published last when it is filled and cleared first when freed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <set>

namespace qplug::runtime {

class CodeCache {
 public:
  static constexpr size_t kDefaultZoneSize = 128u << 20;
  static constexpr int kMaxZones = 64;

  // Zones of `bytes` (a multiple of 64 KiB) from now on. Smaller zones keep
  // qplug within an address-space limit (RLIMIT_AS counts reserved, untouched
  // memory too).
  void set_zone_size(size_t bytes);
  size_t zone_size() const { return zone_size_; }
  // Gives the unused parts of every zone back to the kernel and closes them
  // (new code goes to new zones, of the size set now): when the guest lowers
  // its address-space limit below what qplug holds in reserve.
  void release_unused();

  struct Reservation {
    uint8_t* hot = nullptr;  // nullptr when no memory can be had
    uint8_t* cold = nullptr;
  };
  // Space for at most `hot` and `cold` bytes in one zone of the current
  // generation, preferably within +-1.5 GiB of guest_pc.
  Reservation reserve(uint64_t guest_pc, size_t hot, size_t cold = 0);
  // Marks the first `hot_used` and `cold_used` bytes of the last reservation as taken.
  void commit(const Reservation& r, size_t hot_used, size_t cold_used = 0);
  // Retires every zone of the current generation (a flush); returns it.
  uint32_t retire();
  // Unmaps the zones of a retired generation: no thread may run their code.
  void release(uint32_t generation);
  // True if zone `index` belongs to `generation` (retired or not).
  bool zone_in(int index, uint32_t generation) const;
  // Async-signal-safe.
  bool contains(const void* host_pc) const { return zone_index(host_pc) >= 0; }
  // The slot of the zone holding `host_pc`, or -1. Async-signal-safe.
  int zone_index(const void* host_pc) const;

 private:
  struct Zone {
    std::atomic<uint8_t*> base{nullptr};  // nullptr: a free slot
    size_t size = 0, cold_start = 0;
    size_t used = 0;       // hot bytes, from base up
    size_t cold_used = 0;  // cold bytes, from base + cold_start up
    uint32_t generation = 0;
    bool retired = false;
  };
  Zone* new_zone(uint64_t guest_pc, bool anywhere);
  Zone* add_zone(void* mem);
  bool usable(const Zone& z) const { return z.base.load(std::memory_order_relaxed) && !z.retired; }
  std::set<uint64_t> far_granules_;  // 1 GiB granules where no near zone could be placed
  Zone zones_[kMaxZones];
  std::atomic<int> n_zones_{0};  // slots in use or freed: [0, n_zones_)
  Zone* last_ = nullptr;
  size_t zone_size_ = kDefaultZoneSize;
  size_t cold_start_ = kDefaultZoneSize / 4 * 3;
  uint32_t generation_ = 0;
};

}  // namespace qplug::runtime
