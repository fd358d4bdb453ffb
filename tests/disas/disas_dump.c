/* Test plugin (API v1, so that Debian's qemu-x86_64 7.2 loads it too): logs
 * qemu_plugin_insn_disas of every instruction translated, once per address:
 *
 *   0x<vaddr> TAB <bytes, hex, space-separated> TAB <text>
 *
 * tests/disas compares these lines between qemu-x86_64 and qplug, and
 * against the lines recorded from qemu-x86_64 7.2. */
#define QEMU_PLUGIN_API_VERSION 1
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static GHashTable *seen; /* vaddrs already logged */

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
    if (!g_hash_table_add(seen, GSIZE_TO_POINTER(vaddr))) continue;
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "0x%" PRIx64 "\t", vaddr);
    for (size_t b = 0; b < qemu_plugin_insn_size(insn); b++)
      g_string_append_printf(line, b ? " %02x" : "%02x", bytes[b]);
    char *text = qemu_plugin_insn_disas(insn);
    g_string_append_printf(line, "\t%s\n", text);
    g_free(text);
    qemu_plugin_outs(line->str);
    g_string_free(line, TRUE);
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info, (void)argv;
  if (argc) return 1;
  seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  return 0;
}
