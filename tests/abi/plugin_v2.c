/*
 * ABI test plugin, API version 2 (QEMU 9.0).
 *
 * v2 shapes: callbacks still receive the plugin id and registration takes no
 * userdata; counters live in a scoreboard updated by *_inline_per_vcpu;
 * num_vcpus replaces n_vcpus; registers are read with an int-returning
 * read_register; insn_data still returns a pointer. At exit, one line:
 *
 *   abi-v2: insns=N tbs=N tb_cb=N mems=N mem_cb=N syscalls=N syscall_rets=N
 *           vcpus=N num_vcpus=N rip_bytes=N with_data=N   (one line)
 *
 * rip_bytes is what read_register returned for "rip" in vcpu_init (8).
 * Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 2
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns, tbs, mems;                      /* inline */
  uint64_t tb_cb, mem_cb, syscalls, syscall_rets; /* callbacks */
  uint64_t vcpus;
} Counts;

static struct qemu_plugin_scoreboard *counts;
static struct qemu_plugin_register *rip;
static int rip_bytes = -2; /* -2: never read */
static uint64_t with_data;
static bool quiet;

#define SLOT(field) qemu_plugin_scoreboard_u64_in_struct(counts, Counts, field)

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  qemu_plugin_u64_add(SLOT(vcpus), vcpu_index, 1);
  GArray *regs = qemu_plugin_get_registers();
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (strcmp(d->name, "rip") == 0) {
      rip = d->handle;
    }
  }
  g_array_free(regs, TRUE);
  if (rip && vcpu_index == 0) {
    GByteArray *buf = g_byte_array_new();
    rip_bytes = qemu_plugin_read_register(rip, buf);
    g_byte_array_free(buf, TRUE);
  }
}

static void tb_exec(unsigned int vcpu_index, void *userdata) {
  (void)userdata;
  qemu_plugin_u64_add(SLOT(tb_cb), vcpu_index, 1);
}

static void mem_access(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                       void *userdata) {
  (void)info, (void)vaddr, (void)userdata;
  qemu_plugin_u64_add(SLOT(mem_cb), vcpu_index, 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, SLOT(tbs), 1);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const volatile uint8_t *bytes = (const volatile uint8_t *)qemu_plugin_insn_data(insn);
    if (bytes && qemu_plugin_insn_size(insn) > 0) {
      (void)bytes[0];
      with_data++;
    }
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                        SLOT(insns), 1);
    qemu_plugin_register_vcpu_mem_inline_per_vcpu(insn, QEMU_PLUGIN_MEM_RW,
                                                  QEMU_PLUGIN_INLINE_ADD_U64, SLOT(mems), 1);
    qemu_plugin_register_vcpu_mem_cb(insn, mem_access, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                     NULL);
  }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8) {
  (void)id, (void)num, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7;
  (void)a8;
  qemu_plugin_u64_add(SLOT(syscalls), vcpu_index, 1);
}

static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret) {
  (void)id, (void)num, (void)ret;
  qemu_plugin_u64_add(SLOT(syscall_rets), vcpu_idx, 1);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  if (!quiet) {
    g_autofree char *line =
        g_strdup_printf("abi-v2: insns=%" PRIu64 " tbs=%" PRIu64 " tb_cb=%" PRIu64 " mems=%" PRIu64
                        " mem_cb=%" PRIu64 " syscalls=%" PRIu64 " syscall_rets=%" PRIu64
                        " vcpus=%" PRIu64 " num_vcpus=%d rip_bytes=%d with_data=%" PRIu64 "\n",
                        qemu_plugin_u64_sum(SLOT(insns)), qemu_plugin_u64_sum(SLOT(tbs)),
                        qemu_plugin_u64_sum(SLOT(tb_cb)), qemu_plugin_u64_sum(SLOT(mems)),
                        qemu_plugin_u64_sum(SLOT(mem_cb)), qemu_plugin_u64_sum(SLOT(syscalls)),
                        qemu_plugin_u64_sum(SLOT(syscall_rets)), qemu_plugin_u64_sum(SLOT(vcpus)),
                        qemu_plugin_num_vcpus(), rip_bytes, with_data);
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
    fprintf(stderr, "abi-v2: unknown argument %s\n", argv[i]);
    return 1;
  }
  counts = qemu_plugin_scoreboard_new(sizeof(Counts));
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
