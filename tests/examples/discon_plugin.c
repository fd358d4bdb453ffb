/* Test plugin for the discontinuity callbacks (API v5+; built as v5, whose
 * callback takes the plugin id, and as v7, which passes userdata instead).
 * Registers for the types given by type=all|exception|interrupt|hostcall
 * (default all) and prints every discontinuity, with the guest's rip as the
 * callback reads it, then the count at exit:
 *   discon type=2 from=0x... to=0x...
 *   discon rip=0x...
 *   discons: N */
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static struct qemu_plugin_register *rip;
static uint64_t count;

static void find_rip(void) {
  GArray *regs = qemu_plugin_get_registers();
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (!strcmp(d->name, "rip")) rip = d->handle;
  }
  g_array_free(regs, TRUE);
}

static void report(enum qemu_plugin_discon_type type, uint64_t from_pc, uint64_t to_pc) {
  char line[160];
  count++;
  snprintf(line, sizeof line, "discon type=%d from=0x%" PRIx64 " to=0x%" PRIx64 "\n", (int)type,
           from_pc, to_pc);
  qemu_plugin_outs(line);
  /* QEMU lets discontinuity callbacks read registers. */
  if (!rip) find_rip();
  GByteArray *buf = g_byte_array_new();
  uint64_t value = 0;
  if (rip && qemu_plugin_read_register(rip, buf) && buf->len == 8) memcpy(&value, buf->data, 8);
  g_byte_array_free(buf, TRUE);
  snprintf(line, sizeof line, "discon rip=0x%" PRIx64 "\n", value);
  qemu_plugin_outs(line);
}

#if QEMU_PLUGIN_API_VERSION >= 7
static void on_discon(unsigned int vcpu, enum qemu_plugin_discon_type type, uint64_t from_pc,
                      uint64_t to_pc, void *userdata) {
  (void)vcpu, (void)userdata;
  report(type, from_pc, to_pc);
}
#else
static void on_discon(qemu_plugin_id_t id, unsigned int vcpu, enum qemu_plugin_discon_type type,
                      uint64_t from_pc, uint64_t to_pc) {
  (void)id, (void)vcpu;
  report(type, from_pc, to_pc);
}
#endif

static void on_exit_report(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "discons: %" PRIu64 "\n", count);
  qemu_plugin_outs(line);
}

#if QEMU_PLUGIN_API_VERSION >= 7
static void on_exit_v7(void *userdata) { on_exit_report(0, userdata); }
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  enum qemu_plugin_discon_type type = QEMU_PLUGIN_DISCON_ALL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "type=exception"))
      type = QEMU_PLUGIN_DISCON_EXCEPTION;
    else if (!strcmp(argv[i], "type=interrupt"))
      type = QEMU_PLUGIN_DISCON_INTERRUPT;
    else if (!strcmp(argv[i], "type=hostcall"))
      type = QEMU_PLUGIN_DISCON_HOSTCALL;
    else if (strcmp(argv[i], "type=all")) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }
#if QEMU_PLUGIN_API_VERSION >= 7
  qemu_plugin_register_vcpu_discon_cb(id, type, on_discon, NULL);
  qemu_plugin_register_atexit_cb(id, on_exit_v7, NULL);
#else
  qemu_plugin_register_vcpu_discon_cb(id, type, on_discon);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
#endif
  return 0;
}
