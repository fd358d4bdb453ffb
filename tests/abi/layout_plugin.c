/*
 * Layout test plugin, built once per API version (-DLAYOUT_VERSION=1..7).
 *
 * It does not include qplug's header. Every type, enumerator value and
 * prototype below is written here, independently, from QEMU's documented
 * layouts for that version, with the offsets asserted as numbers. The plugin
 * then checks what the host hands it against those declarations:
 *
 *   qemu_info_t    target_name, version.min/cur, system_emulation and the
 *                  system counts at offsets 0, 8, 12, 16, 20, 24 (all versions)
 *   enums          QEMU_PLUGIN_MEM_W (2) selects stores only; INLINE_ADD_U64 (0)
 *                  counts; v3+: INLINE_STORE_U64 (1), COND_EQ (2), COND_NE (3)
 *   qemu_plugin_u64  (v2+) passed by value: the host adds at the offset given
 *   qemu_plugin_reg_descriptor  (v2+) the GArray's element size (24 in v2-v6,
 *                  32 in v7), handle/name/feature at 0/8/16, is_readonly at 24
 *                  (v7, only "rip"), a zeroed terminator element; the register
 *                  list is qemu-x86_64's (names, order, features) and each
 *                  register reads with its size (v2-v5: the int returned; v6+:
 *                  true and the bytes appended)
 *   qemu_plugin_mem_value  (v4+) returned by value: type at 0 equals the
 *                  access's size shift, data at 8 equals memory after a store
 *
 * At exit one line, "layout-vN: checks=C failures=F", after one
 * "layout-vN: FAIL ..." line per failed check. Argument: mem_rw_filter=off
 * (see rw_filter).
 */
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef LAYOUT_VERSION
#error "build with -DLAYOUT_VERSION=1..7"
#endif
#define V LAYOUT_VERSION
#define EXPORT __attribute__((visibility("default")))

/* ---- QEMU's types, as documented for version V ------------------------ */

typedef struct {
  const char *target_name;
  struct {
    int min, cur;
  } version;
  bool system_emulation;
  union {
    struct {
      int smp_vcpus, max_vcpus;
    } system;
  } u;
} Info;
_Static_assert(sizeof(Info) == 32, "qemu_info_t");
_Static_assert(offsetof(Info, version.min) == 8 && offsetof(Info, version.cur) == 12, "version");
_Static_assert(offsetof(Info, system_emulation) == 16, "system_emulation");
_Static_assert(offsetof(Info, u.system.smp_vcpus) == 20 && offsetof(Info, u.system.max_vcpus) == 24,
               "system");

struct tb;
struct insn;
struct scoreboard;
struct reg;

typedef struct {
  struct scoreboard *score;
  size_t offset;
} U64;
_Static_assert(sizeof(U64) == 16 && offsetof(U64, offset) == 8, "qemu_plugin_u64");

typedef struct {
  int type;
  union {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    struct {
      uint64_t low, high;
    } u128;
  } data;
} MemValue;
_Static_assert(sizeof(MemValue) == 24 && offsetof(MemValue, data) == 8, "qemu_plugin_mem_value");

/* The descriptor is read through offsets, not a struct: what is checked is
 * where the host put each field. */
enum { kDescHandle = 0, kDescName = 8, kDescFeature = 16, kDescReadonly = 24 };
enum { kDescSize = V >= 7 ? 32 : 24 };

enum { kNoRegs = 0, kMemW = 2, kInlineAdd = 0, kInlineStore = 1, kCondEq = 2, kCondNe = 3 };

/* ---- The host functions used, with version V's prototypes ------------- */

void qemu_plugin_outs(const char *string);
size_t qemu_plugin_tb_n_insns(const struct tb *tb);
struct insn *qemu_plugin_tb_get_insn(const struct tb *tb, size_t idx);
bool qemu_plugin_mem_is_store(uint32_t info);
unsigned qemu_plugin_mem_size_shift(uint32_t info);
void qemu_plugin_register_vcpu_mem_cb(struct insn *insn,
                                      void (*cb)(unsigned, uint32_t, uint64_t, void *), int flags,
                                      int rw, void *userdata);
#if V <= 6
void qemu_plugin_register_vcpu_init_cb(uint64_t id, void (*cb)(uint64_t, unsigned));
void qemu_plugin_register_vcpu_tb_trans_cb(uint64_t id, void (*cb)(uint64_t, struct tb *));
void qemu_plugin_register_atexit_cb(uint64_t id, void (*cb)(uint64_t, void *), void *userdata);
#else
void qemu_plugin_register_vcpu_init_cb(uint64_t id, void (*cb)(unsigned, void *), void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(uint64_t id, void (*cb)(struct tb *, void *),
                                           void *userdata);
void qemu_plugin_register_atexit_cb(uint64_t id, void (*cb)(void *), void *userdata);
#endif
#if V == 1
void qemu_plugin_register_vcpu_insn_exec_inline(struct insn *insn, int op, void *ptr, uint64_t imm);
#else
void qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(struct insn *insn, int op, U64 entry,
                                                         uint64_t imm);
struct scoreboard *qemu_plugin_scoreboard_new(size_t element_size);
void *qemu_plugin_scoreboard_find(struct scoreboard *score, unsigned vcpu_index);
uint64_t qemu_plugin_u64_sum(U64 entry);
GArray *qemu_plugin_get_registers(void);
#if V <= 5
int qemu_plugin_read_register(struct reg *handle, GByteArray *buf);
#else
bool qemu_plugin_read_register(struct reg *handle, GByteArray *buf);
#endif
#endif
#if V >= 3
void qemu_plugin_register_vcpu_insn_exec_cond_cb(struct insn *insn, void (*cb)(unsigned, void *),
                                                 int flags, int cond, U64 entry, uint64_t imm,
                                                 void *userdata);
#endif
#if V >= 4
MemValue qemu_plugin_mem_get_value(uint32_t info);
bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len);
#endif

EXPORT int qemu_plugin_version = V;

/* ---- Checks ------------------------------------------------------------ */

static unsigned checks, failures;

static void check(bool ok, const char *what) {
  checks++;
  if (!ok) {
    failures++;
    g_autofree char *line = g_strdup_printf("layout-v%d: FAIL %s\n", V, what);
    qemu_plugin_outs(line);
  }
}

static uint64_t stores, not_stores;
/* Debian's qemu-x86_64 7.2 calls a memory callback registered for
 * QEMU_PLUGIN_MEM_W on loads too (seen running this plugin): its run passes
 * mem_rw_filter=off. */
static bool rw_filter = true;
#if V >= 4
static uint64_t value_matches, value_mismatches;
#endif
#if V >= 3
static uint64_t eq_fires, ne_fires;
#endif

static void on_store(unsigned vcpu, uint32_t info, uint64_t vaddr, void *userdata) {
  (void)vcpu, (void)userdata;
  if (!qemu_plugin_mem_is_store(info)) {
    not_stores++;
    return;
  }
  stores++;
#if V >= 4
  MemValue v = qemu_plugin_mem_get_value(info);
  const unsigned shift = qemu_plugin_mem_size_shift(info);
  const size_t size = (size_t)1 << shift;
  GByteArray *mem = g_byte_array_new();
  bool same = false;
  if (v.type == (int)shift && size <= 16 && qemu_plugin_read_memory_vaddr(vaddr, mem, size)) {
    uint8_t got[16] = {0};
    memcpy(got, &v.data, size);
    same = memcmp(got, mem->data, size) == 0;
  }
  g_byte_array_free(mem, TRUE);
  if (same) {
    value_matches++;
  } else {
    value_mismatches++;
  }
#else
  (void)vaddr;
#endif
}

#if V >= 3
static void on_cond(unsigned vcpu, void *userdata) {
  (void)vcpu;
  (*(uint64_t *)userdata)++;
}
#endif

#if V == 1
static uint64_t insns_v1;
#else
typedef struct {
  uint64_t a, b, c; /* a: always 0 (cond operand); b: stored; c: counted */
} Slots;
static struct scoreboard *slots;
static U64 slot(size_t offset) {
  U64 e = {slots, offset};
  return e;
}
#endif

/* qemu-x86_64's registers: gdb-xml/i386-64bit.xml (feature org.gnu.gdb.i386.core)
 * and, in linux-user, i386-64bit-linux.xml (org.gnu.gdb.i386.linux). */
static const struct {
  const char *name;
  int size;
} kCoreRegs[] = {
    {"rax", 8},     {"rbx", 8},     {"rcx", 8},       {"rdx", 8},    {"rsi", 8},    {"rdi", 8},
    {"rbp", 8},     {"rsp", 8},     {"r8", 8},        {"r9", 8},     {"r10", 8},    {"r11", 8},
    {"r12", 8},     {"r13", 8},     {"r14", 8},       {"r15", 8},    {"rip", 8},    {"eflags", 4},
    {"cs", 4},      {"ss", 4},      {"ds", 4},        {"es", 4},     {"fs", 4},     {"gs", 4},
    {"fs_base", 8}, {"gs_base", 8}, {"k_gs_base", 8}, {"cr0", 8},    {"cr2", 8},    {"cr3", 8},
    {"cr4", 8},     {"cr8", 8},     {"efer", 8},      {"st0", 10},   {"st1", 10},   {"st2", 10},
    {"st3", 10},    {"st4", 10},    {"st5", 10},      {"st6", 10},   {"st7", 10},   {"fctrl", 4},
    {"fstat", 4},   {"ftag", 4},    {"fiseg", 4},     {"fioff", 4},  {"foseg", 4},  {"fooff", 4},
    {"fop", 4},     {"xmm0", 16},   {"xmm1", 16},     {"xmm2", 16},  {"xmm3", 16},  {"xmm4", 16},
    {"xmm5", 16},   {"xmm6", 16},   {"xmm7", 16},     {"xmm8", 16},  {"xmm9", 16},  {"xmm10", 16},
    {"xmm11", 16},  {"xmm12", 16},  {"xmm13", 16},    {"xmm14", 16}, {"xmm15", 16}, {"mxcsr", 4},
};
enum { kCoreCount = sizeof kCoreRegs / sizeof kCoreRegs[0], kRegCount = kCoreCount + 1 };
_Static_assert(kCoreCount == 66, "i386-64bit.xml has 66 registers");

#if V >= 2
static void check_registers(void) {
  GArray *regs = qemu_plugin_get_registers();
  check(g_array_get_element_size(regs) == kDescSize, "descriptor element size");
  check(regs->len == kRegCount, "register count");
  const uint8_t *base = (const uint8_t *)regs->data;
  GByteArray *buf = g_byte_array_new();
  for (guint i = 0; i < regs->len && i < kRegCount; i++) {
    const uint8_t *d = base + (size_t)i * kDescSize;
    struct reg *handle;
    const char *name, *feature;
    memcpy(&handle, d + kDescHandle, sizeof handle);
    memcpy(&name, d + kDescName, sizeof name);
    memcpy(&feature, d + kDescFeature, sizeof feature);
    const bool core = i < kCoreCount;
    const char *want = core ? kCoreRegs[i].name : "orig_rax";
    const int size = core ? kCoreRegs[i].size : 8;
    g_autofree char *what = g_strdup_printf("register %u (%s)", i, want);
    check(handle != NULL && name && strcmp(name, want) == 0, what);
    check(
        feature && strcmp(feature, core ? "org.gnu.gdb.i386.core" : "org.gnu.gdb.i386.linux") == 0,
        what);
#if V >= 7
    check(d[kDescReadonly] == (strcmp(want, "rip") == 0), what);
#endif
    g_byte_array_set_size(buf, 0);
#if V <= 5
    check(qemu_plugin_read_register(handle, buf) == size && buf->len == (guint)size, what);
#else
    check(qemu_plugin_read_register(handle, buf) && buf->len == (guint)size, what);
#endif
  }
  g_byte_array_free(buf, TRUE);
  static const uint8_t zeros[32];
  check(memcmp(base + (size_t)regs->len * kDescSize, zeros, kDescSize) == 0, "terminator");
  g_array_free(regs, TRUE);
}
#endif

/* ---- Callbacks ----------------------------------------------------------- */

static void tb_trans_body(struct tb *tb) {
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct insn *insn = qemu_plugin_tb_get_insn(tb, i);
#if V == 1
    qemu_plugin_register_vcpu_insn_exec_inline(insn, kInlineAdd, &insns_v1, 1);
#else
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, kInlineAdd, slot(offsetof(Slots, c)),
                                                        1);
#endif
#if V >= 3
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, kInlineStore,
                                                        slot(offsetof(Slots, b)), 0x5a5a);
    qemu_plugin_register_vcpu_insn_exec_cond_cb(insn, on_cond, kNoRegs, kCondEq,
                                                slot(offsetof(Slots, a)), 0, &eq_fires);
    qemu_plugin_register_vcpu_insn_exec_cond_cb(insn, on_cond, kNoRegs, kCondNe,
                                                slot(offsetof(Slots, a)), 0, &ne_fires);
#endif
    qemu_plugin_register_vcpu_mem_cb(insn, on_store, kNoRegs, kMemW, NULL);
  }
}

static void vcpu_init_body(unsigned vcpu) {
#if V >= 2
  if (vcpu == 0) {
    check_registers();
  }
#else
  (void)vcpu;
#endif
}

static void at_exit_body(void) {
  check(stores > 0 && (not_stores == 0 || !rw_filter), "QEMU_PLUGIN_MEM_W selects stores only");
#if V == 1
  check(insns_v1 > 0, "inline add on a raw pointer");
#else
  const Slots *s = qemu_plugin_scoreboard_find(slots, 0);
  const uint64_t counted = qemu_plugin_u64_sum(slot(offsetof(Slots, c)));
  check(counted > 0 && s->c == counted, "qemu_plugin_u64 offset 16 (inline add)");
  check(s->a == 0, "nothing added outside the entry");
  check(s->b == (V >= 3 ? 0x5a5a : 0), "inline store at offset 8");
#endif
#if V >= 3
  check(eq_fires == counted && ne_fires == 0, "QEMU_PLUGIN_COND_EQ / _NE");
#endif
#if V >= 4
  check(value_matches > 0 && value_mismatches == 0, "qemu_plugin_mem_value type and data");
#endif
  g_autofree char *line =
      g_strdup_printf("layout-v%d: checks=%u failures=%u\n", V, checks, failures);
  qemu_plugin_outs(line);
}

#if V <= 6
static void vcpu_init(uint64_t id, unsigned vcpu) {
  (void)id;
  vcpu_init_body(vcpu);
}
static void tb_trans(uint64_t id, struct tb *tb) {
  (void)id;
  tb_trans_body(tb);
}
static void at_exit(uint64_t id, void *userdata) {
  (void)id, (void)userdata;
  at_exit_body();
}
#else
static void vcpu_init(unsigned vcpu, void *userdata) {
  (void)userdata;
  vcpu_init_body(vcpu);
}
static void tb_trans(struct tb *tb, void *userdata) {
  (void)userdata;
  tb_trans_body(tb);
}
static void at_exit(void *userdata) {
  (void)userdata;
  at_exit_body();
}
#endif

EXPORT int qemu_plugin_install(uint64_t id, const Info *info, int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "mem_rw_filter=off") != 0) {
      return 1;
    }
    rw_filter = false;
  }
  check(info->target_name && strcmp(info->target_name, "x86_64") == 0, "info.target_name");
  check(info->version.min <= V && V <= info->version.cur, "info.version");
  check(!info->system_emulation, "info.system_emulation");
  check(info->u.system.smp_vcpus == 0 && info->u.system.max_vcpus == 0, "info.system");
#if V >= 2
  slots = qemu_plugin_scoreboard_new(sizeof(Slots));
#endif
#if V <= 6
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
#else
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans, NULL);
#endif
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
