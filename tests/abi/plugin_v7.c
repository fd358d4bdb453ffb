/*
 * ABI test plugin, API version 7 (QEMU 11.1).
 *
 * New in v7: every registration takes userdata and no callback receives the
 * plugin id (atexit callbacks get only userdata; simple cb types are gone).
 * Every callback here gets the same State pointer and checks it. At exit,
 * one line:
 *
 *   abi-v7: insns=N tbs=N syscalls=N syscall_rets=N filtered=N vcpus=N
 *           for_each=N flushes=N bad_userdata=N regs=N desc_size=N
 *           readonly=NAME,...   (one line)
 *
 * for_each: vCPUs visited by qemu_plugin_vcpu_for_each at exit.
 * bad_userdata: callbacks that received the wrong userdata (must be 0).
 * regs, desc_size, readonly: in the first vCPU's init callback, the number of
 * register descriptors, the GArray's element size (32: v7 adds is_readonly)
 * and the registers marked read-only ("rip" alone, as in QEMU).
 * Filter: syscall 4096 with a1 == 0x66CCFF returns 0xFFCC66 without running.
 * Arguments: "quiet=on" suppresses the line.
 */
#define QEMU_PLUGIN_API_VERSION 7
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
  uint64_t insns, tbs;                              /* inline */
  uint64_t syscalls, syscall_rets, filtered, vcpus; /* callbacks */
} Counts;

typedef struct {
  qemu_plugin_id_t id; /* v7 callbacks no longer receive it */
  struct qemu_plugin_scoreboard *counts;
  uint64_t for_each, flushes, bad_userdata;
  unsigned regs, desc_size;
  GString *readonly;
  bool quiet;
} State;

static State state;

#define SLOT(s, field) qemu_plugin_scoreboard_u64_in_struct((s)->counts, Counts, field)
enum { kMagicSyscall = 4096, kMagicArg = 0x66CCFF, kMagicRet = 0xFFCC66 };

static State *check(void *userdata) {
  if (userdata != &state) {
    __atomic_fetch_add(&state.bad_userdata, 1, __ATOMIC_RELAXED);
  }
  return &state;
}

static void vcpu_init(unsigned int vcpu_index, void *userdata) {
  State *s = check(userdata);
  qemu_plugin_u64_add(SLOT(s, vcpus), vcpu_index, 1);
  if (vcpu_index != 0) {
    return;
  }
  GArray *regs = qemu_plugin_get_registers();
  s->regs = regs->len;
  s->desc_size = g_array_get_element_size(regs);
  for (guint i = 0; i < regs->len; i++) {
    qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (d->is_readonly) {
      g_string_append_printf(s->readonly, "%s%s", s->readonly->len ? "," : "", d->name);
    }
  }
  g_array_free(regs, TRUE);
}

static void vcpu_event(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  check(userdata);
}

static void discon(unsigned int vcpu_index, enum qemu_plugin_discon_type type, uint64_t from_pc,
                   uint64_t to_pc, void *userdata) {
  (void)vcpu_index, (void)type, (void)from_pc, (void)to_pc;
  check(userdata);
}

static void tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  State *s = check(userdata);
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, SLOT(s, tbs),
                                                    1);
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
        qemu_plugin_tb_get_insn(tb, i), QEMU_PLUGIN_INLINE_ADD_U64, SLOT(s, insns), 1);
  }
}

static void on_syscall(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8,
                       void *userdata) {
  (void)num, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  State *s = check(userdata);
  qemu_plugin_u64_add(SLOT(s, syscalls), vcpu_index, 1);
}

static bool on_filter(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8,
                      int64_t *sysret, void *userdata) {
  (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  State *s = check(userdata);
  if (num == kMagicSyscall && a1 == kMagicArg) {
    qemu_plugin_u64_add(SLOT(s, filtered), vcpu_index, 1);
    *sysret = kMagicRet;
    return true;
  }
  return false;
}

static void on_syscall_ret(unsigned int vcpu_index, int64_t num, int64_t ret, void *userdata) {
  (void)num, (void)ret;
  State *s = check(userdata);
  qemu_plugin_u64_add(SLOT(s, syscall_rets), vcpu_index, 1);
}

static void on_flush(void *userdata) {
  State *s = check(userdata);
  s->flushes++;
}

static void count_vcpu(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  State *s = check(userdata);
  s->for_each++;
}

static void at_exit(void *userdata) {
  State *s = check(userdata);
  qemu_plugin_vcpu_for_each(s->id, count_vcpu, s);
  if (!s->quiet) {
    g_autofree char *line = g_strdup_printf(
        "abi-v7: insns=%" PRIu64 " tbs=%" PRIu64 " syscalls=%" PRIu64 " syscall_rets=%" PRIu64
        " filtered=%" PRIu64 " vcpus=%" PRIu64 " for_each=%" PRIu64 " flushes=%" PRIu64
        " bad_userdata=%" PRIu64 " regs=%u desc_size=%u readonly=%s\n",
        qemu_plugin_u64_sum(SLOT(s, insns)), qemu_plugin_u64_sum(SLOT(s, tbs)),
        qemu_plugin_u64_sum(SLOT(s, syscalls)), qemu_plugin_u64_sum(SLOT(s, syscall_rets)),
        qemu_plugin_u64_sum(SLOT(s, filtered)), qemu_plugin_u64_sum(SLOT(s, vcpus)), s->for_each,
        s->flushes, s->bad_userdata, s->regs, s->desc_size,
        s->readonly->len ? s->readonly->str : "none");
    qemu_plugin_outs(line);
  }
  qemu_plugin_scoreboard_free(s->counts);
  g_string_free(s->readonly, TRUE);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  if (info->version.min > QEMU_PLUGIN_VERSION || info->version.cur < QEMU_PLUGIN_VERSION) {
    return 1;
  }
  for (int i = 0; i < argc; i++) {
    if (g_str_has_prefix(argv[i], "quiet=") &&
        qemu_plugin_bool_parse("quiet", argv[i] + 6, &state.quiet)) {
      continue;
    }
    fprintf(stderr, "abi-v7: unknown argument %s\n", argv[i]);
    return 1;
  }
  state.id = id;
  state.readonly = g_string_new(NULL);
  state.counts = qemu_plugin_scoreboard_new(sizeof(Counts));
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init, &state);
  qemu_plugin_register_vcpu_exit_cb(id, vcpu_event, &state);
  qemu_plugin_register_vcpu_idle_cb(id, vcpu_event, &state);
  qemu_plugin_register_vcpu_resume_cb(id, vcpu_event, &state);
  qemu_plugin_register_vcpu_discon_cb(id, QEMU_PLUGIN_DISCON_ALL, discon, &state);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans, &state);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall, &state);
  qemu_plugin_register_vcpu_syscall_filter_cb(id, on_filter, &state);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret, &state);
  qemu_plugin_register_flush_cb(id, on_flush, &state);
  qemu_plugin_register_atexit_cb(id, at_exit, &state);
  return 0;
}
