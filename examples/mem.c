/*
 * mem: count guest memory accesses; optionally print every access or
 * summarise accesses per memory region.
 *
 * Arguments:
 *   inline=BOOL          count with an inline add per access
 *   callback=BOOL        count with a callback per access (not together with inline)
 *   haddr=BOOL           with callback=on, look up the "hardware" address and count IO
 *                        accesses apart (there is no IO in user mode)
 *   track=r|w|rw         which accesses to instrument (default rw)
 *   print-accesses=BOOL  print one CSV row per access (API v4+ builds only)
 *   region-summary=BOOL  per-4KiB-region read/write counts (API v4+ builds only)
 *
 * Output at exit (API v2 and later):
 *   mem accesses: <n>    if inline or callback counting is on
 *   io accesses: <n>     if haddr=on (always 0 in user mode)
 * print-accesses prints from install the header
 *   insn_vaddr,insn_symbol,mem_vaddr,mem_hwaddr,access_size,access_type,mem_value
 * then one row per access, e.g. 0x401000,_start,0x7ffc0010,0x0,64,store,0x0000000000000001
 * (size in bits, value zero-padded to its width).
 * region-summary prints "Region Base, Reads, Writes, Seen all" and one
 * "0x%016x, R, W, true|false" row per 4 KiB region in address order. This is a
 * minimal version of QEMU's: "Seen all" is true when every load from the
 * region returned the bytes last stored there by an observed store (bytes
 * never stored are not checked).
 * Built against API v1 (QEMU 7.2): "inline mem accesses: <n>",
 * "callback mem accesses: <n>" and "io accesses: <n>", and inline and
 * callback may be combined; print-accesses and region-summary do not exist.
 *
 * Written for qplug from the documented behaviour of QEMU's tests/tcg/plugins/mem.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1 && QEMU_PLUGIN_VERSION < 7
#error "mem.c builds against API v1 or v7"
#endif

static bool do_inline;
static bool do_callback;
static bool do_haddr;
static G_GNUC_UNUSED bool do_print_accesses; /* API v4+ builds */
static G_GNUC_UNUSED bool do_region_summary;
static enum qemu_plugin_mem_rw rw = QEMU_PLUGIN_MEM_RW;

#if QEMU_PLUGIN_VERSION == 1
/* ---------------------------------------------------------------- v1 --- */

static uint64_t inline_mem_count;
static uint64_t cb_mem_count;
static uint64_t io_count;

static void count_access(unsigned int cpu_index, bool is_io) {
  __atomic_fetch_add(is_io ? &io_count : &cb_mem_count, 1, __ATOMIC_RELAXED);
}

static void report(void) {
  GString *out = g_string_new("");
  if (do_inline) {
    g_string_append_printf(out, "inline mem accesses: %" PRIu64 "\n", inline_mem_count);
  }
  if (do_callback) {
    g_string_append_printf(out, "callback mem accesses: %" PRIu64 "\n", cb_mem_count);
  }
  if (do_haddr) {
    g_string_append_printf(out, "io accesses: %" PRIu64 "\n", io_count);
  }
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
}

static void add_inline(struct qemu_plugin_insn *insn) {
  qemu_plugin_register_vcpu_mem_inline(insn, rw, QEMU_PLUGIN_INLINE_ADD_U64, &inline_mem_count, 1);
}

#else
/* ---------------------------------------------------------------- v7 --- */

typedef struct {
  uint64_t mem_count;
  uint64_t io_count;
} CPUCount;

static struct qemu_plugin_scoreboard *counts;
static qemu_plugin_u64 mem_count;
static qemu_plugin_u64 io_count;

typedef struct {
  uint64_t base;
  uint64_t reads;
  uint64_t writes;
  bool seen_all; /* every checked load matched the shadow */
  uint8_t shadow[4096];
  uint8_t known[4096]; /* 1 where shadow holds a stored byte */
} Region;

#define REGION_SIZE 4096
static GMutex region_lock;
static GHashTable *regions; /* base -> Region */

/* Instruction data for print-accesses, leaked on purpose like the records of
 * other plugins (re-translations allocate a fresh one). */
typedef struct {
  uint64_t vaddr;
  char *symbol;
} InsnInfo;

static void count_access(unsigned int cpu_index, bool is_io) {
  qemu_plugin_u64_add(is_io ? io_count : mem_count, cpu_index, 1);
}

static void value_bytes(const qemu_plugin_mem_value *v, uint8_t *out, unsigned int *len) {
  switch (v->type) {
    case QEMU_PLUGIN_MEM_VALUE_U8:
      *len = 1;
      memcpy(out, &v->data.u8, 1);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U16:
      *len = 2;
      memcpy(out, &v->data.u16, 2);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U32:
      *len = 4;
      memcpy(out, &v->data.u32, 4);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U64:
      *len = 8;
      memcpy(out, &v->data.u64, 8);
      break;
    default:
      *len = 16;
      memcpy(out, &v->data.u128.low, 8);
      memcpy(out + 8, &v->data.u128.high, 8);
      break;
  }
}

static void update_region(qemu_plugin_meminfo_t info, uint64_t vaddr) {
  qemu_plugin_mem_value value = qemu_plugin_mem_get_value(info);
  uint8_t bytes[16];
  unsigned int len;
  bool store = qemu_plugin_mem_is_store(info);
  value_bytes(&value, bytes, &len);

  g_mutex_lock(&region_lock);
  for (unsigned int i = 0; i < len; i++) {
    uint64_t addr = vaddr + i;
    uint64_t base = addr & ~(uint64_t)(REGION_SIZE - 1);
    Region *r = g_hash_table_lookup(regions, &base);
    if (!r) {
      r = g_new0(Region, 1);
      r->base = base;
      r->seen_all = true;
      g_hash_table_insert(regions, &r->base, r);
    }
    if (i == 0 || (addr & (REGION_SIZE - 1)) == 0) {
      /* Count the access once in each region it touches. */
      if (store) {
        r->writes++;
      } else {
        r->reads++;
      }
    }
    size_t off = addr & (REGION_SIZE - 1);
    if (store) {
      r->shadow[off] = bytes[i];
      r->known[off] = 1;
    } else if (r->known[off] && r->shadow[off] != bytes[i]) {
      r->seen_all = false;
    }
  }
  g_mutex_unlock(&region_lock);
}

static void print_access(unsigned int cpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                         void *udata) {
  InsnInfo *insn = udata;
  qemu_plugin_mem_value value = qemu_plugin_mem_get_value(info);
  struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
  uint64_t phys = hw ? qemu_plugin_hwaddr_phys_addr(hw) : 0;
  GString *out = g_string_new("");
  g_string_append_printf(out, "0x%" PRIx64 ",%s,0x%" PRIx64 ",0x%" PRIx64 ",%u,%s,", insn->vaddr,
                         insn->symbol ? insn->symbol : "", vaddr, phys,
                         8u << qemu_plugin_mem_size_shift(info),
                         qemu_plugin_mem_is_store(info) ? "store" : "load");
  switch (value.type) {
    case QEMU_PLUGIN_MEM_VALUE_U8:
      g_string_append_printf(out, "0x%02" PRIx8 "\n", value.data.u8);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U16:
      g_string_append_printf(out, "0x%04" PRIx16 "\n", value.data.u16);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U32:
      g_string_append_printf(out, "0x%08" PRIx32 "\n", value.data.u32);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U64:
      g_string_append_printf(out, "0x%016" PRIx64 "\n", value.data.u64);
      break;
    case QEMU_PLUGIN_MEM_VALUE_U128:
      g_string_append_printf(out, "0x%016" PRIx64 "%016" PRIx64 "\n", value.data.u128.high,
                             value.data.u128.low);
      break;
  }
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
}

static gint cmp_region(gconstpointer a, gconstpointer b) {
  const Region *ra = a;
  const Region *rb = b;
  return ra->base < rb->base ? -1 : ra->base > rb->base;
}

static void report(void) {
  GString *out = g_string_new("");
  if (do_inline || do_callback) {
    g_string_append_printf(out, "mem accesses: %" PRIu64 "\n", qemu_plugin_u64_sum(mem_count));
  }
  if (do_haddr) {
    g_string_append_printf(out, "io accesses: %" PRIu64 "\n", qemu_plugin_u64_sum(io_count));
  }
  if (do_region_summary) {
    g_string_append(out, "Region Base, Reads, Writes, Seen all\n");
    GList *list = g_list_sort(g_hash_table_get_values(regions), cmp_region);
    for (GList *it = list; it; it = it->next) {
      Region *r = it->data;
      g_string_append_printf(out, "0x%016" PRIx64 ", %" PRIu64 ", %" PRIu64 ", %s\n", r->base,
                             r->reads, r->writes, r->seen_all ? "true" : "false");
    }
    g_list_free(list);
  }
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
  qemu_plugin_scoreboard_free(counts);
}

static void add_inline(struct qemu_plugin_insn *insn) {
  qemu_plugin_register_vcpu_mem_inline_per_vcpu(insn, rw, QEMU_PLUGIN_INLINE_ADD_U64, mem_count, 1);
}
#endif

/* Counting alone is its own callback: it calls nothing that uses vector
 * registers, which a host such as qplug can see from its code and then call it
 * without saving them (the region summary reaches glib's hash tables). */
static void vcpu_mem_count(unsigned int cpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                           void *udata) {
  bool is_io = false;
  if (do_haddr) {
    struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
    is_io = hw && qemu_plugin_hwaddr_is_io(hw);
  }
  count_access(cpu_index, is_io);
}

static void vcpu_mem(unsigned int cpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                     void *udata) {
  if (do_callback) {
    vcpu_mem_count(cpu_index, info, vaddr, udata);
  }
#if QEMU_PLUGIN_VERSION != 1
  if (do_region_summary) {
    update_region(info, vaddr);
  }
#endif
}

static void tb_trans(struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (do_inline) {
      add_inline(insn);
    }
    if (do_callback || do_region_summary) {
      qemu_plugin_register_vcpu_mem_cb(insn, do_region_summary ? vcpu_mem : vcpu_mem_count,
                                       QEMU_PLUGIN_CB_NO_REGS, rw, NULL);
    }
#if QEMU_PLUGIN_VERSION != 1
    if (do_print_accesses) {
      InsnInfo *ii = g_new0(InsnInfo, 1);
      const char *sym = qemu_plugin_insn_symbol(insn);
      ii->vaddr = qemu_plugin_insn_vaddr(insn);
      ii->symbol = sym ? g_strdup(sym) : NULL;
      qemu_plugin_register_vcpu_mem_cb(insn, print_access, QEMU_PLUGIN_CB_NO_REGS, rw, ii);
    }
#endif
  }
}

#if QEMU_PLUGIN_VERSION == 1
static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) { tb_trans(tb); }
static void plugin_exit(qemu_plugin_id_t id, void *p) { report(); }
#else
static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) { tb_trans(tb); }
static void plugin_exit(void *p) { report(); }
#endif

static bool parse_bool_arg(char **tokens, const char *name, bool *dest, bool *matched) {
  if (g_strcmp0(tokens[0], name) != 0) {
    return true;
  }
  *matched = true;
  return qemu_plugin_bool_parse(tokens[0], tokens[1], dest);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool matched = false;
    bool ok = parse_bool_arg(tokens, "inline", &do_inline, &matched) &&
              parse_bool_arg(tokens, "callback", &do_callback, &matched) &&
              parse_bool_arg(tokens, "haddr", &do_haddr, &matched);
#if QEMU_PLUGIN_VERSION != 1
    ok = ok && parse_bool_arg(tokens, "print-accesses", &do_print_accesses, &matched) &&
         parse_bool_arg(tokens, "region-summary", &do_region_summary, &matched);
#endif
    if (!matched && g_strcmp0(tokens[0], "track") == 0) {
      matched = true;
      if (g_strcmp0(tokens[1], "r") == 0) {
        rw = QEMU_PLUGIN_MEM_R;
      } else if (g_strcmp0(tokens[1], "w") == 0) {
        rw = QEMU_PLUGIN_MEM_W;
      } else if (g_strcmp0(tokens[1], "rw") == 0) {
        rw = QEMU_PLUGIN_MEM_RW;
      } else {
        ok = false;
      }
    }
    g_strfreev(tokens);
    if (!matched || !ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }

#if QEMU_PLUGIN_VERSION == 1
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
#else
  if (do_inline && do_callback) {
    fprintf(stderr, "can't enable inline and callback counting at the same time\n");
    return -1;
  }
  counts = qemu_plugin_scoreboard_new(sizeof(CPUCount));
  mem_count = qemu_plugin_scoreboard_u64_in_struct(counts, CPUCount, mem_count);
  io_count = qemu_plugin_scoreboard_u64_in_struct(counts, CPUCount, io_count);
  if (do_region_summary) {
    regions = g_hash_table_new(g_int64_hash, g_int64_equal);
  }
  if (do_print_accesses) {
    qemu_plugin_outs(
        "insn_vaddr,insn_symbol,mem_vaddr,mem_hwaddr,access_size,access_type,"
        "mem_value\n");
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
#endif
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
