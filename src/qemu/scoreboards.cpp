// QEMU scoreboards: per-vCPU arrays a plugin allocates and translated code
// updates inline.
//
// Invariant: for every live thread and every scoreboard with a cache slot,
// ThreadState::scoreboard_element[slot] is the address of that thread's
// element in the scoreboard's current storage. New scoreboards, growth (which
// moves the storage) and new threads (attach_scoreboards, before the thread
// runs guest code) all re-establish it under `mutex`. Old storage is never
// freed: another thread's translated code may be between loading an address
// and updating the element (QEMU stops every vCPU to grow; qplug accepts that
// such an update lands in the old copy).
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "qemu/registry.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "x86_64/callee_analysis.h"
#include "x86_64/xstate.h"

namespace qplug::qemu {
namespace {

std::mutex mutex;
std::vector<qemu_plugin_scoreboard*> cached;  // by cache slot

void set_element(runtime::ThreadState& ts, const qemu_plugin_scoreboard* s) {
  if (s->cache_slot < 0 || ts.vcpu_index >= s->capacity) return;
  ts.scoreboard_element[s->cache_slot] = s->data + ts.vcpu_index * s->element_size;
}

void refresh_all_threads(const qemu_plugin_scoreboard* s) {
  if (runtime::rt().dispatcher)
    runtime::rt().dispatcher->for_each_thread(
        [&](runtime::ThreadState& ts) { set_element(ts, s); });
  else
    set_element(runtime::current_thread(), s);  // before the first vCPU: the main thread
}

void grow_locked(qemu_plugin_scoreboard* s, size_t vcpus) {
  if (vcpus <= s->capacity) return;
  size_t cap = s->capacity;
  while (cap < vcpus) cap *= 2;
  auto* data = static_cast<uint8_t*>(std::calloc(cap, s->element_size));
  std::memcpy(data, s->data, s->capacity * s->element_size);
  s->data = data;  // translated code without a cache slot reads it through &s->data
  s->capacity = cap;
  refresh_all_threads(s);
}

// Growing allocates (and libc's allocator may use vector registers), yet
// scoreboard_find is called from callbacks that run as direct calls with only
// the registers they are known to change saved. So growth keeps the whole
// vector state itself, and callee analysis does not look inside.
__attribute__((noinline)) void grow_keeping_vector_state(qemu_plugin_scoreboard* s, size_t vcpus) {
  alignas(64) static thread_local uint8_t state[16384];
  const x86_64::XstateLayout& x = x86_64::xstate();
  const auto lo = static_cast<uint32_t>(x.mask), hi = static_cast<uint32_t>(x.mask >> 32);
  const bool fits = x.size <= sizeof state;
  if (fits) asm volatile("xsave64 %0" : "=m"(state) : "a"(lo), "d"(hi) : "memory");
  {
    std::lock_guard guard(mutex);
    grow_locked(s, vcpus);
  }
  if (fits) asm volatile("xrstor64 %0" : : "m"(state), "a"(lo), "d"(hi) : "memory");
}

[[maybe_unused]] const bool grow_declared_safe =
    (x86_64::declare_vector_safe(reinterpret_cast<const void*>(&grow_keeping_vector_state)), true);

}  // namespace

qemu_plugin_scoreboard* new_scoreboard(size_t element_size) {
  std::lock_guard guard(mutex);
  auto* s = new qemu_plugin_scoreboard{nullptr, element_size, 16, -1};
  s->data = static_cast<uint8_t*>(std::calloc(s->capacity, element_size));
  if (cached.size() < runtime::kScoreboardCache) {
    s->cache_slot = static_cast<int>(cached.size());
    cached.push_back(s);
  }
  grow_locked(s, num_vcpus());
  refresh_all_threads(s);
  return s;
}

void grow_scoreboard(qemu_plugin_scoreboard* s, size_t vcpus) {
  grow_keeping_vector_state(s, vcpus);
}

void attach_scoreboards(runtime::ThreadState& ts) {
  std::lock_guard guard(mutex);
  for (qemu_plugin_scoreboard* s : cached) {
    if (!s) continue;
    grow_locked(s, ts.vcpu_index + 1);
    set_element(ts, s);
  }
}

void free_scoreboard(qemu_plugin_scoreboard* s) {
  std::lock_guard guard(mutex);
  if (s->cache_slot >= 0) cached[static_cast<size_t>(s->cache_slot)] = nullptr;  // slot not reused
  std::free(s->data);
  delete s;
}

}  // namespace qplug::qemu
