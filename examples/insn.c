/*
 * insn: count executed instructions, with optional size histogram and
 * per-instruction match statistics.
 *
 * Arguments:
 *   inline=BOOL   count with an inline add per instruction instead of a callback
 *   sizes=BOOL    print a histogram of instruction lengths (of translated instructions)
 *   match=PREFIX  (repeatable) track instructions whose disassembly starts with PREFIX
 *   trace=BOOL    print a line every time a matched instruction executes
 *
 * Output at exit (API v2 and later):
 *   cpu <n> insns: <count>            for each vCPU
 *   total insns: <count>
 *   len <n> bytes: <count> insns      with sizes=on, for each length seen
 *   Match: <prefix>, hits <count>     for each match=, followed by
 *     <vaddr hex>: <disas> (hits <count>)   for each matched instruction
 * At translation a matched instruction seen for the first time prints
 *   Created record for: <vaddr hex> <disas>
 * With trace=on each execution of a matched instruction prints
 *   0x<vaddr>, '<disas>', <n> hits , cpu <i>, <m> match hits, Δ+<d> since last match,
 *   <a> avg insns/match
 * Built against API v1 (QEMU 7.2): "insns: <count>" with inline=on; otherwise
 * "cpu <n> insns: <count>" for the (at most 8) vCPUs with a non-zero count and
 * "total insns: <count>".
 *
 * The register self-test of QEMU's version is not implemented.
 * Written for qplug from the documented behaviour of QEMU's tests/tcg/plugins/insn.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1 && QEMU_PLUGIN_VERSION < 7
#error "insn.c builds against API v1 or v7"
#endif

#define MAX_CPUS 8 /* per-vCPU slots of the v1 build */

static bool do_inline;
static bool do_size;
static bool do_trace;
static GArray *sizes; /* unsigned long, indexed by instruction length */
static GMutex lock;   /* sizes and the match records */

typedef struct {
  uint64_t hits;
  uint64_t last_hit;
  uint64_t total_delta;
} MatchCount;

typedef struct {
  char *match_string;
  GHashTable *records; /* vaddr -> Instruction */
#if QEMU_PLUGIN_VERSION == 1
  MatchCount counts[MAX_CPUS];
#else
  struct qemu_plugin_scoreboard *counts; /* MatchCount */
#endif
} Match;

typedef struct {
  Match *match;
  uint64_t vaddr;
  uint64_t hits;
  char *disas;
} Instruction;

static GPtrArray *matches;

#if QEMU_PLUGIN_VERSION == 1
static uint64_t inline_insn_count;
static uint64_t insn_counts[MAX_CPUS];

static uint64_t cpu_insn_count(unsigned int cpu_index) {
  return do_inline ? inline_insn_count : insn_counts[cpu_index % MAX_CPUS];
}

static MatchCount *match_count(Match *m, unsigned int cpu_index) {
  return &m->counts[cpu_index % MAX_CPUS];
}

static uint64_t match_total_hits(Match *m) {
  uint64_t total = 0;
  for (int i = 0; i < MAX_CPUS; i++) {
    total += m->counts[i].hits;
  }
  return total;
}

static void vcpu_insn_exec_before(unsigned int cpu_index, void *udata) {
  __atomic_fetch_add(&insn_counts[cpu_index % MAX_CPUS], 1, __ATOMIC_RELAXED);
}
#else
static struct qemu_plugin_scoreboard *insn_scoreboard;
static qemu_plugin_u64 insn_count;

static uint64_t cpu_insn_count(unsigned int cpu_index) {
  return qemu_plugin_u64_get(insn_count, cpu_index);
}

static MatchCount *match_count(Match *m, unsigned int cpu_index) {
  return qemu_plugin_scoreboard_find(m->counts, cpu_index);
}

static uint64_t match_total_hits(Match *m) {
  return qemu_plugin_u64_sum(qemu_plugin_scoreboard_u64_in_struct(m->counts, MatchCount, hits));
}

static void vcpu_insn_exec_before(unsigned int cpu_index, void *udata) {
  qemu_plugin_u64_add(insn_count, cpu_index, 1);
}
#endif

static void vcpu_insn_matched_exec_before(unsigned int cpu_index, void *udata) {
  Instruction *insn = udata;
  MatchCount *mc = match_count(insn->match, cpu_index);
  uint64_t icount = cpu_insn_count(cpu_index);
  uint64_t delta = icount - mc->last_hit;

  insn->hits++;
  mc->hits++;
  mc->total_delta += delta;
  mc->last_hit = icount;

  if (do_trace) {
    GString *ts = g_string_new("");
    g_string_append_printf(ts, "0x%" PRIx64 ", '%s', %" PRIu64 " hits", insn->vaddr, insn->disas,
                           insn->hits);
    g_string_append_printf(ts, " , cpu %u, %" PRIu64 " match hits", cpu_index, mc->hits);
    g_string_append_printf(ts, ", \u0394+%" PRIu64 " since last match", delta);
    g_string_append_printf(ts, ", %" PRIu64 " avg insns/match\n", mc->total_delta / mc->hits);
    qemu_plugin_outs(ts->str);
    g_string_free(ts, TRUE);
  }
}

static void instrument_insn(struct qemu_plugin_insn *insn) {
  if (do_inline) {
#if QEMU_PLUGIN_VERSION == 1
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &inline_insn_count,
                                               1);
#else
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                        insn_count, 1);
#endif
  } else {
    qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_insn_exec_before, QEMU_PLUGIN_CB_NO_REGS,
                                           NULL);
  }

  if (do_size) {
    size_t sz = qemu_plugin_insn_size(insn);
    g_mutex_lock(&lock);
    if (sz >= sizes->len) {
      g_array_set_size(sizes, sz + 1);
    }
    g_array_index(sizes, unsigned long, sz)++;
    g_mutex_unlock(&lock);
  }

  if (matches->len == 0) {
    return;
  }
  char *disas = qemu_plugin_insn_disas(insn);
  uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
  for (guint i = 0; i < matches->len; i++) {
    Match *m = g_ptr_array_index(matches, i);
    if (!g_str_has_prefix(disas, m->match_string)) {
      continue;
    }
    g_mutex_lock(&lock);
    Instruction *rec = g_hash_table_lookup(m->records, &vaddr);
    if (!rec) {
      rec = g_new0(Instruction, 1);
      rec->match = m;
      rec->vaddr = vaddr;
      rec->disas = g_strdup(disas);
      g_hash_table_insert(m->records, &rec->vaddr, rec);
      char *msg = g_strdup_printf("Created record for: %" PRIx64 " %s\n", vaddr, disas);
      qemu_plugin_outs(msg);
      g_free(msg);
    }
    g_mutex_unlock(&lock);
    /* Re-translations register the same record again. */
    qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_insn_matched_exec_before,
                                           QEMU_PLUGIN_CB_NO_REGS, rec);
  }
  g_free(disas);
}

static void tb_trans(struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    instrument_insn(qemu_plugin_tb_get_insn(tb, i));
  }
}

static gint cmp_vaddr(gconstpointer a, gconstpointer b) {
  const Instruction *ia = a;
  const Instruction *ib = b;
  return ia->vaddr < ib->vaddr ? -1 : ia->vaddr > ib->vaddr;
}

static void report(void) {
  GString *out = g_string_new("");
#if QEMU_PLUGIN_VERSION == 1
  if (do_inline) {
    g_string_append_printf(out, "insns: %" PRIu64 "\n", inline_insn_count);
  } else {
    uint64_t total = 0;
    for (int i = 0; i < MAX_CPUS; i++) {
      if (insn_counts[i]) {
        g_string_append_printf(out, "cpu %d insns: %" PRIu64 "\n", i, insn_counts[i]);
        total += insn_counts[i];
      }
    }
    g_string_append_printf(out, "total insns: %" PRIu64 "\n", total);
  }
#else
  for (int i = 0; i < qemu_plugin_num_vcpus(); i++) {
    g_string_append_printf(out, "cpu %d insns: %" PRIu64 "\n", i, cpu_insn_count(i));
  }
  g_string_append_printf(out, "total insns: %" PRIu64 "\n", qemu_plugin_u64_sum(insn_count));
#endif

  if (do_size) {
    for (guint len = 0; len < sizes->len; len++) {
      unsigned long cnt = g_array_index(sizes, unsigned long, len);
      if (cnt) {
        g_string_append_printf(out, "len %u bytes: %lu insns\n", len, cnt);
      }
    }
  }

  for (guint i = 0; i < matches->len; i++) {
    Match *m = g_ptr_array_index(matches, i);
    g_string_append_printf(out, "Match: %s, hits %" PRIu64 "\n", m->match_string,
                           match_total_hits(m));
    GList *recs = g_list_sort(g_hash_table_get_values(m->records), cmp_vaddr);
    for (GList *it = recs; it; it = it->next) {
      Instruction *rec = it->data;
      g_string_append_printf(out, "  %" PRIx64 ": %s (hits %" PRIu64 ")\n", rec->vaddr, rec->disas,
                             rec->hits);
    }
    g_list_free(recs);
  }
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
}

#if QEMU_PLUGIN_VERSION == 1
static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) { tb_trans(tb); }
static void plugin_exit(qemu_plugin_id_t id, void *p) { report(); }
#else
static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) { tb_trans(tb); }
static void plugin_exit(void *p) { report(); }
#endif

static void add_match(const char *prefix) {
  Match *m = g_new0(Match, 1);
  m->match_string = g_strdup(prefix);
  m->records = g_hash_table_new(g_int64_hash, g_int64_equal);
#if QEMU_PLUGIN_VERSION != 1
  m->counts = qemu_plugin_scoreboard_new(sizeof(MatchCount));
#endif
  g_ptr_array_add(matches, m);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  matches = g_ptr_array_new();
  sizes = g_array_new(FALSE, TRUE, sizeof(unsigned long));
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = true;
    if (g_strcmp0(tokens[0], "inline") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_inline);
    } else if (g_strcmp0(tokens[0], "sizes") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_size);
    } else if (g_strcmp0(tokens[0], "trace") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_trace);
    } else if (g_strcmp0(tokens[0], "match") == 0 && tokens[1]) {
      add_match(tokens[1]);
    } else {
      ok = false;
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }

#if QEMU_PLUGIN_VERSION == 1
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
#else
  insn_scoreboard = qemu_plugin_scoreboard_new(sizeof(uint64_t));
  insn_count = qemu_plugin_scoreboard_u64(insn_scoreboard);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
#endif
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
