/*
 * syscall: system call statistics or trace.
 *
 * Arguments (anything else is an error):
 *   print=BOOL       trace each call instead of collecting statistics
 *   log_writes=BOOL  hexdump the buffer of every write(2) (API v4+ builds)
 *
 * Default output at exit: "syscall no.  calls  errors" and one row per system
 * call number, "%-13d%-6d %d" (number, calls, calls that returned a negative
 * value), most frequent first (ties: lower number first).
 * print=on instead prints "syscall #N" on entry and "syscall #N returned -> R"
 * on return.
 * log_writes=on prints the written bytes 16 per line: "%02x " per byte, three
 * spaces per missing byte on the last line, " | ", then the printable ASCII
 * characters (others as '.').
 * Filter self-test (API v6+ builds): system call 4096 with first argument
 * 0x66CCFF is not passed to the kernel and returns 0xFFCC66; in print mode it
 * logs "magic syscall filtered, set magic return".
 * Built against API v1 (QEMU 7.2): the same without log_writes and the filter.
 *
 * Written for qplug from the documented behaviour of QEMU's tests/tcg/plugins/syscall.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1 && QEMU_PLUGIN_VERSION < 7
#error "syscall.c builds against API v1 or v7"
#endif

#define MAGIC_SYSCALL 4096
#define MAGIC_ARG 0x66CCFF
#define MAGIC_RET 0xFFCC66

typedef struct {
  int64_t num;
  int64_t calls;
  int64_t errors;
} SyscallStats;

static GMutex lock;
static GHashTable *statistics; /* NULL in print mode */
static bool do_log_writes;
static int64_t write_sysno = -1;

/* write(2) numbers of the targets whose names qemu_info_t may carry. */
static const struct {
  const char *target;
  int64_t write_sysno;
} write_sysnos[] = {
    {"x86_64", 1},   {"i386", 4},     {"aarch64", 64},     {"arm", 4},
    {"riscv64", 64}, {"riscv32", 64}, {"loongarch64", 64}, {"ppc64", 4},
    {"ppc", 4},      {"s390x", 4},    {"mips", 4004},      {"mips64", 5001},
    {"sparc64", 4},  {"sparc", 4},    {"hexagon", 64},     {"microblaze", 4},
};

static SyscallStats *get_entry(int64_t num) {
  SyscallStats *entry = g_hash_table_lookup(statistics, &num);
  if (!entry) {
    entry = g_new0(SyscallStats, 1);
    entry->num = num;
    g_hash_table_insert(statistics, &entry->num, entry);
  }
  return entry;
}

#if QEMU_PLUGIN_VERSION >= 4
static void hexdump(const GByteArray *data) {
  GString *out = g_string_new("");
  for (guint line = 0; line < data->len; line += 16) {
    guint n = MIN(16, data->len - line);
    for (guint i = 0; i < 16; i++) {
      if (i < n) {
        g_string_append_printf(out, "%02x ", data->data[line + i]);
      } else {
        g_string_append(out, "   ");
      }
    }
    g_string_append(out, " | ");
    for (guint i = 0; i < n; i++) {
      char c = (char)data->data[line + i];
      g_string_append_c(out, g_ascii_isgraph(c) ? c : '.');
    }
    g_string_append_c(out, '\n');
  }
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
}
#endif

static void on_syscall(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3) {
  if (statistics) {
    g_mutex_lock(&lock);
    get_entry(num)->calls++;
    g_mutex_unlock(&lock);
  } else {
    char *msg = g_strdup_printf("syscall #%" PRIi64 "\n", num);
    qemu_plugin_outs(msg);
    g_free(msg);
  }
#if QEMU_PLUGIN_VERSION >= 4
  if (do_log_writes && num == write_sysno && a3 > 0) {
    GByteArray *buf = g_byte_array_new();
    if (qemu_plugin_read_memory_vaddr(a2, buf, a3)) {
      hexdump(buf);
    }
    g_byte_array_free(buf, TRUE);
  }
#endif
}

static void on_syscall_ret(unsigned int vcpu_index, int64_t num, int64_t ret) {
  if (statistics) {
    g_mutex_lock(&lock);
    SyscallStats *entry = get_entry(num);
    if (ret < 0) {
      entry->errors++;
    }
    g_mutex_unlock(&lock);
  } else {
    char *msg = g_strdup_printf("syscall #%" PRIi64 " returned -> %" PRIi64 "\n", num, ret);
    qemu_plugin_outs(msg);
    g_free(msg);
  }
}

static gint cmp_calls(gconstpointer a, gconstpointer b) {
  const SyscallStats *sa = a;
  const SyscallStats *sb = b;
  if (sa->calls != sb->calls) {
    return sa->calls > sb->calls ? -1 : 1;
  }
  return sa->num < sb->num ? -1 : sa->num > sb->num;
}

static void report(void) {
  if (!statistics) {
    return;
  }
  GString *out = g_string_new("syscall no.  calls  errors\n");
  g_mutex_lock(&lock);
  GList *list = g_list_sort(g_hash_table_get_values(statistics), cmp_calls);
  for (GList *it = list; it; it = it->next) {
    SyscallStats *e = it->data;
    g_string_append_printf(out, "%-13" PRIi64 "%-6" PRIi64 " %" PRIi64 "\n", e->num, e->calls,
                           e->errors);
  }
  g_list_free(list);
  g_mutex_unlock(&lock);
  qemu_plugin_outs(out->str);
  g_string_free(out, TRUE);
}

#if QEMU_PLUGIN_VERSION == 1
static void vcpu_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                         uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
                         uint64_t a7, uint64_t a8) {
  on_syscall(vcpu_index, num, a1, a2, a3);
}

static void vcpu_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret) {
  on_syscall_ret(vcpu_idx, num, ret);
}

static void plugin_exit(qemu_plugin_id_t id, void *p) { report(); }
#else
static void vcpu_syscall(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                         uint64_t a8, void *userdata) {
  on_syscall(vcpu_index, num, a1, a2, a3);
}

static void vcpu_syscall_ret(unsigned int vcpu_index, int64_t num, int64_t ret, void *userdata) {
  on_syscall_ret(vcpu_index, num, ret);
}

static bool vcpu_syscall_filter(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                                uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                uint64_t a8, int64_t *sysret, void *userdata) {
  if (num == MAGIC_SYSCALL && a1 == MAGIC_ARG) {
    *sysret = MAGIC_RET;
    if (!statistics) {
      qemu_plugin_outs("magic syscall filtered, set magic return\n");
    }
    return true;
  }
  return false;
}

static void plugin_exit(void *p) { report(); }
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  bool do_print = false;
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = false;
    if (g_strcmp0(tokens[0], "print") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_print);
#if QEMU_PLUGIN_VERSION >= 4
    } else if (g_strcmp0(tokens[0], "log_writes") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &do_log_writes);
#endif
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "Unsupported argument: %s\n", argv[i]);
      return -1;
    }
  }

  if (!do_print) {
    statistics = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(write_sysnos); i++) {
    if (g_strcmp0(info->target_name, write_sysnos[i].target) == 0) {
      write_sysno = write_sysnos[i].write_sysno;
    }
  }
  if (do_log_writes && write_sysno < 0) {
    fprintf(stderr, "log_writes: unknown write(2) number for target %s\n", info->target_name);
    return -1;
  }

#if QEMU_PLUGIN_VERSION == 1
  qemu_plugin_register_vcpu_syscall_cb(id, vcpu_syscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, vcpu_syscall_ret);
#else
  qemu_plugin_register_vcpu_syscall_cb(id, vcpu_syscall, NULL);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, vcpu_syscall_ret, NULL);
  qemu_plugin_register_vcpu_syscall_filter_cb(id, vcpu_syscall_filter, NULL);
#endif
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
