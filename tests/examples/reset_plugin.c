/* Test plugin for qemu_plugin_reset and qemu_plugin_uninstall (asynchronous):
 * counts block executions with a callback; after 1000 it resets (callbacks
 * removed, "reset done" from the reset callback), registers again, and after
 * 1000 more uninstalls ("uninstall done", then "plugin exit" from the
 * library's destructor when it is unloaded). The program runs on unchanged. */
#include <stdio.h>
#include <unistd.h>

#include <qplug/qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static qemu_plugin_id_t self;
static int executions, phase, stray;

static void on_exec(unsigned vcpu, void *userdata);

static void on_translate(struct qemu_plugin_tb *tb, void *userdata) {
  (void)userdata;
  if (phase == 1 || phase == 3) stray++;  /* no translation may reach a removed plugin */
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
}

static void uninstalled(void *userdata) {
  (void)userdata;
  phase = 3;
  qemu_plugin_outs("uninstall done\n");
}

static void reset_done(void *userdata) {
  (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "reset done (stray %d)\n", stray);
  qemu_plugin_outs(line);
  executions = 0;
  phase = 2;
  qemu_plugin_register_vcpu_tb_trans_cb(self, on_translate, NULL);
}

static void on_exec(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  if (++executions != 1000) return;
  if (phase == 0) {
    phase = 1;
    qemu_plugin_reset(self, reset_done, NULL);
  } else if (phase == 2) {
    qemu_plugin_uninstall(self, uninstalled, NULL);
  }
}

__attribute__((destructor)) static void unloaded(void) {
  if (phase == 3) {
    static const char line[] = "plugin exit\n";
    /* qemu_plugin_outs is no longer ours to call: the log is stderr here. */
    if (write(2, line, sizeof line - 1) < 0) return;
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info, (void)argc, (void)argv;
  self = id;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate, NULL);
  return 0;
}
