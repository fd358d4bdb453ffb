/* Test plugin for qemu_plugin_set_pc and register access: every `syscall`
 * instruction executed with rax == 1 (write) is skipped: the callback sets rax
 * to the byte count (rdx), as if the write had succeeded, and moves the pc
 * past the instruction. The program then prints nothing but behaves as if it
 * had. At exit: "skipped writes: N". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qplug/qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static struct qemu_plugin_register *rax, *rdx;
static uint64_t skipped;

static uint64_t read_reg(struct qemu_plugin_register *reg) {
  GByteArray *buf = g_byte_array_new();
  uint64_t value = 0;
  if (qemu_plugin_read_register(reg, buf)) memcpy(&value, buf->data, sizeof value);
  g_byte_array_free(buf, TRUE);
  return value;
}

static void find_registers(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  GArray *regs = qemu_plugin_get_registers();
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (!strcmp(d->name, "rax")) rax = d->handle;
    if (!strcmp(d->name, "rdx")) rdx = d->handle;
  }
  g_array_free(regs, TRUE);
}

static void on_syscall_insn(unsigned vcpu, void *next_pc) {
  (void)vcpu;
  if (read_reg(rax) != 1) return;
  uint64_t count = read_reg(rdx);
  GByteArray *buf = g_byte_array_new();
  g_byte_array_append(buf, (const guint8 *)&count, sizeof count);
  qemu_plugin_write_register(rax, buf);
  g_byte_array_free(buf, TRUE);
  skipped++;
  qemu_plugin_set_pc((uint64_t)(uintptr_t)next_pc);
}

static void on_translate(struct qemu_plugin_tb *tb, void *userdata) {
  (void)userdata;
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint8_t bytes[2];
    if (qemu_plugin_insn_data(insn, bytes, 2) == 2 && bytes[0] == 0x0f && bytes[1] == 0x05) {
      uint64_t next = qemu_plugin_insn_vaddr(insn) + qemu_plugin_insn_size(insn);
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_syscall_insn, QEMU_PLUGIN_CB_RW_REGS_PC,
                                             (void *)(uintptr_t)next);
    }
  }
}

static void on_exit_report(void *userdata) {
  (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "skipped writes: %" PRIu64 "\n", skipped);
  qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info, (void)argc, (void)argv;
  qemu_plugin_register_vcpu_init_cb(id, find_registers, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate, NULL);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
  return 0;
}
