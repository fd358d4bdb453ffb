#include "x86_64/xstate.h"

#include <cpuid.h>

#include <algorithm>
#include <cstring>

namespace qplug::x86_64 {
namespace {

constexpr uint64_t kAmxComponents = (uint64_t{1} << 17) | (uint64_t{1} << 18);
constexpr size_t kLegacySize = 512, kHeaderSize = 64;
constexpr size_t kXstateBvOffset = 512, kXcompBvOffset = 520;

struct Component {
  uint32_t size = 0, offset = 0;
};

Component component(unsigned index) {
  unsigned size, offset, ecx, edx;
  __cpuid_count(0xd, index, size, offset, ecx, edx);
  return {size, offset};
}

XstateLayout read_layout() {
  XstateLayout l;
  l.xcr0 = enabled_xstate();
  if (!l.xcr0) return l;  // FXSAVE/FXRSTOR only
  l.mask = l.xcr0 & ~kAmxComponents;
  size_t end = kLegacySize + kHeaderSize;
  for (unsigned i = 2; i < 64; ++i) {
    if (!(l.mask & (uint64_t{1} << i))) continue;
    const Component c = component(i);
    end = std::max<size_t>(end, size_t{c.offset} + c.size);
  }
  l.size = static_cast<uint32_t>(end);
  auto offset_if = [&](unsigned i) {
    return l.mask & (uint64_t{1} << i) ? component(i).offset : 0;
  };
  l.avx = offset_if(2);
  l.opmask = offset_if(5);
  l.zmm_hi256 = offset_if(6);
  l.hi16_zmm = offset_if(7);
  l.by_hand = l.mask == 0x3 || l.mask == 0x7 || l.mask == 0xe7;
  return l;
}

}  // namespace

uint64_t enabled_xstate() {
  unsigned eax, ebx, ecx, edx;
  __cpuid(1, eax, ebx, ecx, edx);
  if (!(ecx & (1u << 27))) return 0;  // no OSXSAVE
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}

const XstateLayout& xstate() {
  static const XstateLayout layout = read_layout();
  return layout;
}

void import_fpstate(uint8_t* area, const uint8_t* frame) {
  const XstateLayout& l = xstate();
  FpxSwBytes sw;
  std::memcpy(&sw, frame + kFpxSwBytesOffset, sizeof sw);
  size_t n = kLegacySize;
  uint64_t features = 0x3;  // x87 and SSE: always in the FXSAVE image
  if (l.mask && sw.magic1 == kFpXstateMagic1 && sw.xstate_size >= kLegacySize + kHeaderSize &&
      sw.extended_size == sw.xstate_size + sizeof(uint32_t)) {
    n = std::min<size_t>(sw.xstate_size, l.size);
    features = sw.xfeatures;
  }
  std::memcpy(area, frame, n);
  if (n < l.size) std::memset(area + n, 0, l.size - n);
  if (!l.mask) return;
  uint64_t xstate_bv = 0;
  if (n > kLegacySize)
    std::memcpy(&xstate_bv, area + kXstateBvOffset, sizeof xstate_bv);
  else
    xstate_bv = 0x3;
  // Whatever the frame does not hold, or qplug does not keep, starts from its
  // initial state on the next restore.
  xstate_bv &= features & l.mask;
  std::memcpy(area + kXstateBvOffset, &xstate_bv, sizeof xstate_bv);
  std::memset(area + kXcompBvOffset, 0, kHeaderSize - 8);  // standard format, reserved zero
}

size_t exported_fpstate_size() { return xstate().size + sizeof(uint32_t); }

bool export_fpstate(uint64_t frame, const uint8_t* area,
                    bool (*write)(uint64_t addr, const void* data, size_t len)) {
  const XstateLayout& l = xstate();
  if (!write(frame, area, l.size)) return false;
  if (!l.mask) return true;  // FXSAVE machines have no software bytes
  FpxSwBytes sw{};
  sw.magic1 = kFpXstateMagic1;
  sw.extended_size = l.size + sizeof(uint32_t);
  sw.xfeatures = l.mask;
  sw.xstate_size = l.size;
  return write(frame + kFpxSwBytesOffset, &sw, sizeof sw) &&
         write(frame + l.size, &kFpXstateMagic2, sizeof kFpXstateMagic2);
}

}  // namespace qplug::x86_64
