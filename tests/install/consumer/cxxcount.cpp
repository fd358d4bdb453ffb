// A C++ plugin for API version 3, selected by qplug_add_plugin(API_VERSION 3):
// the header's extern "C" block gives it unmangled imports and exports. Prints
// "cxxcount: vN tbs=T" at exit (N: the API version it was compiled for).
#include <qplug/qemu-plugin.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>

static_assert(QEMU_PLUGIN_VERSION == 3, "API_VERSION 3 must define QEMU_PLUGIN_API_VERSION=3");

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

namespace {

std::atomic<uint64_t> tbs{0};

void on_translate(qemu_plugin_id_t, qemu_plugin_tb*) { tbs.fetch_add(1); }

void at_exit(qemu_plugin_id_t, void*) {
  char line[64];
  std::snprintf(line, sizeof line, "cxxcount: v%d tbs=%" PRIu64 "\n", QEMU_PLUGIN_VERSION,
                tbs.load());
  qemu_plugin_outs(line);
}

}  // namespace

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t*, int, char**) {
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, at_exit, nullptr);
  return 0;
}
