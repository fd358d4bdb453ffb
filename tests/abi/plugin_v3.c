/*
 * ABI test plugin, API version 3 (QEMU 9.1).
 *
 * New in v3: insn_data copies into a caller buffer; conditional callbacks;
 * QEMU_PLUGIN_INLINE_STORE_U64; time control. Callbacks still receive the
 * plugin id. At exit, one line:
 *
 *   abi-v3: insns=N tbs=N tb_cb=N syscalls=N syscall_rets=N vcpus=N
 *           num_vcpus=N ran=N milestones=N time_control=null|handle
 *           with_data=N   (one line)
 *
 * ran: vCPUs whose "ran" slot an inline STORE set to 1.
 * milestones: a conditional callback fires when a vCPU's "tick" slot, bumped
 * inline at each block entry, reaches 1000 (EQ), and resets it, so
 * milestones == tbs / 1000 (rounded down) on a single-threaded guest.
 * Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 3
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns, tbs, tick, ran;         /* inline */
  uint64_t tb_cb, syscalls, syscall_rets; /* callbacks */
  uint64_t vcpus, milestones;
} Counts;

static struct qemu_plugin_scoreboard *counts;
static const void *time_handle;
static uint64_t with_data;
static bool quiet;

#define SLOT(field) qemu_plugin_scoreboard_u64_in_struct(counts, Counts, field)
enum { kTicksPerMilestone = 1000 };

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  qemu_plugin_u64_add(SLOT(vcpus), vcpu_index, 1);
}

static void tb_exec(unsigned int vcpu_index, void *userdata) {
  (void)userdata;
  qemu_plugin_u64_add(SLOT(tb_cb), vcpu_index, 1);
}

static void milestone(unsigned int vcpu_index, void *userdata) {
  (void)userdata;
  qemu_plugin_u64_add(SLOT(milestones), vcpu_index, 1);
  qemu_plugin_u64_set(SLOT(tick), vcpu_index, 0);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, SLOT(tbs), 1);
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_STORE_U64, SLOT(ran), 1);
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, SLOT(tick), 1);
  qemu_plugin_register_vcpu_tb_exec_cond_cb(tb, milestone, QEMU_PLUGIN_CB_NO_REGS,
                                            QEMU_PLUGIN_COND_EQ, SLOT(tick), kTicksPerMilestone,
                                            NULL);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint8_t bytes[16];
    size_t size = qemu_plugin_insn_size(insn);
    if (size > 0 && qemu_plugin_insn_data(insn, bytes, sizeof bytes) == MIN(size, sizeof bytes)) {
      with_data++;
    }
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                        SLOT(insns), 1);
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
    g_autofree char *line = g_strdup_printf(
        "abi-v3: insns=%" PRIu64 " tbs=%" PRIu64 " tb_cb=%" PRIu64 " syscalls=%" PRIu64
        " syscall_rets=%" PRIu64 " vcpus=%" PRIu64 " num_vcpus=%d ran=%" PRIu64
        " milestones=%" PRIu64 " time_control=%s with_data=%" PRIu64 "\n",
        qemu_plugin_u64_sum(SLOT(insns)), qemu_plugin_u64_sum(SLOT(tbs)),
        qemu_plugin_u64_sum(SLOT(tb_cb)), qemu_plugin_u64_sum(SLOT(syscalls)),
        qemu_plugin_u64_sum(SLOT(syscall_rets)), qemu_plugin_u64_sum(SLOT(vcpus)),
        qemu_plugin_num_vcpus(), qemu_plugin_u64_sum(SLOT(ran)),
        qemu_plugin_u64_sum(SLOT(milestones)), time_handle ? "handle" : "null", with_data);
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
    fprintf(stderr, "abi-v3: unknown argument %s\n", argv[i]);
    return 1;
  }
  counts = qemu_plugin_scoreboard_new(sizeof(Counts));
  time_handle = qemu_plugin_request_time_control(); /* NULL in user mode */
  if (time_handle) {
    qemu_plugin_update_ns(time_handle, 0);
  }
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
