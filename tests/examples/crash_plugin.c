// A plugin with a bug: its block callback writes through a bad pointer on the
// 1000th block. qplug must name it as the culprit, run the other plugins' exit
// callbacks and die of the signal (tests/examples/CMakeLists.txt).
#include <stdint.h>

#include "qemu-plugin.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t count;
static int* volatile bad_pointer = (int*)16;

static void on_exec(unsigned int vcpu, void* udata) {
  (void)vcpu;
  (void)udata;
  if (++count == 1000) *bad_pointer = 1;
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                           char** argv) {
  (void)info;
  (void)argc;
  (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
  return 0;
}
