/*
 * count.c: a QEMU TCG plugin counting the guest blocks and instructions a
 * program executes; a template for plugins built outside qplug's tree against
 * an installed qplug (see README.md here).
 *
 * Arguments: blocks=on|off (default on): also print the block count.
 * Output (to the log: -d plugin or -D FILE), once at exit:
 *   blocks: N, insns: M      or, with blocks=off:   insns: M
 *
 * It builds for every plugin API version (1 to 7), so the same source runs
 * under qplug and under any qemu-x86_64 (Debian 12's 7.2 wants version 1):
 * the counts are kept with a callback per executed block, which exists in
 * every version, rather than with scoreboards (version 2 on).
 *
 * <qemu-plugin.h> is the spelling QEMU's own plugins use; qplug's package
 * also accepts <qplug/qemu-plugin.h>.
 */
#include <inttypes.h>
#include <qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t blocks, insns;
static bool print_blocks = true;

static void on_block(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  /* Each guest thread is a vCPU, and vCPUs run at the same time. */
  __atomic_fetch_add(&blocks, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&insns, (uint64_t)(uintptr_t)userdata, __ATOMIC_RELAXED);
}

static void instrument(struct qemu_plugin_tb *tb) {
  /* Runs once per translation; the block's size rides along as userdata. */
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
                                       (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void print_counts(void) {
  char line[80];
  if (print_blocks) {
    snprintf(line, sizeof line, "blocks: %" PRIu64 ", insns: %" PRIu64 "\n", blocks, insns);
  } else {
    snprintf(line, sizeof line, "insns: %" PRIu64 "\n", insns);
  }
  qemu_plugin_outs(line);
}

/* Version 7 dropped the plugin id from these callbacks and gave them userdata. */
#if QEMU_PLUGIN_API_VERSION >= 7
static void on_translate(struct qemu_plugin_tb *tb, void *userdata) {
  (void)userdata;
  instrument(tb);
}
static void on_exit_cb(void *userdata) {
  (void)userdata;
  print_counts();
}
#define REGISTER_TB_TRANS(id, cb) qemu_plugin_register_vcpu_tb_trans_cb(id, cb, NULL)
#else
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  instrument(tb);
}
static void on_exit_cb(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  print_counts();
}
#define REGISTER_TB_TRANS(id, cb) qemu_plugin_register_vcpu_tb_trans_cb(id, cb)
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    /* Arguments arrive as "key=value" strings, as written after "-plugin lib.so,". */
    if (strncmp(argv[i], "blocks=", 7) == 0 &&
        qemu_plugin_bool_parse("blocks", argv[i] + 7, &print_blocks)) {
      continue;
    }
    /* A non-zero return makes the host refuse to start the program. */
    fprintf(stderr, "count: unknown argument '%s' (blocks=on|off)\n", argv[i]);
    return -1;
  }
  REGISTER_TB_TRANS(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}
