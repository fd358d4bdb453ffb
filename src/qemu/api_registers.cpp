// The exported QEMU plugin API, part 3: guest registers, read and written in
// the ThreadState, where the callout routine keeps the guest's complete state
// while a callback runs (qemu-abi.md 4.2). Names follow QEMU's x86_64 gdbstub.
#include <glib.h>

#include <cstring>

#include "qemu/api.h"
#include "qemu/registry.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"

using namespace qplug;

namespace {

enum class RegKind {
  kGpr,
  kRip,
  kEflags,
  kSegment,
  kFsBase,
  kGsBase,
  kXmm,
  kMxcsr,
  kOrigRax,
  kX87,
  kX87Control,
  kYmmHigh
};

struct RegisterInfo {
  const char* name;
  const char* feature;
  RegKind kind;
  int index;  // GPR number, segment selector value, or xmm number
  int size;
};

// gdb's order of the core registers, then SSE, then the Linux extras.
constexpr RegisterInfo kRegisters[] = {
    {"rax", "org.gnu.gdb.i386.core", RegKind::kGpr, 0, 8},
    {"rbx", "org.gnu.gdb.i386.core", RegKind::kGpr, 3, 8},
    {"rcx", "org.gnu.gdb.i386.core", RegKind::kGpr, 1, 8},
    {"rdx", "org.gnu.gdb.i386.core", RegKind::kGpr, 2, 8},
    {"rsi", "org.gnu.gdb.i386.core", RegKind::kGpr, 6, 8},
    {"rdi", "org.gnu.gdb.i386.core", RegKind::kGpr, 7, 8},
    {"rbp", "org.gnu.gdb.i386.core", RegKind::kGpr, 5, 8},
    {"rsp", "org.gnu.gdb.i386.core", RegKind::kGpr, 4, 8},
    {"r8", "org.gnu.gdb.i386.core", RegKind::kGpr, 8, 8},
    {"r9", "org.gnu.gdb.i386.core", RegKind::kGpr, 9, 8},
    {"r10", "org.gnu.gdb.i386.core", RegKind::kGpr, 10, 8},
    {"r11", "org.gnu.gdb.i386.core", RegKind::kGpr, 11, 8},
    {"r12", "org.gnu.gdb.i386.core", RegKind::kGpr, 12, 8},
    {"r13", "org.gnu.gdb.i386.core", RegKind::kGpr, 13, 8},
    {"r14", "org.gnu.gdb.i386.core", RegKind::kGpr, 14, 8},
    {"r15", "org.gnu.gdb.i386.core", RegKind::kGpr, 15, 8},
    {"rip", "org.gnu.gdb.i386.core", RegKind::kRip, 0, 8},
    {"eflags", "org.gnu.gdb.i386.core", RegKind::kEflags, 0, 4},
    {"cs", "org.gnu.gdb.i386.core", RegKind::kSegment, 0x33, 4},
    {"ss", "org.gnu.gdb.i386.core", RegKind::kSegment, 0x2b, 4},
    {"ds", "org.gnu.gdb.i386.core", RegKind::kSegment, 0, 4},
    {"es", "org.gnu.gdb.i386.core", RegKind::kSegment, 0, 4},
    {"fs", "org.gnu.gdb.i386.core", RegKind::kSegment, 0, 4},
    {"gs", "org.gnu.gdb.i386.core", RegKind::kSegment, 0, 4},
    {"fs_base", "org.gnu.gdb.i386.core", RegKind::kFsBase, 0, 8},
    {"gs_base", "org.gnu.gdb.i386.core", RegKind::kGsBase, 0, 8},
    {"xmm0", "org.gnu.gdb.i386.sse", RegKind::kXmm, 0, 16},
    {"xmm1", "org.gnu.gdb.i386.sse", RegKind::kXmm, 1, 16},
    {"xmm2", "org.gnu.gdb.i386.sse", RegKind::kXmm, 2, 16},
    {"xmm3", "org.gnu.gdb.i386.sse", RegKind::kXmm, 3, 16},
    {"xmm4", "org.gnu.gdb.i386.sse", RegKind::kXmm, 4, 16},
    {"xmm5", "org.gnu.gdb.i386.sse", RegKind::kXmm, 5, 16},
    {"xmm6", "org.gnu.gdb.i386.sse", RegKind::kXmm, 6, 16},
    {"xmm7", "org.gnu.gdb.i386.sse", RegKind::kXmm, 7, 16},
    {"xmm8", "org.gnu.gdb.i386.sse", RegKind::kXmm, 8, 16},
    {"xmm9", "org.gnu.gdb.i386.sse", RegKind::kXmm, 9, 16},
    {"xmm10", "org.gnu.gdb.i386.sse", RegKind::kXmm, 10, 16},
    {"xmm11", "org.gnu.gdb.i386.sse", RegKind::kXmm, 11, 16},
    {"xmm12", "org.gnu.gdb.i386.sse", RegKind::kXmm, 12, 16},
    {"xmm13", "org.gnu.gdb.i386.sse", RegKind::kXmm, 13, 16},
    {"xmm14", "org.gnu.gdb.i386.sse", RegKind::kXmm, 14, 16},
    {"xmm15", "org.gnu.gdb.i386.sse", RegKind::kXmm, 15, 16},
    {"mxcsr", "org.gnu.gdb.i386.sse", RegKind::kMxcsr, 0, 4},
    {"orig_rax", "org.gnu.gdb.i386.linux", RegKind::kOrigRax, 0, 8},
    // x87: st0-st7 (80 bits each) and the control registers, from the FXSAVE
    // area (index = byte offset there).
    {"st0", "org.gnu.gdb.i386.core", RegKind::kX87, 32, 10},
    {"st1", "org.gnu.gdb.i386.core", RegKind::kX87, 48, 10},
    {"st2", "org.gnu.gdb.i386.core", RegKind::kX87, 64, 10},
    {"st3", "org.gnu.gdb.i386.core", RegKind::kX87, 80, 10},
    {"st4", "org.gnu.gdb.i386.core", RegKind::kX87, 96, 10},
    {"st5", "org.gnu.gdb.i386.core", RegKind::kX87, 112, 10},
    {"st6", "org.gnu.gdb.i386.core", RegKind::kX87, 128, 10},
    {"st7", "org.gnu.gdb.i386.core", RegKind::kX87, 144, 10},
    {"fctrl", "org.gnu.gdb.i386.core", RegKind::kX87Control, 0, 2},
    {"fstat", "org.gnu.gdb.i386.core", RegKind::kX87Control, 2, 2},
    {"ftag", "org.gnu.gdb.i386.core", RegKind::kX87Control, 4, 1},
    {"fop", "org.gnu.gdb.i386.core", RegKind::kX87Control, 6, 2},
    {"fioff", "org.gnu.gdb.i386.core", RegKind::kX87Control, 8, 4},
    {"fooff", "org.gnu.gdb.i386.core", RegKind::kX87Control, 16, 4},
    // AVX: the upper halves of ymm0-ymm15 (XSAVE component 2 at offset 576).
    {"ymm0h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 0, 16},
    {"ymm1h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 1, 16},
    {"ymm2h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 2, 16},
    {"ymm3h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 3, 16},
    {"ymm4h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 4, 16},
    {"ymm5h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 5, 16},
    {"ymm6h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 6, 16},
    {"ymm7h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 7, 16},
    {"ymm8h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 8, 16},
    {"ymm9h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 9, 16},
    {"ymm10h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 10, 16},
    {"ymm11h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 11, 16},
    {"ymm12h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 12, 16},
    {"ymm13h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 13, 16},
    {"ymm14h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 14, 16},
    {"ymm15h", "org.gnu.gdb.i386.avx", RegKind::kYmmHigh, 15, 16},
};
constexpr size_t kXsaveYmmHighOffset = 576;
constexpr size_t kXsaveXmmOffset = 160;  // legacy FXSAVE region
constexpr size_t kXsaveMxcsrOffset = 24;

int caller_version() {
  qemu::PluginContext* p = qemu::current_plugin();
  return p ? p->version : 7;
}

// Handles are index + 1: never NULL (uftrace asserts on that).
const RegisterInfo* from_handle(const void* handle) {
  const auto i = reinterpret_cast<uintptr_t>(handle);
  return i >= 1 && i <= std::size(kRegisters) ? &kRegisters[i - 1] : nullptr;
}

uint8_t* location(const RegisterInfo& r, uint64_t& scratch) {
  runtime::ThreadState& ts = runtime::current_thread();
  switch (r.kind) {
    case RegKind::kGpr:
      return reinterpret_cast<uint8_t*>(&ts.gpr[r.index]);
    case RegKind::kRip:
      return reinterpret_cast<uint8_t*>(&ts.rip);
    case RegKind::kEflags:
      return reinterpret_cast<uint8_t*>(&ts.rflags);
    case RegKind::kXmm:
      return ts.xsave_area + kXsaveXmmOffset + 16 * r.index;
    case RegKind::kMxcsr:
      return ts.xsave_area + kXsaveMxcsrOffset;
    case RegKind::kX87:
    case RegKind::kX87Control:
      return ts.xsave_area + r.index;
    case RegKind::kYmmHigh: {
      // A component in its initial state (XSTATE_BV bit 2 clear) reads as zero.
      const uint64_t xstate_bv = *reinterpret_cast<const uint64_t*>(ts.xsave_area + 512);
      if (!(xstate_bv & 4)) {
        scratch = 0;
        static uint8_t zeros[16];
        return zeros;
      }
      return ts.xsave_area + kXsaveYmmHighOffset + 16 * r.index;
    }
    case RegKind::kSegment:
      scratch = static_cast<uint64_t>(r.index);
      break;
    case RegKind::kFsBase:
      asm volatile("rdgsbase %0" : "=r"(scratch));
      break;  // guest FS is in GS
    case RegKind::kGsBase:
      scratch = 0;
      break;
    case RegKind::kOrigRax:
      scratch = ~uint64_t{0};
      break;
  }
  return reinterpret_cast<uint8_t*>(&scratch);
}

bool writable(const RegisterInfo& r) {
  return r.kind == RegKind::kGpr || r.kind == RegKind::kEflags || r.kind == RegKind::kXmm ||
         r.kind == RegKind::kMxcsr || r.kind == RegKind::kX87 || r.kind == RegKind::kX87Control;
}

// v2-v5 return int (bytes, or -1), v6+ bool.
int result(bool ok, int bytes) {
  if (caller_version() >= 6) return ok ? 1 : 0;
  return ok ? bytes : -1;
}

}  // namespace

extern "C" {

QPLUG_API GArray* qemu_plugin_get_registers() {
  const bool with_readonly = caller_version() >= 6;
  struct Descriptor {
    void* handle;
    const char* name;
    const char* feature;
    bool is_readonly;  // v6+ only: the element is 24 bytes before
  };
  GArray* out = g_array_new(TRUE, TRUE, with_readonly ? sizeof(Descriptor) : 24);
  for (size_t i = 0; i < std::size(kRegisters); ++i) {
    Descriptor d{reinterpret_cast<void*>(i + 1), g_intern_static_string(kRegisters[i].name),
                 g_intern_static_string(kRegisters[i].feature), !writable(kRegisters[i])};
    g_array_append_vals(out, &d, 1);
  }
  return out;
}

QPLUG_API int qemu_plugin_read_register(void* handle, GByteArray* buf) {
  const RegisterInfo* r = from_handle(handle);
  if (!r || !buf) return result(false, 0);
  uint64_t scratch = 0;
  g_byte_array_append(buf, location(*r, scratch), static_cast<guint>(r->size));
  return result(true, r->size);
}

QPLUG_API int qemu_plugin_write_register(void* handle, GByteArray* buf) {
  const RegisterInfo* r = from_handle(handle);
  if (!r || !buf || !writable(*r) || buf->len < static_cast<guint>(r->size))
    return result(false, 0);
  uint64_t scratch = 0;
  std::memcpy(location(*r, scratch), buf->data, static_cast<size_t>(r->size));
  return result(true, r->size);
}

}  // extern "C"
