/* Test plugin: NO_REGS callbacks before every instruction that clobber the
 * vector state in the ways a direct call must survive (mode=):
 *   known   explicit xmm/zmm/k writes, so callee analysis sees them all
 *   unknown a call through a function pointer (analysis cannot follow) that
 *           runs memset and clobbers vector and mask registers
 *   x87     long double arithmetic (the guest keeps values on the x87 stack)
 * The guest (vector_state.S) checks its registers survived. */
#include <stdint.h>
#include <string.h>

#include <qplug/qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static int have512;
static char buffer[4096];
static volatile long double sink;

__attribute__((target("avx512f,avx512bw"))) static void clobber_vectors(void) {
  __asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
                   "vpxor %%xmm9, %%xmm9, %%xmm9\n\t"
                   "vpcmpeqd %%ymm15, %%ymm15, %%ymm15" ::: "xmm0", "xmm9", "xmm15");
  if (have512)
    __asm__ volatile("vpternlogd $0xff, %%zmm20, %%zmm20, %%zmm20\n\t"
                     "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n\t"
                     "kxnorq %%k1, %%k1, %%k1\n\t"
                     "kxorq %%k7, %%k7, %%k7" ::: "xmm20", "xmm31", "k1", "k7");
}

static void on_insn_known(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  clobber_vectors();
}

static void unknown_work(void) {
  memset(buffer, (int)(uintptr_t)buffer & 0xff, sizeof buffer);
  clobber_vectors();
}
static void (*volatile indirect)(void) = unknown_work;

static void on_insn_unknown(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  indirect();
}

static void on_insn_x87(unsigned vcpu, void *userdata) {
  (void)vcpu, (void)userdata;
  long double x = 3.0L;
  for (int i = 0; i < 4; i++) x = x * 1.5L + 0.25L;
  sink = x;
  clobber_vectors();
}

static void (*on_insn)(unsigned, void *) = on_insn_known;

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++)
    qemu_plugin_register_vcpu_insn_exec_cb(qemu_plugin_tb_get_insn(tb, i), on_insn,
                                           QEMU_PLUGIN_CB_NO_REGS, NULL);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  __builtin_cpu_init();
  have512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "mode=known")) on_insn = on_insn_known;
    else if (!strcmp(argv[i], "mode=unknown")) on_insn = on_insn_unknown;
    else if (!strcmp(argv[i], "mode=x87")) on_insn = on_insn_x87;
    else return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  return 0;
}
