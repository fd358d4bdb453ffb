/*
 * ABI test plugin, API version 5 (QEMU 10.1 - 10.2).
 *
 * New in v5: write_memory_vaddr, read/write_memory_hwaddr, write_register
 * (returning int), translate_vaddr, and the discontinuity callback (v5 form:
 * receives the plugin id). At exit, one line:
 *
 *   abi-v5: insns=N syscalls=N syscall_rets=N vcpus=N discons=N
 *           translate=true|false hwaddr=ok|error rax_read=N rax_write=N
 *           rewrites=N   (one line)
 *
 * rax_read / rax_write: what read_register / write_register returned in the
 * first vCPU's init callback (8 and 8; the value written is the one read).
 * rewrites: write(2) buffers on fd 1 and 2 read and written back unchanged
 * through the vaddr API. discons stays 0 (the program raises no exception), translate is false
 * and hwaddr is error.
 * Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 5
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns;                                            /* inline */
  uint64_t syscalls, syscall_rets, vcpus, discons, rewrites; /* callbacks */
} Counts;

static struct qemu_plugin_scoreboard *counts;
static int rax_read = -2, rax_write = -2; /* -2: never called */
static int translate_state = -1;          /* -1: never called */
static enum qemu_plugin_hwaddr_operation_result hwaddr_result = QEMU_PLUGIN_HWADDR_OPERATION_OK;
static bool quiet;

#define SLOT(field) qemu_plugin_scoreboard_u64_in_struct(counts, Counts, field)
enum { kSysWrite = 1 };

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  qemu_plugin_u64_add(SLOT(vcpus), vcpu_index, 1);
  if (vcpu_index != 0) {
    return;
  }
  GArray *regs = qemu_plugin_get_registers();
  struct qemu_plugin_register *rax = NULL;
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (strcmp(d->name, "rax") == 0) {
      rax = d->handle;
    }
  }
  g_array_free(regs, TRUE);
  if (rax) {
    GByteArray *buf = g_byte_array_new();
    rax_read = qemu_plugin_read_register(rax, buf);
    if (rax_read > 0) {
      rax_write = qemu_plugin_write_register(rax, buf);
    }
    g_byte_array_free(buf, TRUE);
  }
}

static void discon(qemu_plugin_id_t id, unsigned int vcpu_index, enum qemu_plugin_discon_type type,
                   uint64_t from_pc, uint64_t to_pc) {
  (void)id, (void)type, (void)from_pc, (void)to_pc;
  qemu_plugin_u64_add(SLOT(discons), vcpu_index, 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  if (translate_state < 0) {
    uint64_t hwaddr = 0;
    translate_state = qemu_plugin_translate_vaddr(qemu_plugin_tb_vaddr(tb), &hwaddr);
    GByteArray *data = g_byte_array_new();
    hwaddr_result = qemu_plugin_read_memory_hwaddr(hwaddr, data, 1);
    g_byte_array_free(data, TRUE);
  }
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(qemu_plugin_tb_get_insn(tb, i),
                                                        QEMU_PLUGIN_INLINE_ADD_U64, SLOT(insns), 1);
  }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8) {
  (void)id, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  qemu_plugin_u64_add(SLOT(syscalls), vcpu_index, 1);
  if (num == kSysWrite && (a1 == 1 || a1 == 2) && a3 > 0) {
    GByteArray *data = g_byte_array_new();
    if (qemu_plugin_read_memory_vaddr(a2, data, a3) && qemu_plugin_write_memory_vaddr(a2, data)) {
      qemu_plugin_u64_add(SLOT(rewrites), vcpu_index, 1);
    }
    g_byte_array_free(data, TRUE);
  }
}

static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret) {
  (void)id, (void)num, (void)ret;
  qemu_plugin_u64_add(SLOT(syscall_rets), vcpu_idx, 1);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  if (!quiet) {
    g_autofree char *line =
        g_strdup_printf("abi-v5: insns=%" PRIu64 " syscalls=%" PRIu64 " syscall_rets=%" PRIu64
                        " vcpus=%" PRIu64 " discons=%" PRIu64
                        " translate=%s hwaddr=%s rax_read=%d rax_write=%d rewrites=%" PRIu64 "\n",
                        qemu_plugin_u64_sum(SLOT(insns)), qemu_plugin_u64_sum(SLOT(syscalls)),
                        qemu_plugin_u64_sum(SLOT(syscall_rets)), qemu_plugin_u64_sum(SLOT(vcpus)),
                        qemu_plugin_u64_sum(SLOT(discons)), translate_state > 0 ? "true" : "false",
                        hwaddr_result == QEMU_PLUGIN_HWADDR_OPERATION_OK ? "ok" : "error", rax_read,
                        rax_write, qemu_plugin_u64_sum(SLOT(rewrites)));
    qemu_plugin_outs(line);
  }
  qemu_plugin_scoreboard_free(counts);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  if (info->version.min > QEMU_PLUGIN_VERSION || info->version.cur < QEMU_PLUGIN_VERSION) {
    return 1;
  }
  for (int i = 0; i < argc; i++) {
    if (g_str_has_prefix(argv[i], "quiet=") &&
        qemu_plugin_bool_parse("quiet", argv[i] + 6, &quiet)) {
      continue;
    }
    fprintf(stderr, "abi-v5: unknown argument %s\n", argv[i]);
    return 1;
  }
  counts = qemu_plugin_scoreboard_new(sizeof(Counts));
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_discon_cb(id, QEMU_PLUGIN_DISCON_ALL, discon);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
