/* Test plugin: reads guest registers by name at the marker instruction of
 * reg_values.S (nopl 0x5a5a5a5a(%rax)) and, with write=on, writes some.
 * Built for API versions 2 and 5 (read_register returns the byte count),
 * 6 (returns bool) and 7 (bool, userdata callbacks). Logs, one per line:
 *   reg NAME HEX          every register, its bytes as one number, most
 *                         significant byte first
 *   write NAME ok|fail    (write=on, v5+) what write_register answered
 *   bad_return NAME       read_register answered other than the size / true
 *   rip_is_marker yes|no  rip equals the marker's address
 * The writes, which reg_values.S checks after the marker: rbx, r13, xmm3,
 * st0 (2.0), mxcsr (0x1f80), fs_base (0x123456780000); and some that must
 * fail or be ignored: rip, cs (0x23; 0x33 is accepted), cr0. */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static const uint8_t kMarker[] = {0x0f, 0x1f, 0x80, 0x5a, 0x5a, 0x5a, 0x5a};
static GArray *regs; /* qemu_plugin_reg_descriptor, in the host's order */
static bool do_write;

static struct qemu_plugin_register *handle_of(const char *name) {
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (strcmp(d->name, name) == 0) return d->handle;
  }
  return NULL;
}

static void log_line(const char *fmt, const char *name, const char *value) {
  g_autofree char *line = g_strdup_printf(fmt, name, value);
  qemu_plugin_outs(line);
}

/* The register's bytes, or NULL (and a bad_return line) on failure. */
static GByteArray *read_reg(const char *name) {
  struct qemu_plugin_register *h = handle_of(name);
  GByteArray *buf = g_byte_array_new();
#if QEMU_PLUGIN_VERSION <= 5
  const int rc = h ? qemu_plugin_read_register(h, buf) : -1;
  const bool ok = rc > 0 && (guint)rc == buf->len;
#else
  const bool ok = h && qemu_plugin_read_register(h, buf) && buf->len > 0;
#endif
  if (!ok) {
    log_line("bad_return %s%s\n", name, "");
    g_byte_array_free(buf, TRUE);
    return NULL;
  }
  return buf;
}

#if QEMU_PLUGIN_VERSION >= 5
static void write_reg(const char *name, const void *bytes, size_t size) {
  struct qemu_plugin_register *h = handle_of(name);
  GByteArray *buf = g_byte_array_new();
  g_byte_array_append(buf, bytes, (guint)size);
#if QEMU_PLUGIN_VERSION == 5
  const bool ok = h && qemu_plugin_write_register(h, buf) == (int)size;
#else
  const bool ok = h && qemu_plugin_write_register(h, buf);
#endif
  g_byte_array_free(buf, TRUE);
  log_line("write %s %s\n", name, ok ? "ok" : "fail");
}

static void write_u64(const char *name, uint64_t v, size_t size) { write_reg(name, &v, size); }

static void write_all(void) {
  uint8_t xmm[16], st[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40}; /* 2.0 */
  memset(xmm, 0xa5, sizeof xmm);
  write_u64("rbx", 0x0badc0ffee0ddf00ull, 8);
  write_u64("r13", 0x1122334455667777ull, 8);
  write_reg("xmm3", xmm, sizeof xmm);
  write_reg("st0", st, sizeof st);
  write_u64("mxcsr", 0x1f80, 4);
  write_u64("fs_base", 0x123456780000ull, 8);
  write_u64("rip", 0x401000, 8);
  write_u64("cs", 0x23, 4);
  write_u64("ss", 0x2b, 4);
  write_u64("cr0", 0, 8);
}
#endif

static void at_marker(uint64_t vaddr) {
  for (guint i = 0; i < regs->len; i++) {
    const char *name = g_array_index(regs, qemu_plugin_reg_descriptor, i).name;
    GByteArray *buf = read_reg(name);
    if (!buf) continue;
    GString *hex = g_string_new(NULL);
    for (guint b = buf->len; b-- > 0;) g_string_append_printf(hex, "%02x", buf->data[b]);
    log_line("reg %s %s\n", name, hex->str);
    if (strcmp(name, "rip") == 0) {
      uint64_t rip = 0;
      memcpy(&rip, buf->data, buf->len < 8 ? buf->len : 8);
      log_line("rip_is_marker %s%s\n", rip == vaddr ? "yes" : "no", "");
    }
    g_string_free(hex, TRUE);
    g_byte_array_free(buf, TRUE);
  }
#if QEMU_PLUGIN_VERSION >= 5
  if (do_write) {
    write_all();
    GByteArray *cr0 = read_reg("cr0"); /* the write is ignored, as in QEMU */
    GString *hex = g_string_new(NULL);
    for (guint b = cr0 ? cr0->len : 0; b-- > 0;) g_string_append_printf(hex, "%02x", cr0->data[b]);
    log_line("after_write %s %s\n", "cr0", hex->str);
    g_string_free(hex, TRUE);
    if (cr0) g_byte_array_free(cr0, TRUE);
  }
#endif
}

static void on_marker(unsigned vcpu, void *userdata) {
  (void)vcpu;
  at_marker((uint64_t)(uintptr_t)userdata);
}

static void tb_trans_body(struct qemu_plugin_tb *tb) {
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (qemu_plugin_insn_size(insn) != sizeof kMarker) continue;
#if QEMU_PLUGIN_VERSION <= 2
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
#else
    uint8_t bytes[sizeof kMarker];
    qemu_plugin_insn_data(insn, bytes, sizeof bytes);
#endif
    if (memcmp(bytes, kMarker, sizeof kMarker) != 0) continue;
    const enum qemu_plugin_cb_flags flags =
        do_write ? QEMU_PLUGIN_CB_RW_REGS : QEMU_PLUGIN_CB_R_REGS;
    qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, flags,
                                           (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
  }
}

static void vcpu_init_body(unsigned vcpu) {
  if (vcpu == 0) regs = qemu_plugin_get_registers();
}

#if QEMU_PLUGIN_VERSION <= 6
static void vcpu_init(qemu_plugin_id_t id, unsigned vcpu) {
  (void)id;
  vcpu_init_body(vcpu);
}
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  tb_trans_body(tb);
}
#else
static void vcpu_init(unsigned vcpu, void *userdata) {
  (void)userdata;
  vcpu_init_body(vcpu);
}
static void tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  (void)userdata;
  tb_trans_body(tb);
}
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (g_str_has_prefix(argv[i], "write=") &&
        qemu_plugin_bool_parse("write", argv[i] + 6, &do_write))
      continue;
    return 1;
  }
#if QEMU_PLUGIN_VERSION <= 6
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
#else
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans, NULL);
#endif
  return 0;
}
