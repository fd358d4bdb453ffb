// PcMap against std::unordered_map: random sets, replacements and erases,
// with pcs that collide on purpose (same low bits, dense runs).
#include "runtime/pc_map.h"

#include <doctest/doctest.h>

#include <random>
#include <unordered_map>

using qplug::runtime::Block;
using qplug::runtime::PcMap;

namespace {
Block* fake(uintptr_t n) { return reinterpret_cast<Block*>(n * 16 + 16); }
}  // namespace

TEST_CASE("PcMap finds what was set, forgets what was erased") {
  PcMap map;
  CHECK(map.find(0x401000) == nullptr);
  map.set(0x401000, fake(1));
  map.set(0x401000, fake(2));  // replaced
  CHECK(map.find(0x401000) == fake(2));
  CHECK(map.size() == 1);
  map.erase(0x401000, fake(1));  // not the block it maps to: kept
  CHECK(map.find(0x401000) == fake(2));
  map.erase(0x401000, fake(2));
  CHECK(map.find(0x401000) == nullptr);
  CHECK(map.size() == 0);
}

TEST_CASE("PcMap agrees with unordered_map through growth and erases") {
  PcMap map;
  std::unordered_map<uint64_t, Block*> model;
  std::mt19937_64 rng(42);
  auto random_pc = [&]() -> uint64_t {
    switch (rng() % 3) {
      case 0:
        return 0x7f0000000000ull + (rng() % 4096);  // a dense run: long probe chains
      case 1:
        return ((rng() % 64) << 32) | 0x1234;  // equal low bits
      default:
        return rng() & 0x7fffffffffffull;
    }
  };
  for (int step = 0; step < 200000; ++step) {
    const uint64_t pc = random_pc();
    if (rng() % 3 == 0) {
      auto it = model.find(pc);
      if (it != model.end()) {
        map.erase(pc, it->second);
        model.erase(it);
      }
    } else {
      Block* b = fake(static_cast<uintptr_t>(step));
      map.set(pc, b);
      model[pc] = b;
    }
  }
  CHECK(map.size() == model.size());
  for (const auto& [pc, b] : model) REQUIRE(map.find(pc) == b);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t pc = random_pc();
    REQUIRE(map.find(pc) == (model.count(pc) ? model[pc] : nullptr));
  }
}
