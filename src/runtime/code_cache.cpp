#include "runtime/code_cache.h"

#include <sys/mman.h>

#include <cstdlib>

namespace qplug::runtime {
namespace {

constexpr int64_t kNear = 3ll << 29;  // 1.5 GiB

bool near(const uint8_t* base, size_t size, uint64_t pc) {
  const auto b = reinterpret_cast<int64_t>(base);
  const auto p = static_cast<int64_t>(pc);
  return std::llabs(b - p) < kNear && std::llabs(b + static_cast<int64_t>(size) - p) < kNear;
}

uint8_t* page_up(uint8_t* p) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 4095) & ~uintptr_t{4095});
}

}  // namespace

void CodeCache::set_zone_size(size_t bytes) {
  zone_size_ = bytes;
  cold_start_ = bytes / 4 * 3;
}

CodeCache::Zone* CodeCache::add_zone(void* mem) {
  const int n = n_zones_.load(std::memory_order_relaxed);
  int slot = 0;
  while (slot < n && zones_[slot].base.load(std::memory_order_relaxed)) ++slot;
  if (slot == kMaxZones) {
    munmap(mem, zone_size_);
    return nullptr;
  }
  Zone& z = zones_[slot];
  z.size = zone_size_;
  z.cold_start = cold_start_;
  z.used = 0;
  z.cold_used = 0;
  z.generation = generation_;
  z.retired = false;
  z.base.store(static_cast<uint8_t*>(mem), std::memory_order_release);
  if (slot == n) n_zones_.store(n + 1, std::memory_order_release);
  return &z;
}

CodeCache::Zone* CodeCache::new_zone(uint64_t guest_pc, bool anywhere) {
  const int prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  if (anywhere) {
    void* mem = mmap(nullptr, zone_size_, prot, flags, -1, 0);
    return mem == MAP_FAILED ? nullptr : add_zone(mem);
  }
  static const int64_t offsets[] = {-(1ll << 28), 1ll << 28, -(3ll << 28), 3ll << 28,
                                    -(1ll << 30), 1ll << 30, -(5ll << 28), 5ll << 28};
  for (int64_t off : offsets) {
    const int64_t hint = (static_cast<int64_t>(guest_pc) + off) & ~0xffffll;
    if (hint <= 0x10000 || hint + static_cast<int64_t>(zone_size_) > (1ll << 47)) continue;
    void* mem =
        mmap(reinterpret_cast<void*>(hint), zone_size_, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
    if (mem != MAP_FAILED) return add_zone(mem);
  }
  return nullptr;
}

void CodeCache::release_unused() {
  const int n = n_zones_.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    Zone& z = zones_[i];
    uint8_t* base = z.base.load(std::memory_order_relaxed);
    if (!base || z.retired) continue;
    uint8_t* hot_end = page_up(base + z.used);
    uint8_t* cold_begin = base + z.cold_start;
    uint8_t* cold_end = page_up(cold_begin + z.cold_used);
    if (hot_end < cold_begin) munmap(hot_end, static_cast<size_t>(cold_begin - hot_end));
    if (cold_end < base + z.size) munmap(cold_end, static_cast<size_t>(base + z.size - cold_end));
    z.used = z.cold_start;  // full: nothing more goes here
    z.cold_used = z.size - z.cold_start;
  }
}

uint32_t CodeCache::retire() {
  const int n = n_zones_.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i)
    if (usable(zones_[i])) zones_[i].retired = true;
  far_granules_.clear();  // new zones may go near the code again
  last_ = nullptr;
  return generation_++;
}

void CodeCache::release(uint32_t generation) {
  const int n = n_zones_.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    Zone& z = zones_[i];
    uint8_t* base = z.base.load(std::memory_order_relaxed);
    if (!base || !z.retired || z.generation != generation) continue;
    z.base.store(nullptr, std::memory_order_release);
    munmap(base, z.size);
  }
}

bool CodeCache::zone_in(int index, uint32_t generation) const {
  return index >= 0 && index < n_zones_.load(std::memory_order_relaxed) &&
         zones_[index].base.load(std::memory_order_relaxed) &&
         zones_[index].generation == generation;
}

CodeCache::Reservation CodeCache::reserve(uint64_t guest_pc, size_t hot, size_t cold) {
  auto fits = [&](const Zone* z) {
    return z && usable(*z) && z->used + hot <= z->cold_start &&
           z->cold_start + z->cold_used + cold <= z->size;
  };
  auto base_of = [](const Zone* z) { return z->base.load(std::memory_order_relaxed); };
  Zone* chosen = nullptr;
  if (fits(last_) && near(base_of(last_), last_->size, guest_pc)) chosen = last_;
  const int n = n_zones_.load(std::memory_order_relaxed);
  for (int i = 0; i < n && !chosen; ++i) {
    if (fits(&zones_[i]) && near(base_of(&zones_[i]), zones_[i].size, guest_pc))
      chosen = &zones_[i];
  }
  // No zone near this code yet: try to place one, once per 1 GiB granule.
  const uint64_t granule = guest_pc >> 30;
  if (!chosen && far_granules_.count(granule) == 0) {
    chosen = new_zone(guest_pc, false);
    if (!chosen) far_granules_.insert(granule);
  }
  // Any zone will do: the relocator handles far RIP-relative operands.
  if (!chosen && fits(last_)) chosen = last_;
  for (int i = 0; i < n && !chosen; ++i) {
    if (fits(&zones_[i])) chosen = &zones_[i];
  }
  if (!chosen) chosen = new_zone(guest_pc, true);
  if (!fits(chosen)) return {};
  last_ = chosen;
  uint8_t* base = base_of(chosen);
  return {base + chosen->used, base + chosen->cold_start + chosen->cold_used};
}

void CodeCache::commit(const Reservation& r, size_t hot_used, size_t cold_used) {
  uint8_t* base = last_->base.load(std::memory_order_relaxed);
  // Keep blocks 16-byte aligned: branch targets decode faster.
  last_->used = static_cast<size_t>(r.hot - base) + ((hot_used + 15) & ~size_t{15});
  last_->cold_used = static_cast<size_t>(r.cold - base) - last_->cold_start + cold_used;
}

int CodeCache::zone_index(const void* host_pc) const {
  const auto* p = static_cast<const uint8_t*>(host_pc);
  const int n = n_zones_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    const uint8_t* base = zones_[i].base.load(std::memory_order_acquire);
    if (base && p >= base && p < base + zones_[i].size) return i;
  }
  return -1;
}

}  // namespace qplug::runtime
