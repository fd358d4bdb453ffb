/* Test plugin for reset under threads: every vCPU counts block executions;
 * every 20000th execution anywhere asks for a reset (if none is pending),
 * whose callback registers the callbacks again. With a 16-thread guest, a
 * reset lands while other threads run the plugin's callbacks and translate:
 * nothing may crash, and the program's output stays the native one. At exit:
 * "resets: N". With the argument uninstall=on, the second request uninstalls
 * the plugin instead, while the other threads still run its callbacks: its
 * library must be closed only once none can ("unloaded" from its destructor). */
#include <qplug/qemu-plugin.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static qemu_plugin_id_t self;
static atomic_long executions;
static atomic_int pending, resets;
static int uninstall_at_end;

static void on_exec(unsigned vcpu, void *userdata);
static void report_at_exit(void *userdata);

static void on_translate(struct qemu_plugin_tb *tb, void *userdata) {
  (void)userdata;
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
}

static void register_all(void) {
  qemu_plugin_register_vcpu_tb_trans_cb(self, on_translate, NULL);
  qemu_plugin_register_atexit_cb(self, report_at_exit, NULL);
}

static void reset_done(void *userdata) {
  (void)userdata;
  atomic_fetch_add(&resets, 1);
  atomic_store(&pending, 0);
  register_all();
}

static void on_exec(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  if (atomic_fetch_add(&executions, 1) % 20000 != 19999) return;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&pending, &expected, 1)) return;
  if (uninstall_at_end && atomic_load(&resets) == 1)
    qemu_plugin_uninstall(self, NULL, NULL);
  else
    qemu_plugin_reset(self, reset_done, NULL);
}

static void report_at_exit(void *userdata) {
  (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "resets: %d\n", atomic_load(&resets));
  qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) uninstall_at_end |= !strcmp(argv[i], "uninstall=on");
  self = id;
  register_all();
  return 0;
}

__attribute__((destructor)) static void unloaded(void) {
  static const char line[] = "unloaded\n";
  if (uninstall_at_end && write(2, line, sizeof line - 1) < 0) return;
}
