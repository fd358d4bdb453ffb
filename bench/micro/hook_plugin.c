/*
 * hook_plugin: instruments every guest block, instruction or access with one
 * hook kind, for the microbenchmarks (bench/micro). One argument:
 *
 *   hook=KIND   (required)
 *     trans            a tb_trans callback that registers nothing
 *     tb-inline-add    inline ADD on block entry (v1: a plain counter, v2+: a scoreboard)
 *     tb-inline-store  inline STORE on block entry (API v3+)
 *     insn-inline-add  inline ADD before each instruction
 *     tb-cond-taken    conditional block callback whose condition is always true (v3+):
 *                      slot == 0, the slot never changes
 *     tb-cond-not-taken    conditional block callback, condition never true (slot != 0)
 *     insn-cond-taken, insn-cond-not-taken   the same per instruction (v3+)
 *     tb-cb            block execution callback (QEMU_PLUGIN_CB_NO_REGS)
 *     insn-cb          instruction execution callback
 *     mem-cb           memory callback on loads and stores
 *     mem-cb-value     memory callback that also calls qemu_plugin_mem_get_value (v4+)
 *     syscall-cb       system call callback
 *
 * At exit it prints (with -d plugin) "hook_plugin: hook=KIND count=N": the
 * number of events it saw (callback calls, or the inline counter's sum; the
 * value stored for tb-inline-store, which is 1 once a block ran). The
 * benchmark checks N against the guest's known event counts.
 *
 * Built twice: against API v7 (libqplug_bench_hook.so, for qplug) and API v1
 * (libqplug_bench_hook_v1.so, for Debian's qemu-x86_64 7.2), where the kinds
 * needing v3+ are refused at install.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1 && QEMU_PLUGIN_VERSION < 7
#error "hook_plugin.c builds against API v1 or v7"
#endif

enum hook {
  HOOK_TRANS,
  HOOK_TB_INLINE_ADD,
  HOOK_TB_INLINE_STORE,
  HOOK_INSN_INLINE_ADD,
  HOOK_TB_COND_TAKEN,
  HOOK_TB_COND_NOT_TAKEN,
  HOOK_INSN_COND_TAKEN,
  HOOK_INSN_COND_NOT_TAKEN,
  HOOK_TB_CB,
  HOOK_INSN_CB,
  HOOK_MEM_CB,
  HOOK_MEM_CB_VALUE,
  HOOK_SYSCALL_CB,
};

static const struct {
  const char *name;
  int min_api;
} hooks[] = {
    [HOOK_TRANS] = {"trans", 1},
    [HOOK_TB_INLINE_ADD] = {"tb-inline-add", 1},
    [HOOK_TB_INLINE_STORE] = {"tb-inline-store", 3},
    [HOOK_INSN_INLINE_ADD] = {"insn-inline-add", 1},
    [HOOK_TB_COND_TAKEN] = {"tb-cond-taken", 3},
    [HOOK_TB_COND_NOT_TAKEN] = {"tb-cond-not-taken", 3},
    [HOOK_INSN_COND_TAKEN] = {"insn-cond-taken", 3},
    [HOOK_INSN_COND_NOT_TAKEN] = {"insn-cond-not-taken", 3},
    [HOOK_TB_CB] = {"tb-cb", 1},
    [HOOK_INSN_CB] = {"insn-cb", 1},
    [HOOK_MEM_CB] = {"mem-cb", 1},
    [HOOK_MEM_CB_VALUE] = {"mem-cb-value", 4},
    [HOOK_SYSCALL_CB] = {"syscall-cb", 1},
};

static enum hook hook;
/* Callback counts (one vCPU in the benchmarks; callbacks of one vCPU never overlap). */
static uint64_t calls;
static G_GNUC_UNUSED uint64_t value_sink; /* API v4+ builds */

static void on_exec(unsigned int vcpu_index, void *userdata) { calls++; }

static void on_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                   void *userdata) {
  calls++;
#if QEMU_PLUGIN_VERSION >= 4
  if (hook == HOOK_MEM_CB_VALUE) {
    qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);
    value_sink ^= v.data.u64;
  }
#endif
}

#if QEMU_PLUGIN_VERSION == 1
/* ---------------------------------------------------------------- v1 --- */
static uint64_t counter;

static uint64_t inline_count(void) { return counter; }

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8) {
  calls++;
}

static void tb_inline(struct qemu_plugin_tb *tb) {
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counter, 1);
}

static void insn_inline(struct qemu_plugin_insn *insn) {
  qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counter, 1);
}
#else
/* ---------------------------------------------------------------- v7 --- */
static struct qemu_plugin_scoreboard *board;
static qemu_plugin_u64 counter;
static qemu_plugin_u64 zero; /* stays 0: the slot the conditions test */

typedef struct {
  uint64_t counter;
  uint64_t zero;
} Slots;

static uint64_t inline_count(void) { return qemu_plugin_u64_sum(counter); }

static void on_syscall(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8,
                       void *userdata) {
  calls++;
}

static void tb_inline(struct qemu_plugin_tb *tb) {
  enum qemu_plugin_op op =
      hook == HOOK_TB_INLINE_STORE ? QEMU_PLUGIN_INLINE_STORE_U64 : QEMU_PLUGIN_INLINE_ADD_U64;
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, op, counter, 1);
}

static void insn_inline(struct qemu_plugin_insn *insn) {
  qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, counter, 1);
}
#endif

static void tb_trans(struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  switch (hook) {
    case HOOK_TRANS:
    case HOOK_SYSCALL_CB:
      return;
    case HOOK_TB_INLINE_ADD:
    case HOOK_TB_INLINE_STORE:
      tb_inline(tb);
      return;
    case HOOK_TB_CB:
      qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
      return;
#if QEMU_PLUGIN_VERSION >= 3
    case HOOK_TB_COND_TAKEN:
    case HOOK_TB_COND_NOT_TAKEN:
      qemu_plugin_register_vcpu_tb_exec_cond_cb(
          tb, on_exec, QEMU_PLUGIN_CB_NO_REGS,
          hook == HOOK_TB_COND_TAKEN ? QEMU_PLUGIN_COND_EQ : QEMU_PLUGIN_COND_NE, zero, 0, NULL);
      return;
#endif
    default:
      break;
  }
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    switch (hook) {
      case HOOK_INSN_INLINE_ADD:
        insn_inline(insn);
        break;
      case HOOK_INSN_CB:
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
        break;
#if QEMU_PLUGIN_VERSION >= 3
      case HOOK_INSN_COND_TAKEN:
      case HOOK_INSN_COND_NOT_TAKEN:
        qemu_plugin_register_vcpu_insn_exec_cond_cb(
            insn, on_exec, QEMU_PLUGIN_CB_NO_REGS,
            hook == HOOK_INSN_COND_TAKEN ? QEMU_PLUGIN_COND_EQ : QEMU_PLUGIN_COND_NE, zero, 0,
            NULL);
        break;
#endif
      case HOOK_MEM_CB:
      case HOOK_MEM_CB_VALUE:
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                         NULL);
        break;
      default:
        break;
    }
  }
}

static void report(void) {
  bool inl =
      hook == HOOK_TB_INLINE_ADD || hook == HOOK_TB_INLINE_STORE || hook == HOOK_INSN_INLINE_ADD;
  char line[128];
  snprintf(line, sizeof line, "hook_plugin: hook=%s count=%" PRIu64 "\n", hooks[hook].name,
           inl ? inline_count() : calls);
  qemu_plugin_outs(line);
}

#if QEMU_PLUGIN_VERSION == 1
static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) { tb_trans(tb); }
static void plugin_exit(qemu_plugin_id_t id, void *userdata) { report(); }
#else
static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) { tb_trans(tb); }
static void plugin_exit(void *userdata) {
  report();
  qemu_plugin_scoreboard_free(board);
}
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  bool found = false;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "hook=", 5) != 0) {
      fprintf(stderr, "hook_plugin: unknown argument '%s' (want hook=KIND)\n", argv[i]);
      return -1;
    }
    found = false;
    for (size_t h = 0; h < G_N_ELEMENTS(hooks); h++) {
      if (strcmp(argv[i] + 5, hooks[h].name) == 0) {
        hook = (enum hook)h;
        found = true;
      }
    }
    if (!found) {
      fprintf(stderr, "hook_plugin: unknown hook '%s'\n", argv[i] + 5);
      return -1;
    }
  }
  if (!found) {
    fprintf(stderr, "hook_plugin: missing hook=KIND\n");
    return -1;
  }
  if (hooks[hook].min_api > QEMU_PLUGIN_VERSION) {
    fprintf(stderr, "hook_plugin: hook=%s needs plugin API v%d, this build is v%d\n",
            hooks[hook].name, hooks[hook].min_api, QEMU_PLUGIN_VERSION);
    return -1;
  }
  /* syscall-cb measures the system call hook alone: no tb_trans callback. */
#if QEMU_PLUGIN_VERSION == 1
  if (hook == HOOK_SYSCALL_CB) {
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  } else {
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
  }
#else
  board = qemu_plugin_scoreboard_new(sizeof(Slots));
  counter = qemu_plugin_scoreboard_u64_in_struct(board, Slots, counter);
  zero = qemu_plugin_scoreboard_u64_in_struct(board, Slots, zero);
  if (hook == HOOK_SYSCALL_CB) {
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall, NULL);
  } else {
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  }
#endif
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
