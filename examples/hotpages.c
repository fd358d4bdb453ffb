/*
 * hotpages: memory accesses per page.
 *
 * Arguments:
 *   sortby=reads|writes|address  order of the report (default: reads + writes)
 *   io=BOOL                      also count accesses to IO memory (none in user mode)
 *   pagesize=N                   page size in bytes, a power of two (default 4096)
 *
 * Output at exit: "Addr, RCPUs, Reads, WCPUs, Writes" then up to 50 lines
 *   0x%016x, 0x%04x, <reads>, 0x%04x, <writes>
 * where the CPU columns are bitmasks (1 << vcpu index) of the vCPUs that read
 * or wrote the page. In user mode pages are guest virtual pages.
 *
 * QEMU's version walked its sorted list with "it->next" as the loop condition
 * and so never printed the last element; this version prints every entry up
 * to the limit.
 *
 * Written for qplug from the documented behaviour of QEMU's contrib/plugins/hotpages.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "hotpages.c builds against API v7"
#endif

enum sort_type { SORT_RW, SORT_R, SORT_W, SORT_A };

typedef struct {
  uint64_t page_address;
  int cpu_read;
  int cpu_write;
  uint64_t reads;
  uint64_t writes;
} PageCounters;

static uint64_t page_size = 4096;
static uint64_t page_mask;
static int limit = 50;
static enum sort_type sort_by = SORT_RW;
static bool track_io;
static GMutex lock;
static GHashTable *pages; /* page address -> PageCounters */

static int cmp_pages(const void *a, const void *b) {
  const PageCounters *ea = *(PageCounters *const *)a;
  const PageCounters *eb = *(PageCounters *const *)b;
  uint64_t va = 0, vb = 0;
  switch (sort_by) {
    case SORT_RW:
      va = ea->reads + ea->writes;
      vb = eb->reads + eb->writes;
      break;
    case SORT_R:
      va = ea->reads;
      vb = eb->reads;
      break;
    case SORT_W:
      va = ea->writes;
      vb = eb->writes;
      break;
    case SORT_A:
      break;
  }
  if (va != vb) {
    return va > vb ? -1 : 1; /* counts: highest first */
  }
  return ea->page_address < eb->page_address ? -1 : ea->page_address > eb->page_address;
}

static void plugin_exit(void *p) {
  GString *report = g_string_new("Addr, RCPUs, Reads, WCPUs, Writes\n");
  g_mutex_lock(&lock);
  guint n = g_hash_table_size(pages);
  PageCounters **items = g_new(PageCounters *, n ? n : 1);
  GHashTableIter iter;
  gpointer value;
  guint i = 0;
  g_hash_table_iter_init(&iter, pages);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    items[i++] = value;
  }
  qsort(items, n, sizeof(*items), cmp_pages);
  for (i = 0; i < n && i < (guint)limit; i++) {
    const PageCounters *rec = items[i];
    g_string_append_printf(report, "0x%016" PRIx64 ", 0x%04x, %" PRIu64 ", 0x%04x, %" PRIu64 "\n",
                           rec->page_address, rec->cpu_read, rec->reads, rec->cpu_write,
                           rec->writes);
  }
  g_mutex_unlock(&lock);
  qemu_plugin_outs(report->str);
  g_string_free(report, TRUE);
  g_free(items);
}

static void vcpu_haddr(unsigned int cpu_index, qemu_plugin_meminfo_t meminfo, uint64_t vaddr,
                       void *udata) {
  struct qemu_plugin_hwaddr *hwaddr = qemu_plugin_get_hwaddr(meminfo, vaddr);
  uint64_t page;
  if (hwaddr && qemu_plugin_hwaddr_is_io(hwaddr)) {
    if (!track_io) {
      return;
    }
    page = vaddr;
  } else if (hwaddr) {
    page = qemu_plugin_hwaddr_phys_addr(hwaddr);
  } else {
    page = vaddr; /* user mode: no physical addresses */
  }
  page &= page_mask;

  g_mutex_lock(&lock);
  PageCounters *cnt = g_hash_table_lookup(pages, &page);
  if (!cnt) {
    cnt = g_new0(PageCounters, 1);
    cnt->page_address = page;
    g_hash_table_insert(pages, &cnt->page_address, cnt);
  }
  if (qemu_plugin_mem_is_store(meminfo)) {
    cnt->writes++;
    cnt->cpu_write |= 1 << (cpu_index & 31);
  } else {
    cnt->reads++;
    cnt->cpu_read |= 1 << (cpu_index & 31);
  }
  g_mutex_unlock(&lock);
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_mem_cb(insn, vcpu_haddr, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                     NULL);
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = false;
    if (g_strcmp0(tokens[0], "sortby") == 0) {
      ok = true;
      if (g_strcmp0(tokens[1], "reads") == 0) {
        sort_by = SORT_R;
      } else if (g_strcmp0(tokens[1], "writes") == 0) {
        sort_by = SORT_W;
      } else if (g_strcmp0(tokens[1], "address") == 0) {
        sort_by = SORT_A;
      } else {
        ok = false;
      }
    } else if (g_strcmp0(tokens[0], "io") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &track_io);
    } else if (g_strcmp0(tokens[0], "pagesize") == 0 && tokens[1]) {
      char *end;
      guint64 v = g_ascii_strtoull(tokens[1], &end, 0);
      ok = *tokens[1] && !*end && v > 0 && (v & (v - 1)) == 0;
      page_size = v;
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }
  page_mask = ~(page_size - 1);
  pages = g_hash_table_new(g_int64_hash, g_int64_equal);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
