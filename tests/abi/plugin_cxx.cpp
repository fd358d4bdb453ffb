// ABI test plugin in C++ (API version 7): the header's extern "C" block must
// give a C++ plugin unmangled imports and exports. At exit, one line:
//
//   abi-cxx: tbs=N insns=N
//
// (translated blocks and the instructions in them, counted in tb_trans).
#include <qplug/qemu-plugin.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

namespace {

struct Totals {
  std::atomic<uint64_t> tbs{0};
  std::atomic<uint64_t> insns{0};
};

Totals totals;

void tb_trans(qemu_plugin_tb* tb, void* userdata) {
  auto* t = static_cast<Totals*>(userdata);
  t->tbs.fetch_add(1, std::memory_order_relaxed);
  t->insns.fetch_add(qemu_plugin_tb_n_insns(tb), std::memory_order_relaxed);
}

void at_exit(void* userdata) {
  auto* t = static_cast<Totals*>(userdata);
  char line[128];
  std::snprintf(line, sizeof line, "abi-cxx: tbs=%" PRIu64 " insns=%" PRIu64 "\n", t->tbs.load(),
                t->insns.load());
  qemu_plugin_outs(line);
}

}  // namespace

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                           char** argv) {
  (void)argv;
  if (argc != 0 || info->version.cur < QEMU_PLUGIN_VERSION) {
    return 1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans, &totals);
  qemu_plugin_register_atexit_cb(id, at_exit, &totals);
  return 0;
}
