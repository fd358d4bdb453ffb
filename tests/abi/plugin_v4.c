/*
 * ABI test plugin, API version 4 (QEMU 9.2 - 10.0).
 *
 * New in v4: read_memory_vaddr and mem_get_value. Callbacks still receive
 * the plugin id. At exit, one line:
 *
 *   abi-v4: insns=N mems=N mem_cb=N value_ok=N syscalls=N syscall_rets=N
 *           vcpus=N num_vcpus=N write_bytes=N write_read=N   (one line)
 *
 * value_ok: memory callbacks whose mem_get_value type matches the access
 * size (equals mem_cb when the host gets it right).
 * write_bytes: bytes passed to write(2) on fd 1 and 2 (syscall 1).
 * write_read: how many of them read_memory_vaddr read back from the guest
 * (equals write_bytes when the host gets it right).
 * Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 4
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns, mems;                                     /* inline */
  uint64_t mem_cb, value_ok, syscalls, syscall_rets, vcpus; /* callbacks */
  uint64_t write_bytes, write_read;
} Counts;

static struct qemu_plugin_scoreboard *counts;
static bool quiet;

#define SLOT(field) qemu_plugin_scoreboard_u64_in_struct(counts, Counts, field)
enum { kSysWrite = 1 };

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  qemu_plugin_u64_add(SLOT(vcpus), vcpu_index, 1);
}

static void mem_access(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                       void *userdata) {
  (void)vaddr, (void)userdata;
  qemu_plugin_u64_add(SLOT(mem_cb), vcpu_index, 1);
  qemu_plugin_mem_value value = qemu_plugin_mem_get_value(info);
  if ((unsigned)value.type == qemu_plugin_mem_size_shift(info)) {
    qemu_plugin_u64_add(SLOT(value_ok), vcpu_index, 1);
  }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
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
  (void)id, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  qemu_plugin_u64_add(SLOT(syscalls), vcpu_index, 1);
  if (num == kSysWrite && (a1 == 1 || a1 == 2) && a3 > 0) {
    qemu_plugin_u64_add(SLOT(write_bytes), vcpu_index, a3);
    GByteArray *data = g_byte_array_new();
    if (qemu_plugin_read_memory_vaddr(a2, data, a3) && data->len == a3) {
      qemu_plugin_u64_add(SLOT(write_read), vcpu_index, data->len);
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
    g_autofree char *line = g_strdup_printf(
        "abi-v4: insns=%" PRIu64 " mems=%" PRIu64 " mem_cb=%" PRIu64 " value_ok=%" PRIu64
        " syscalls=%" PRIu64 " syscall_rets=%" PRIu64 " vcpus=%" PRIu64
        " num_vcpus=%d write_bytes=%" PRIu64 " write_read=%" PRIu64 "\n",
        qemu_plugin_u64_sum(SLOT(insns)), qemu_plugin_u64_sum(SLOT(mems)),
        qemu_plugin_u64_sum(SLOT(mem_cb)), qemu_plugin_u64_sum(SLOT(value_ok)),
        qemu_plugin_u64_sum(SLOT(syscalls)), qemu_plugin_u64_sum(SLOT(syscall_rets)),
        qemu_plugin_u64_sum(SLOT(vcpus)), qemu_plugin_num_vcpus(),
        qemu_plugin_u64_sum(SLOT(write_bytes)), qemu_plugin_u64_sum(SLOT(write_read)));
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
    fprintf(stderr, "abi-v4: unknown argument %s\n", argv[i]);
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
