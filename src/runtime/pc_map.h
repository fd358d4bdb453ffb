// PcMap: guest pc -> Block*, the dispatcher's most frequent question (every
// exit, every eager link asks it). An open-addressing table with linear
// probing: one cache line per lookup where std::unordered_map chased a bucket
// and a node (a tenth of start-up went to its find and rehash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qplug::runtime {

struct Block;

class PcMap {
 public:
  PcMap() : slots_(kInitialSlots) {}

  Block* find(uint64_t pc) const {
    for (size_t i = home(pc);; i = next(i)) {
      const Slot& s = slots_[i];
      if (!s.block) return nullptr;
      if (s.pc == pc) return s.block;
    }
  }

  // Maps `pc` to `block` (not null), replacing any earlier block.
  void set(uint64_t pc, Block* block) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    for (size_t i = home(pc);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.block) {
        s = {pc, block};
        ++size_;
        return;
      }
      if (s.pc == pc) {
        s.block = block;
        return;
      }
    }
  }

  // Forgets `pc` if it maps to `block`.
  void erase(uint64_t pc, const Block* block) {
    size_t i = home(pc);
    for (;; i = next(i)) {
      if (!slots_[i].block) return;
      if (slots_[i].pc == pc) break;
    }
    if (slots_[i].block != block) return;
    // Backward-shift deletion: later entries of the probe run move up so that
    // no lookup stops early at the hole.
    for (size_t j = next(i);; j = next(j)) {
      if (!slots_[j].block) break;
      const size_t h = home(slots_[j].pc);
      // Entry j may fill the hole at i if its home is not in (i, j].
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --size_;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t pc = 0;
    Block* block = nullptr;  // null: empty
  };
  static constexpr size_t kInitialSlots = 1 << 14;

  size_t home(uint64_t pc) const {
    // Fibonacci hashing: guest pcs share their high bits and cluster.
    return static_cast<size_t>((pc * 0x9E3779B97F4A7C15ull) >> 32) & (slots_.size() - 1);
  }
  size_t next(size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old)
      if (s.block) set(s.pc, s.block);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace qplug::runtime
