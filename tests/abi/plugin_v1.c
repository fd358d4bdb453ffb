/*
 * ABI test plugin, API version 1 (QEMU 5.2 .. 8.2, e.g. Debian 12's 7.2).
 *
 * Uses the v1 shapes: callbacks that receive the plugin id, registration
 * without userdata, raw-pointer inline counters, insn_data returning a
 * pointer, n_vcpus. At exit it prints one line through qemu_plugin_outs:
 *
 *   abi-v1: insns=N tbs=N tb_cb=N mems=N mem_cb=N syscalls=N syscall_rets=N
 *           vcpus=N n_vcpus=N flushes=N with_data=N   (one line)
 *
 * insns/tbs/mems come from inline counters, tb_cb/mem_cb from callbacks
 * (so tbs == tb_cb and mems == mem_cb on a single-threaded guest);
 * with_data counts translated instructions whose bytes insn_data returned.
 * Arguments: "quiet=on" suppresses the line (bool_parse test).
 */
#define QEMU_PLUGIN_API_VERSION 1
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t insns, tbs, mems; /* inline (raw pointers, v1) */
static uint64_t tb_cb, mem_cb, syscalls, syscall_rets, vcpus, flushes;
static uint64_t with_data; /* translated instructions whose bytes insn_data returned */
static int n_vcpus_at_install;
static bool quiet;

static void count(uint64_t *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  (void)vcpu_index;
  count(&vcpus);
}

static void tb_exec(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  count((uint64_t *)userdata);
}

static void mem_access(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                       void *userdata) {
  (void)vcpu_index;
  (void)vaddr;
  (void)qemu_plugin_mem_size_shift(info);
  count((uint64_t *)userdata);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &tbs, 1);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, &tb_cb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const volatile uint8_t *bytes = (const volatile uint8_t *)qemu_plugin_insn_data(insn);
    if (bytes && qemu_plugin_insn_size(insn) > 0) {
      (void)bytes[0]; /* the pointer must be readable during tb_trans */
      with_data++;
    }
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insns, 1);
    qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW, QEMU_PLUGIN_INLINE_ADD_U64,
                                         &mems, 1);
    qemu_plugin_register_vcpu_mem_cb(insn, mem_access, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                     &mem_cb);
    if (i == 0) {
      char *disas = qemu_plugin_insn_disas(insn);
      g_free(disas);
    }
  }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8) {
  (void)id, (void)vcpu_index, (void)num, (void)a1, (void)a2, (void)a3;
  (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  count(&syscalls);
}

static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret) {
  (void)id, (void)vcpu_idx, (void)num, (void)ret;
  count(&syscall_rets);
}

static void on_flush(qemu_plugin_id_t id) {
  (void)id;
  count(&flushes);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  if (quiet || userdata != &quiet) {
    return;
  }
  char line[512];
  snprintf(line, sizeof line,
           "abi-v1: insns=%" PRIu64 " tbs=%" PRIu64 " tb_cb=%" PRIu64 " mems=%" PRIu64
           " mem_cb=%" PRIu64 " syscalls=%" PRIu64 " syscall_rets=%" PRIu64 " vcpus=%" PRIu64
           " n_vcpus=%d flushes=%" PRIu64 " with_data=%" PRIu64 "\n",
           insns, tbs, tb_cb, mems, mem_cb, syscalls, syscall_rets, vcpus, n_vcpus_at_install,
           flushes, with_data);
  qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  if (info->version.min > QEMU_PLUGIN_VERSION || info->version.cur < QEMU_PLUGIN_VERSION) {
    return 1;
  }
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "quiet=", 6) == 0 &&
        qemu_plugin_bool_parse("quiet", argv[i] + 6, &quiet)) {
      continue;
    }
    fprintf(stderr, "abi-v1: unknown argument %s\n", argv[i]);
    return 1;
  }
  n_vcpus_at_install = qemu_plugin_n_vcpus();
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
  qemu_plugin_register_flush_cb(id, on_flush);
  qemu_plugin_register_atexit_cb(id, at_exit, &quiet);
  return 0;
}
