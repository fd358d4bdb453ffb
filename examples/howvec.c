/*
 * howvec: executed instructions by class, and the most executed individual
 * instructions.
 *
 * Arguments:
 *   inline=BOOL    count with inline adds instead of callbacks
 *   verbose=BOOL   also list classes that were never executed
 *   count=OPT      count the instructions of class OPT individually
 *   count=!OPT     do not count class OPT at all
 *
 * Output at exit:
 *   Instruction Classes:
 *   Class: <name, %-24s>\t(<n> hits)          counted as a class
 *   Class: <name>\tcounted individually
 *   Class: <name>\tnot counted
 *   Individual Instructions:
 *   Instr: <disas, %-24s>\t(<n> hits)\t(op=0x%08x/<class>)   up to 50, most executed first
 *
 * Instructions are keyed on their first 4 bytes read as a host-endian u32
 * (shorter instructions are zero-padded); the disassembly shown is that of the
 * first instruction seen with that key. QEMU's version has class tables for
 * a few targets (aarch64, sparc64, mips); x86_64 has none and uses a single
 * class, "Unclassified" (option "unclassified"), counted individually.
 *
 * Written for qplug from the documented behaviour of QEMU's contrib/plugins/howvec.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "howvec.c builds against API v7"
#endif

#define LIMIT 50

typedef enum { COUNT_CLASS, COUNT_INDIVIDUAL, COUNT_NONE } CountType;

typedef struct {
  const char *class;
  const char *opt;
  uint32_t mask;
  uint32_t pattern;
  CountType what;
  qemu_plugin_u64 count;
} InsnClassExecCount;

typedef struct {
  char *insn;
  uint32_t opcode;
  qemu_plugin_u64 count;
  InsnClassExecCount *class;
} InsnExecCount;

/* The table for targets without their own: everything is unclassified. */
static InsnClassExecCount default_classes[] = {
    {"Unclassified", "unclassified", 0x00000000, 0x00000000, COUNT_INDIVIDUAL, {NULL, 0}},
};

static InsnClassExecCount *classes = default_classes;
static int n_classes = G_N_ELEMENTS(default_classes);

static bool do_inline;
static bool verbose;
static GMutex lock;
static GHashTable *insns; /* opcode -> InsnExecCount */

static qemu_plugin_u64 new_counter(void) {
  return qemu_plugin_scoreboard_u64(qemu_plugin_scoreboard_new(sizeof(uint64_t)));
}

typedef struct {
  InsnExecCount *rec;
  uint64_t total;
} SortItem;

static int cmp_exec(const void *a, const void *b) {
  const SortItem *sa = a;
  const SortItem *sb = b;
  if (sa->total != sb->total) {
    return sa->total > sb->total ? -1 : 1;
  }
  return sa->rec->opcode < sb->rec->opcode ? -1 : sa->rec->opcode > sb->rec->opcode;
}

static void plugin_exit(void *p) {
  GString *report = g_string_new("Instruction Classes:\n");
  for (int i = 0; i < n_classes; i++) {
    InsnClassExecCount *c = &classes[i];
    switch (c->what) {
      case COUNT_CLASS: {
        uint64_t hits = qemu_plugin_u64_sum(c->count);
        if (hits || verbose) {
          g_string_append_printf(report, "Class: %-24s\t(%" PRIu64 " hits)\n", c->class, hits);
        }
        break;
      }
      case COUNT_INDIVIDUAL:
        g_string_append_printf(report, "Class: %-24s\tcounted individually\n", c->class);
        break;
      case COUNT_NONE:
        g_string_append_printf(report, "Class: %-24s\tnot counted\n", c->class);
        break;
    }
  }

  g_mutex_lock(&lock);
  guint n = g_hash_table_size(insns);
  SortItem *items = g_new(SortItem, n ? n : 1);
  GHashTableIter iter;
  gpointer value;
  guint i = 0;
  g_hash_table_iter_init(&iter, insns);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    items[i].rec = value;
    items[i].total = qemu_plugin_u64_sum(items[i].rec->count);
    i++;
  }
  g_mutex_unlock(&lock);
  qsort(items, n, sizeof(SortItem), cmp_exec);

  if (n) {
    g_string_append(report, "Individual Instructions:\n");
    for (i = 0; i < n && i < LIMIT; i++) {
      InsnExecCount *rec = items[i].rec;
      g_string_append_printf(report, "Instr: %-24s\t(%" PRIu64 " hits)\t(op=0x%08x/%s)\n",
                             rec->insn, items[i].total, rec->opcode,
                             rec->class ? rec->class->class : "un-categorised");
    }
  }
  g_free(items);
  qemu_plugin_outs(report->str);
  g_string_free(report, TRUE);
}

static void vcpu_insn_exec(unsigned int cpu_index, void *udata) {
  qemu_plugin_u64 *count = udata;
  qemu_plugin_u64_add(*count, cpu_index, 1);
}

static qemu_plugin_u64 *find_counter(struct qemu_plugin_insn *insn) {
  uint32_t opcode = 0;
  qemu_plugin_insn_data(insn, &opcode, sizeof(opcode));

  InsnClassExecCount *class = NULL;
  for (int i = 0; i < n_classes; i++) {
    if ((opcode & classes[i].mask) == classes[i].pattern) {
      class = &classes[i];
      break;
    }
  }
  if (!class || class->what == COUNT_NONE) {
    return NULL;
  }
  if (class->what == COUNT_CLASS) {
    return &class->count;
  }

  g_mutex_lock(&lock);
  InsnExecCount *rec = g_hash_table_lookup(insns, GUINT_TO_POINTER(opcode));
  if (!rec) {
    rec = g_new0(InsnExecCount, 1);
    rec->insn = qemu_plugin_insn_disas(insn);
    rec->opcode = opcode;
    rec->count = new_counter();
    rec->class = class;
    g_hash_table_insert(insns, GUINT_TO_POINTER(opcode), rec);
  }
  g_mutex_unlock(&lock);
  return &rec->count;
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_u64 *count = find_counter(insn);
    if (!count) {
      continue;
    }
    if (do_inline) {
      qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, *count,
                                                          1);
    } else {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_insn_exec, QEMU_PLUGIN_CB_NO_REGS, count);
    }
  }
}

static bool set_class_count(const char *opt) {
  CountType type = COUNT_INDIVIDUAL;
  if (*opt == '!') {
    type = COUNT_NONE;
    opt++;
  }
  bool found = false;
  for (int i = 0; i < n_classes; i++) {
    if (g_strcmp0(classes[i].opt, opt) == 0) {
      classes[i].what = type;
      found = true;
    }
  }
  return found;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  /* qplug only runs x86_64 guests; every target uses the default table here. */
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = false;
    if (g_strcmp0(tokens[0], "inline") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_inline);
    } else if (g_strcmp0(tokens[0], "verbose") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &verbose);
    } else if (g_strcmp0(tokens[0], "count") == 0 && tokens[1]) {
      ok = set_class_count(tokens[1]);
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }
  for (int i = 0; i < n_classes; i++) {
    classes[i].count = new_counter();
  }
  insns = g_hash_table_new(NULL, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
