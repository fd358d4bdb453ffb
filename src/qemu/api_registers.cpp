// The exported QEMU plugin API, part 3: guest registers, read and written in
// the ThreadState, where the callout routine keeps the guest's complete state
// while a callback runs. The register set is QEMU's (x86_registers.h); what
// differs between API versions is the descriptor layout and the return types.
#include <glib.h>

#include <cstddef>

#include "qemu/api.h"
#include "qemu/registry.h"
#include "qemu/x86_registers.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"

using namespace qplug;

namespace {

int caller_version() {
  qemu::PluginContext* p = qemu::current_plugin();
  return p ? p->version : 7;
}

// Handles are index + 1: never NULL (uftrace asserts on that).
const qemu::RegisterDesc* from_handle(const void* handle, size_t& index) {
  const auto i = reinterpret_cast<uintptr_t>(handle);
  const auto regs = qemu::guest_registers();
  if (i < 1 || i > regs.size()) return nullptr;
  index = i - 1;
  return &regs[index];
}

// v2-v5 return int (bytes, or -1), v6+ bool.
int result(bool ok, int bytes) {
  if (caller_version() >= 6) return ok ? 1 : 0;
  return ok ? bytes : -1;
}

// qemu_plugin_reg_descriptor as QEMU's v7 header lays it out; v2-v6 end after
// `feature` (24 bytes), so their elements are its first 24 bytes.
struct Descriptor {
  void* handle;
  const char* name;
  const char* feature;
  bool is_readonly;
};
constexpr guint kDescriptorV2Size = offsetof(Descriptor, is_readonly);
static_assert(kDescriptorV2Size == 24 && sizeof(Descriptor) == 32);

}  // namespace

extern "C" {

QPLUG_API GArray* qemu_plugin_get_registers() {
  const guint element = caller_version() >= 7 ? sizeof(Descriptor) : kDescriptorV2Size;
  const auto regs = qemu::guest_registers();
  GArray* out = g_array_sized_new(TRUE, TRUE, element, static_cast<guint>(regs.size()));
  for (size_t i = 0; i < regs.size(); ++i) {
    // As QEMU: only the PC is read-only (qemu_plugin_set_pc moves it).
    const Descriptor d{reinterpret_cast<void*>(i + 1), g_intern_static_string(regs[i].name),
                       g_intern_static_string(regs[i].feature),
                       regs[i].kind == qemu::RegKind::kRip};
    g_array_append_vals(out, &d, 1);
  }
  return out;
}

QPLUG_API int qemu_plugin_read_register(void* handle, GByteArray* buf) {
  size_t index;
  const qemu::RegisterDesc* r = from_handle(handle, index);
  if (!r || !buf) return result(false, 0);
  uint8_t value[16];
  qemu::read_guest_register(runtime::current_thread(), index, value);
  g_byte_array_append(buf, value, r->size);
  return result(true, r->size);
}

QPLUG_API int qemu_plugin_write_register(void* handle, GByteArray* buf) {
  size_t index;
  const qemu::RegisterDesc* r = from_handle(handle, index);
  if (!r || !buf || buf->len < r->size) return result(false, 0);
  const bool ok = qemu::write_guest_register(runtime::current_thread(), index, buf->data);
  return result(ok, r->size);
}

}  // extern "C"
