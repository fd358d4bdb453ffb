// The guest's extended (x87/SSE/AVX/AVX-512...) state as qplug keeps it.
//
// Invariant (owned here): every XSAVE-format area qplug fills or loads for the
// guest (ThreadState::xsave_area, signal frames it builds, the callout and
// direct-call save paths) holds exactly the components of `XstateLayout::mask`
// in the standard (non-compacted) format, `size` bytes, and every XSAVE/XRSTOR
// qplug issues names that mask and no other (never edx:eax = -1).
//
// Why not simply XCR0: the components qplug's host code never touches need no
// saving, and the two AMX components must not be saved. Tile data (XCR0 bit
// 18) is 8 KiB, it is enabled per process on demand by the kernel (XFD: a
// process without ARCH_REQ_XCOMP_PERM has it disabled, and the kernel's signal
// frames then leave it out, 2816 bytes instead of 11008 on a Sapphire Rapids
// Xeon), and neither qplug, glibc nor a plugin uses tiles. Leaving both AMX
// components out of the mask leaves them in the registers, where the guest
// put them, across every switch to host code and back, which is what a guest
// that asked for AMX gets natively. The kernel saves them across preemption.
//
// Every size and offset comes from CPUID leaf 0xD on the machine qplug runs
// on; nothing assumes a vendor or a model.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplug::x86_64 {

struct XstateLayout {
  uint64_t xcr0 = 0;    // what the OS enabled (0 without OSXSAVE)
  uint64_t mask = 0;    // what qplug saves and restores: xcr0 less the AMX components
  uint32_t size = 512;  // bytes of a standard-format area holding `mask` (512: FXSAVE only)
  // Standard-format offsets of the components the context switch stores one
  // by one (0 when the component is not in `mask`).
  uint32_t avx = 0, opmask = 0, zmm_hi256 = 0, hi16_zmm = 0;
  // The mask is x87+SSE, +AVX or +AVX-512 exactly: its registers can be
  // stored one by one in XSAVE's layout instead of with XSAVE (cheaper).
  bool by_hand = false;
};

// Read once from CPUID and XCR0.
const XstateLayout& xstate();

// The state components the OS enabled (XCR0), or 0 without XSAVE.
uint64_t enabled_xstate();

// The software-reserved words the kernel writes in bytes 464..511 of a signal
// frame's FXSAVE area (struct _fpx_sw_bytes), and the word after the XSAVE
// area that confirms them.
inline constexpr uint32_t kFpXstateMagic1 = 0x46505853;
inline constexpr uint32_t kFpXstateMagic2 = 0x46505845;
struct FpxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;  // xstate_size + 4 (magic2)
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);
inline constexpr size_t kFpxSwBytesOffset = 464;

// Copies a signal frame's fpstate (the kernel's, or one a guest built) into
// qplug's area of xstate().size bytes. The frame's size comes from its own
// software bytes (the kernel sizes frames per process, from the features the
// process may use), so only what the frame holds is read: a frame without the
// XSAVE magic holds the 512-byte FXSAVE image only. Components the frame lacks
// are marked as in their initial state.
void import_fpstate(uint8_t* area, const uint8_t* frame);

// Bytes a signal frame's fpstate takes when exported (the area and magic2).
size_t exported_fpstate_size();
// Writes qplug's area at `frame` the way the kernel lays a signal frame's
// fpstate out: the area, the software bytes describing it and magic2 after
// it, through `write` (a non-faulting guest write). False if a write failed.
bool export_fpstate(uint64_t frame, const uint8_t* area,
                    bool (*write)(uint64_t addr, const void* data, size_t len));

}  // namespace qplug::x86_64
