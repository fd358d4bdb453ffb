/*
 * hotblocks: the most executed translation blocks.
 *
 * Arguments:
 *   inline=BOOL  count executions with an inline add instead of a callback
 *   limit=N      number of blocks to print (default 20)
 *
 * Output at exit:
 *   collected <n> entries in the hash table
 *   pc, tcount, icount, ecount
 * then up to <limit> lines "0x%016x, <translations>, <insns>, <executions>",
 * most executed first (ties: lower pc first). Blocks are keyed on (pc, number
 * of instructions); tcount counts how often the block was translated.
 *
 * QEMU's version walked its sorted list with "i < limit && it->next", so it
 * never printed the last element (and printed nothing for a single entry).
 * This version prints every entry up to the limit.
 *
 * Written for qplug from the documented behaviour of QEMU's contrib/plugins/hotblocks.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "hotblocks.c builds against API v7"
#endif

typedef struct {
  uint64_t start_addr;
  uint64_t insns;
  int trans_count;
  struct qemu_plugin_scoreboard *exec_count; /* uint64_t per vCPU */
} ExecCount;

static bool do_inline;
static int limit = 20;
static GMutex lock;
static GHashTable *hotblocks; /* ExecCount (pc, insns) -> ExecCount */

static guint block_hash(gconstpointer p) {
  const ExecCount *e = p;
  return g_int64_hash(&e->start_addr) ^ (guint)(e->insns * 0x9e3779b1u);
}

static gboolean block_equal(gconstpointer a, gconstpointer b) {
  const ExecCount *ea = a;
  const ExecCount *eb = b;
  return ea->start_addr == eb->start_addr && ea->insns == eb->insns;
}

static uint64_t exec_total(const ExecCount *e) {
  return qemu_plugin_u64_sum(qemu_plugin_scoreboard_u64(e->exec_count));
}

typedef struct {
  ExecCount *entry;
  uint64_t total;
} SortItem;

static int cmp_exec(const void *a, const void *b) {
  const SortItem *sa = a;
  const SortItem *sb = b;
  if (sa->total != sb->total) {
    return sa->total > sb->total ? -1 : 1;
  }
  if (sa->entry->start_addr != sb->entry->start_addr) {
    return sa->entry->start_addr < sb->entry->start_addr ? -1 : 1;
  }
  return sa->entry->insns < sb->entry->insns ? -1 : sa->entry->insns > sb->entry->insns;
}

static void plugin_exit(void *p) {
  GString *report = g_string_new("");
  guint n = g_hash_table_size(hotblocks);
  g_string_append_printf(report, "collected %u entries in the hash table\n", n);

  SortItem *items = g_new(SortItem, n ? n : 1);
  GHashTableIter iter;
  gpointer value;
  guint i = 0;
  g_hash_table_iter_init(&iter, hotblocks);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    items[i].entry = value;
    items[i].total = exec_total(value);
    i++;
  }
  qsort(items, n, sizeof(SortItem), cmp_exec);

  g_string_append(report, "pc, tcount, icount, ecount\n");
  for (i = 0; i < n && i < (guint)limit; i++) {
    const ExecCount *e = items[i].entry;
    g_string_append_printf(report, "0x%016" PRIx64 ", %d, %" PRIu64 ", %" PRIu64 "\n",
                           e->start_addr, e->trans_count, e->insns, items[i].total);
  }
  qemu_plugin_outs(report->str);
  g_string_free(report, TRUE);
  g_free(items);
}

static void vcpu_tb_exec(unsigned int cpu_index, void *udata) {
  ExecCount *e = udata;
  qemu_plugin_u64_add(qemu_plugin_scoreboard_u64(e->exec_count), cpu_index, 1);
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  ExecCount key = {.start_addr = qemu_plugin_tb_vaddr(tb), .insns = qemu_plugin_tb_n_insns(tb)};

  g_mutex_lock(&lock);
  ExecCount *e = g_hash_table_lookup(hotblocks, &key);
  if (e) {
    e->trans_count++;
  } else {
    e = g_new0(ExecCount, 1);
    *e = key;
    e->trans_count = 1;
    e->exec_count = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    g_hash_table_insert(hotblocks, e, e);
  }
  g_mutex_unlock(&lock);

  if (do_inline) {
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                                      qemu_plugin_scoreboard_u64(e->exec_count), 1);
  } else {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_tb_exec, QEMU_PLUGIN_CB_NO_REGS, e);
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = false;
    if (g_strcmp0(tokens[0], "inline") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_inline);
    } else if (g_strcmp0(tokens[0], "limit") == 0 && tokens[1]) {
      char *end;
      long v = strtol(tokens[1], &end, 0);
      ok = *tokens[1] && !*end && v >= 0 && v <= G_MAXINT;
      limit = (int)v;
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }
  hotblocks = g_hash_table_new(block_hash, block_equal);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
