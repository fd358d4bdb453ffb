/*
 * bb: count executed translation blocks ("bb's") and instructions.
 *
 * Arguments (booleans take on|yes|true|y / off|no|false|n):
 *   inline=BOOL  count with inline add operations instead of a callback
 *   idle=BOOL    also report the counts of a vCPU when it goes idle
 *
 * Output at exit, API v2 and later: one line per vCPU with a non-zero count,
 *   CPU<n>: bb's: <blocks>, insns: <insns>
 * then
 *   Total: bb's: <blocks>, insns: <insns>
 * Built against API v1 (QEMU 7.2) the plugin prints, in user mode, the single
 * line "bb's: <blocks>, insns: <insns>".
 *
 * Written for qplug from the documented behaviour of QEMU's tests/tcg/plugins/bb.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1 && QEMU_PLUGIN_VERSION < 7
#error "bb.c builds against API v1 or v7"
#endif

static bool do_inline;
static bool idle_report;

#if QEMU_PLUGIN_VERSION == 1
/* ---------------------------------------------------------------- v1 --- */

typedef struct {
  GMutex lock;
  int index;
  uint64_t bb_count;
  uint64_t insn_count;
} CPUCount;

/* In user mode (and with inline counting) everything goes into one counter. */
static CPUCount global_count;
static CPUCount *counts;
static int max_cpus;

static void append_cpu_report(GString *report, const CPUCount *count) {
  if (count->bb_count) {
    g_string_append_printf(report, "CPU%d: bb's: %" PRIu64 ", insns: %" PRIu64 "\n", count->index,
                           count->bb_count, count->insn_count);
  }
}

static void plugin_exit(qemu_plugin_id_t id, void *userdata) {
  GString *report = g_string_new("");
  if (do_inline || !max_cpus) {
    g_string_printf(report, "bb's: %" PRIu64 ", insns: %" PRIu64 "\n", global_count.bb_count,
                    global_count.insn_count);
  } else {
    for (int i = 0; i < max_cpus; i++) {
      append_cpu_report(report, &counts[i]);
    }
  }
  qemu_plugin_outs(report->str);
  g_string_free(report, TRUE);
}

static void vcpu_idle(qemu_plugin_id_t id, unsigned int cpu_index) {
  CPUCount *count = max_cpus ? &counts[cpu_index % max_cpus] : &global_count;
  if (count->bb_count) {
    GString *report = g_string_new("Idling ");
    append_cpu_report(report, count);
    qemu_plugin_outs(report->str);
    g_string_free(report, TRUE);
  }
}

static void vcpu_tb_exec(unsigned int cpu_index, void *udata) {
  CPUCount *count = max_cpus ? &counts[cpu_index % max_cpus] : &global_count;
  uint64_t n_insns = (uintptr_t)udata;
  g_mutex_lock(&count->lock);
  count->insn_count += n_insns;
  count->bb_count++;
  g_mutex_unlock(&count->lock);
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t n_insns = qemu_plugin_tb_n_insns(tb);
  if (do_inline) {
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &global_count.bb_count,
                                             1);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                             &global_count.insn_count, n_insns);
  } else {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)n_insns);
  }
}

static void plugin_setup(qemu_plugin_id_t id, const qemu_info_t *info) {
  max_cpus = info->system_emulation ? info->system.max_vcpus : 0;
  if (max_cpus > 0) {
    counts = g_new0(CPUCount, max_cpus);
    for (int i = 0; i < max_cpus; i++) {
      counts[i].index = i;
    }
  }
  if (idle_report) {
    qemu_plugin_register_vcpu_idle_cb(id, vcpu_idle);
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
}

#else
/* ---------------------------------------------------------------- v7 --- */

typedef struct {
  uint64_t bb_count;
  uint64_t insn_count;
} CPUCount;

static struct qemu_plugin_scoreboard *counts;
static qemu_plugin_u64 bb_count;
static qemu_plugin_u64 insn_count;

static void append_cpu_report(GString *report, unsigned int cpu_index) {
  const CPUCount *count = qemu_plugin_scoreboard_find(counts, cpu_index);
  if (count->bb_count) {
    g_string_append_printf(report, "CPU%u: bb's: %" PRIu64 ", insns: %" PRIu64 "\n", cpu_index,
                           count->bb_count, count->insn_count);
  }
}

static void plugin_exit(void *userdata) {
  GString *report = g_string_new("");
  for (int i = 0; i < qemu_plugin_num_vcpus(); i++) {
    append_cpu_report(report, i);
  }
  g_string_append_printf(report, "Total: bb's: %" PRIu64 ", insns: %" PRIu64 "\n",
                         qemu_plugin_u64_sum(bb_count), qemu_plugin_u64_sum(insn_count));
  qemu_plugin_outs(report->str);
  g_string_free(report, TRUE);
  qemu_plugin_scoreboard_free(counts);
}

static void vcpu_idle(unsigned int cpu_index, void *userdata) {
  GString *report = g_string_new("");
  append_cpu_report(report, cpu_index);
  if (report->len) {
    g_string_prepend(report, "Idling ");
    qemu_plugin_outs(report->str);
  }
  g_string_free(report, TRUE);
}

static void vcpu_tb_exec(unsigned int cpu_index, void *udata) {
  CPUCount *count = qemu_plugin_scoreboard_find(counts, cpu_index);
  count->insn_count += (uintptr_t)udata;
  count->bb_count++;
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  size_t n_insns = qemu_plugin_tb_n_insns(tb);
  if (do_inline) {
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, bb_count, 1);
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, insn_count,
                                                      n_insns);
  } else {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)n_insns);
  }
}

static void plugin_setup(qemu_plugin_id_t id, const qemu_info_t *info) {
  counts = qemu_plugin_scoreboard_new(sizeof(CPUCount));
  bb_count = qemu_plugin_scoreboard_u64_in_struct(counts, CPUCount, bb_count);
  insn_count = qemu_plugin_scoreboard_u64_in_struct(counts, CPUCount, insn_count);
  if (idle_report) {
    qemu_plugin_register_vcpu_idle_cb(id, vcpu_idle, NULL);
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
}
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  for (int i = 0; i < argc; i++) {
    char *opt = argv[i];
    char *eq = strchr(opt, '=');
    char *key = g_strndup(opt, eq ? (size_t)(eq - opt) : strlen(opt));
    const char *val = eq ? eq + 1 : NULL;
    bool ok = false;
    if (strcmp(key, "inline") == 0) {
      ok = qemu_plugin_bool_parse(key, val, &do_inline);
    } else if (strcmp(key, "idle") == 0) {
      ok = qemu_plugin_bool_parse(key, val, &idle_report);
    }
    g_free(key);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", opt);
      return -1;
    }
  }
  plugin_setup(id, info);
  return 0;
}
