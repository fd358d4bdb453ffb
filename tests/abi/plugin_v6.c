/*
 * ABI test plugin, API version 6 (QEMU 11.0).
 *
 * New in v6: read/write_register return bool; QEMU_PLUGIN_CB_RW_REGS_PC;
 * set_pc; the syscall filter (v6 form: receives the plugin id, sysret is
 * uint64_t *). Register descriptors are still the 24-byte v2 ones (no
 * is_readonly). Callbacks still receive the plugin id. At exit, one line:
 *
 *   abi-v6: insns=N tb_cb=N syscalls=N syscall_rets=N filtered=N vcpus=N
 *           regs=N desc_size=N rip_write=true|false rax_rw=true|false
 *           (one line)
 *
 * In the first vCPU's init callback: regs counts the register descriptors,
 * desc_size is the GArray's element size (24), rip_write whether writing rip
 * succeeded (false), rax_rw whether rax could be read and written back
 * (true).
 * Filter: syscall 4096 with a1 == 0x66CCFF returns 0xFFCC66 without running
 * (counted in filtered); syscall 4097 with a1 == 0x66CCFF continues at a2
 * via set_pc. Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 6
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns;                                          /* inline */
  uint64_t tb_cb, syscalls, syscall_rets, filtered, vcpus; /* callbacks */
} Counts;

static struct qemu_plugin_scoreboard *counts;
static unsigned regs_seen, desc_size;
static bool rip_write = true, rax_rw;
static bool quiet;

#define SLOT(field) qemu_plugin_scoreboard_u64_in_struct(counts, Counts, field)
enum { kMagicSyscall = 4096, kMagicSetPc = 4097, kMagicArg = 0x66CCFF, kMagicRet = 0xFFCC66 };

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  qemu_plugin_u64_add(SLOT(vcpus), vcpu_index, 1);
  if (vcpu_index != 0) {
    return;
  }
  GArray *regs = qemu_plugin_get_registers();
  struct qemu_plugin_register *rip = NULL, *rax = NULL;
  regs_seen = regs->len;
  desc_size = g_array_get_element_size(regs);
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (strcmp(d->name, "rip") == 0) {
      rip = d->handle;
    } else if (strcmp(d->name, "rax") == 0) {
      rax = d->handle;
    }
  }
  g_array_free(regs, TRUE);
  GByteArray *buf = g_byte_array_new();
  if (rip && qemu_plugin_read_register(rip, buf)) {
    rip_write = qemu_plugin_write_register(rip, buf);
  }
  g_byte_array_set_size(buf, 0);
  rax_rw = rax && qemu_plugin_read_register(rax, buf) && qemu_plugin_write_register(rax, buf);
  g_byte_array_free(buf, TRUE);
}

static void tb_exec(unsigned int vcpu_index, void *userdata) {
  (void)userdata;
  qemu_plugin_u64_add(SLOT(tb_cb), vcpu_index, 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_RW_REGS_PC, NULL);
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(qemu_plugin_tb_get_insn(tb, i),
                                                        QEMU_PLUGIN_INLINE_ADD_U64, SLOT(insns), 1);
  }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8) {
  (void)id, (void)num, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7;
  (void)a8;
  qemu_plugin_u64_add(SLOT(syscalls), vcpu_index, 1);
}

static bool on_filter(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                      uint64_t a8, uint64_t *sysret) {
  (void)id, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  if (num == kMagicSyscall && a1 == kMagicArg) {
    qemu_plugin_u64_add(SLOT(filtered), vcpu_index, 1);
    *sysret = kMagicRet;
    return true;
  }
  if (num == kMagicSetPc && a1 == kMagicArg) {
    qemu_plugin_set_pc(a2);
  }
  return false;
}

static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret) {
  (void)id, (void)num, (void)ret;
  qemu_plugin_u64_add(SLOT(syscall_rets), vcpu_idx, 1);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  if (!quiet) {
    g_autofree char *line = g_strdup_printf(
        "abi-v6: insns=%" PRIu64 " tb_cb=%" PRIu64 " syscalls=%" PRIu64 " syscall_rets=%" PRIu64
        " filtered=%" PRIu64 " vcpus=%" PRIu64 " regs=%u desc_size=%u rip_write=%s rax_rw=%s\n",
        qemu_plugin_u64_sum(SLOT(insns)), qemu_plugin_u64_sum(SLOT(tb_cb)),
        qemu_plugin_u64_sum(SLOT(syscalls)), qemu_plugin_u64_sum(SLOT(syscall_rets)),
        qemu_plugin_u64_sum(SLOT(filtered)), qemu_plugin_u64_sum(SLOT(vcpus)), regs_seen, desc_size,
        rip_write ? "true" : "false", rax_rw ? "true" : "false");
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
    fprintf(stderr, "abi-v6: unknown argument %s\n", argv[i]);
    return 1;
  }
  counts = qemu_plugin_scoreboard_new(sizeof(Counts));
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_vcpu_syscall_filter_cb(id, on_filter);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
