// CodeCache: executable memory for translated blocks, in zones placed near the
// guest code they translate so that RIP-relative operands keep a 32-bit
// displacement (the relocator's far form is the fallback, not the rule).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <set>

namespace qplug::runtime {

class CodeCache {
 public:
  static constexpr size_t kZoneSize = 128u << 20;
  static constexpr int kMaxZones = 64;

  // Space for at most `size` bytes, preferably within +-1.5 GiB of guest_pc.
  // Returns nullptr when no memory can be had.
  uint8_t* reserve(uint64_t guest_pc, size_t size);
  // Marks the first `used` bytes of the last reservation as taken.
  void commit(uint8_t* start, size_t used);
  // Async-signal-safe.
  bool contains(const void* host_pc) const;

 private:
  struct Zone {
    uint8_t* base = nullptr;
    size_t used = 0;
  };
  Zone* new_zone(uint64_t guest_pc, bool anywhere);
  Zone* add_zone(void* mem);
  std::set<uint64_t> far_granules_;  // 1 GiB granules where no near zone could be placed
  Zone zones_[kMaxZones];
  std::atomic<int> n_zones_{0};
  Zone* last_ = nullptr;
};

}  // namespace qplug::runtime
