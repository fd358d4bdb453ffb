// The exported QEMU plugin API, part 2: block and instruction queries (valid
// only inside tb_trans), memory-access info, scoreboards, guest memory, and
// program information.
#include <glib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "os/linux/threads.h"
#include "qemu/api.h"
#include "qemu/registry.h"
#include "runtime/dispatcher.h"
#include "runtime/guest_symbols.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"
#include "x86_64/qemu_disas.h"

using namespace qplug;

namespace qplug::qemu {
unsigned num_vcpus() { return os::max_vcpus_seen(); }  // max index + 1, never decreasing
}  // namespace qplug::qemu

namespace {

int caller_version() {
  qemu::PluginContext* p = qemu::current_plugin();
  return p ? p->version : 7;
}

}  // namespace

extern "C" {

// ---- blocks and instructions ----

QPLUG_API size_t qemu_plugin_tb_n_insns(const qemu_plugin_tb* tb) { return tb->insns.size(); }
QPLUG_API uint64_t qemu_plugin_tb_vaddr(const qemu_plugin_tb* tb) { return tb->insns.front().pc; }
QPLUG_API qemu_plugin_insn* qemu_plugin_tb_get_insn(const qemu_plugin_tb* tb, size_t idx) {
  if (idx >= tb->handles.size()) return nullptr;
  return const_cast<qemu_plugin_insn*>(&tb->handles[idx]);
}

// v1-v2: const void *(insn), a pointer to the bytes valid during the callback.
// v3+:   size_t (insn, dest, len), a copy into the caller's buffer.
QPLUG_API uint64_t qemu_plugin_insn_data(const qemu_plugin_insn* insn, void* dest, size_t len) {
  const auto& d = *insn->decoded;
  if (caller_version() <= 2) return reinterpret_cast<uint64_t>(d.bytes);
  const size_t n = std::min<size_t>(len, d.length());
  if (dest) std::memcpy(dest, d.bytes, n);
  return n;
}
QPLUG_API size_t qemu_plugin_insn_size(const qemu_plugin_insn* insn) {
  return insn->decoded->length();
}
QPLUG_API uint64_t qemu_plugin_insn_vaddr(const qemu_plugin_insn* insn) {
  return insn->decoded->pc;
}
QPLUG_API const char* qemu_plugin_insn_symbol(const qemu_plugin_insn* insn) {
  return runtime::guest_symbol(insn->decoded->pc);
}
// In linux-user the "hardware" address is the host pointer to the guest byte:
// guest and host share the address space here, so it is the vaddr itself.
QPLUG_API void* qemu_plugin_insn_haddr(const qemu_plugin_insn* insn) {
  return reinterpret_cast<void*>(insn->decoded->pc);
}
// QEMU's text for the bytes (x86_64/qemu_disas.h). The caller frees it with g_free.
QPLUG_API char* qemu_plugin_insn_disas(const qemu_plugin_insn* insn) {
  const auto& d = *insn->decoded;
  return g_strdup(x86_64::qemu_disas_text(d.bytes, d.length(), d.pc).c_str());
}

// ---- memory access info (qemu_plugin_meminfo_t: MemOp << 4 | mmu_idx, rw << 16) ----

QPLUG_API unsigned qemu_plugin_mem_size_shift(uint32_t info) { return (info >> 4) & 0x7; }
QPLUG_API bool qemu_plugin_mem_is_sign_extended(uint32_t info) { return (info >> 4) & 0x8; }
QPLUG_API bool qemu_plugin_mem_is_big_endian(uint32_t) { return false; }
QPLUG_API bool qemu_plugin_mem_is_store(uint32_t info) { return (info >> 16) & 2; }
// The value after the access: what was loaded, or what was stored.
QPLUG_API QemuMemValue qemu_plugin_mem_get_value(uint32_t info) {
  const runtime::ThreadState& ts = runtime::current_thread();
  QemuMemValue v{};
  const unsigned shift = std::min(qemu_plugin_mem_size_shift(info), 4u);
  v.type = static_cast<int>(shift);  // U8 = 0 ... U128 = 4
  runtime::Dispatcher::read_guest(ts.mem_vaddr, &v.data, size_t{1} << shift);
  return v;
}
QPLUG_API void* qemu_plugin_get_hwaddr(uint32_t, uint64_t) { return nullptr; }
QPLUG_API bool qemu_plugin_hwaddr_is_io(const void*) { return false; }
QPLUG_API uint64_t qemu_plugin_hwaddr_phys_addr(const void*) { return 0; }
QPLUG_API const char* qemu_plugin_hwaddr_device_name(const void*) {
  return g_intern_static_string("Invalid");
}

// ---- scoreboards (v2+) ----

QPLUG_API qemu_plugin_scoreboard* qemu_plugin_scoreboard_new(size_t element_size) {
  return qemu::new_scoreboard(element_size);
}
QPLUG_API void qemu_plugin_scoreboard_free(qemu_plugin_scoreboard* s) {
  if (!s) return;
  qemu::free_scoreboard(s);
}
QPLUG_API void* qemu_plugin_scoreboard_find(qemu_plugin_scoreboard* s, unsigned vcpu) {
  if (vcpu >= s->capacity) [[unlikely]]
    qemu::grow_scoreboard(s, vcpu + 1);
  return s->data + vcpu * s->element_size;
}
QPLUG_API void qemu_plugin_u64_add(QemuU64 e, unsigned vcpu, uint64_t added) {
  *static_cast<uint64_t*>(static_cast<void*>(
      static_cast<uint8_t*>(qemu_plugin_scoreboard_find(e.score, vcpu)) + e.offset)) += added;
}
QPLUG_API uint64_t qemu_plugin_u64_get(QemuU64 e, unsigned vcpu) {
  uint64_t v;
  std::memcpy(&v, static_cast<uint8_t*>(qemu_plugin_scoreboard_find(e.score, vcpu)) + e.offset,
              sizeof v);
  return v;
}
QPLUG_API void qemu_plugin_u64_set(QemuU64 e, unsigned vcpu, uint64_t value) {
  std::memcpy(static_cast<uint8_t*>(qemu_plugin_scoreboard_find(e.score, vcpu)) + e.offset, &value,
              sizeof value);
}
QPLUG_API uint64_t qemu_plugin_u64_sum(QemuU64 e) {
  uint64_t sum = 0;
  for (unsigned vcpu = 0; vcpu < qemu::num_vcpus(); ++vcpu) sum += qemu_plugin_u64_get(e, vcpu);
  return sum;
}

// ---- output and arguments ----

QPLUG_API void qemu_plugin_outs(const char* string) { qemu::log_plugin_output(string); }

QPLUG_API bool qemu_plugin_bool_parse(const char* name, const char* value, bool* ret) {
  if (!name || !value) return false;
  static const char* const yes[] = {"on", "yes", "true", "y"};
  static const char* const no[] = {"off", "no", "false", "n"};
  for (const char* y : yes)
    if (!std::strcmp(value, y)) return *ret = true, true;
  for (const char* n : no)
    if (!std::strcmp(value, n)) return *ret = false, true;
  return false;
}

// ---- the program ----

QPLUG_API const char* qemu_plugin_path_to_binary() {
  return g_strdup(runtime::rt().exe_path.c_str());  // the caller frees it with g_free
}
QPLUG_API uint64_t qemu_plugin_start_code() { return runtime::rt().program.main.start_code; }
QPLUG_API uint64_t qemu_plugin_end_code() { return runtime::rt().program.main.end_code; }
QPLUG_API uint64_t qemu_plugin_entry_code() { return runtime::rt().program.main.entry; }

// ---- guest memory ----

QPLUG_API bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray* data, size_t len) {
  if (len == 0) return false;
  g_byte_array_set_size(data, static_cast<guint>(len));
  return runtime::Dispatcher::read_guest(addr, data->data, len) == len;
}
QPLUG_API bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray* data) {
  if (!data || data->len == 0) return false;
  const size_t left =
      runtime::rt().ctx.safe_copy(reinterpret_cast<void*>(addr), data->data, data->len);
  runtime::rt().dispatcher->invalidate(addr, addr + data->len);
  return left == 0;
}
QPLUG_API int qemu_plugin_read_memory_hwaddr(uint64_t, GByteArray*, size_t) { return 1; }
QPLUG_API int qemu_plugin_write_memory_hwaddr(uint64_t, GByteArray*) { return 1; }
QPLUG_API bool qemu_plugin_translate_vaddr(uint64_t, uint64_t*) { return false; }

// ---- time control: user mode has none ----

QPLUG_API const void* qemu_plugin_request_time_control() { return nullptr; }
QPLUG_API void qemu_plugin_update_ns(const void*, int64_t) {}

}  // extern "C"
