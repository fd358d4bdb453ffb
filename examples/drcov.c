/*
 * drcov: block coverage in DynamoRIO's drcov format, as read by Lighthouse,
 * bncov, dragondance and other drcov readers.
 *
 * Arguments:
 *   filename=PATH  output file (default "file.drcov.trace"); every "%p" in
 *                  PATH is replaced by the process id when the file is
 *                  written. Without "%p", the first process writes PATH and
 *                  every other process of the run (fork children, and
 *                  programs qplug follows across execve, which it marks with
 *                  QPLUG_FOLLOWED in its own environment) inserts ".<pid>"
 *                  before the name's extension (cov.drcov: cov.<pid>.drcov),
 *                  so each process has its own file and a glob on the
 *                  extension (*.drcov) finds them all. A relative PATH is
 *                  taken from the working directory at start-up.
 * Unknown arguments are ignored, as QEMU's drcov does.
 *
 * The file is written at exit:
 *   DRCOV VERSION: 2
 *   DRCOV FLAVOR: drcov-64
 *   Module Table: version 2, count <N>
 *   Columns: id, base, end, entry, path
 *   <id %3u>, 0x<base %016x>, 0x<end>, 0x<entry>, <path>      one per module
 *   BB Table: <M> bbs
 *   <M binary records {uint32 start, uint16 size, uint16 mod_id}, little-endian, packed>
 *
 * Unlike QEMU's drcov (one module, absolute 32-bit addresses, duplicated
 * records), this version lists every module that contains executed blocks:
 * the main program, the dynamic loader, each shared library and [vdso]. The
 * plugin shares its address space with the guest under qplug, so at exit it
 * reads /proc/self/maps: consecutive mappings of the same file (same path and
 * inode, file offsets not decreasing, anonymous mappings such as .bss allowed
 * in between) form one module whose base is the lowest start address of the
 * group and whose end is the highest end. Each executed block is attributed to
 * the mapping that contains it; blocks outside every file-backed or named
 * mapping (e.g. JIT code in anonymous memory) are left out. "start" is the
 * block's offset from its module base, "size" the sum of its instruction
 * sizes; identical (start, size, module) records are written once. "entry"
 * is the module's ELF entry point (relocated for ET_DYN images), 0 when unknown.
 *
 * Written for qplug from the documented drcov format (DynamoRIO drcovlib) and
 * the documented behaviour of QEMU's contrib/plugins/drcov.c.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "drcov.c builds against API v7"
#endif

typedef struct {
  uint64_t vaddr;
  uint64_t size;
  int exec; /* set by the first execution */
} Block;

typedef struct {
  uint64_t start, end, offset, inode;
  char perms[5];
  char *path; /* NULL for anonymous mappings */
  int group;  /* index into the groups array, -1 when anonymous */
} Mapping;

typedef struct {
  uint64_t base, end, entry;
  char *path;
  uint64_t inode;
  uint64_t last_offset;
  uint64_t first_offset;
  bool readable_first;
  int id; /* module id in the file, -1 while it has no block */
} Group;

typedef struct {
  uint32_t start;
  uint16_t size;
  uint16_t mod_id;
} BBRecord;

static char *filename;
static GMutex lock;
static GHashTable *blocks; /* Block (vaddr, size) -> Block */

static guint block_hash(gconstpointer p) {
  const Block *b = p;
  return g_int64_hash(&b->vaddr) ^ (guint)(b->size * 0x9e3779b1u);
}

static gboolean block_equal(gconstpointer a, gconstpointer b) {
  const Block *ba = a;
  const Block *bb = b;
  return ba->vaddr == bb->vaddr && ba->size == bb->size;
}

static void vcpu_tb_exec(unsigned int cpu_index, void *udata) {
  Block *b = udata;
  __atomic_store_n(&b->exec, 1, __ATOMIC_RELAXED);
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  Block key = {.vaddr = qemu_plugin_tb_vaddr(tb), .size = 0, .exec = 0};
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    key.size += qemu_plugin_insn_size(qemu_plugin_tb_get_insn(tb, i));
  }

  g_mutex_lock(&lock);
  Block *b = g_hash_table_lookup(blocks, &key);
  if (!b) {
    b = g_new(Block, 1);
    *b = key;
    g_hash_table_insert(blocks, b, b);
  }
  g_mutex_unlock(&lock);

  /* A re-translation of a block already known to run needs no callback. */
  if (!__atomic_load_n(&b->exec, __ATOMIC_RELAXED)) {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_tb_exec, QEMU_PLUGIN_CB_NO_REGS, b);
  }
}

/* Parses /proc/self/maps into mappings, and groups the named ones. */
static bool read_maps(GArray *maps, GArray *groups) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) {
    return false;
  }
  char *line = NULL;
  size_t cap = 0;
  int open_group = -1; /* group the next mapping of the same file may join */
  while (getline(&line, &cap, f) > 0) {
    Mapping m = {0};
    unsigned int dev_major, dev_minor;
    int path_pos = 0;
    line[strcspn(line, "\n")] = '\0';
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m.start,
               &m.end, m.perms, &m.offset, &dev_major, &dev_minor, &m.inode, &path_pos) < 7) {
      continue;
    }
    const char *path = path_pos ? line + path_pos : "";
    m.group = -1;
    if (*path) {
      m.path = g_strdup(path);
      Group *g = open_group >= 0 ? &g_array_index(groups, Group, open_group) : NULL;
      if (g && g->inode == m.inode && strcmp(g->path, m.path) == 0 && m.offset >= g->last_offset) {
        g->end = m.end;
        g->last_offset = m.offset;
      } else {
        Group ng = {.base = m.start,
                    .end = m.end,
                    .path = m.path,
                    .inode = m.inode,
                    .last_offset = m.offset,
                    .first_offset = m.offset,
                    .readable_first = m.perms[0] == 'r',
                    .id = -1};
        g_array_append_val(groups, ng);
        open_group = groups->len - 1;
      }
      m.group = open_group;
    }
    g_array_append_val(maps, m);
  }
  free(line);
  fclose(f);
  return true;
}

/* The ELF entry point of a module, relocated for ET_DYN images; 0 if unknown. */
static uint64_t module_entry(const Group *g) {
  Elf64_Ehdr eh;
  bool ok = false;
  if (g->first_offset != 0) {
    return 0;
  }
  if (g->path[0] == '/') {
    int fd = open(g->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ok = pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh);
      close(fd);
    }
  } else if (strcmp(g->path, "[vdso]") == 0 && g->readable_first) {
    memcpy(&eh, (const void *)(uintptr_t)g->base, sizeof(eh)); /* same address space */
    ok = true;
  }
  if (!ok || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return 0;
  }
  return eh.e_type == ET_DYN ? g->base + eh.e_entry : eh.e_entry;
}

static int cmp_block_vaddr(const void *a, const void *b) {
  const Block *ba = *(Block *const *)a;
  const Block *bb = *(Block *const *)b;
  if (ba->vaddr != bb->vaddr) {
    return ba->vaddr < bb->vaddr ? -1 : 1;
  }
  return ba->size < bb->size ? -1 : ba->size > bb->size;
}

/* The mapping containing addr (maps are sorted by address), or NULL. */
static const Mapping *find_mapping(GArray *maps, uint64_t addr) {
  guint lo = 0, hi = maps->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const Mapping *m = &g_array_index(maps, Mapping, mid);
    if (addr < m->start) {
      hi = mid;
    } else if (addr >= m->end) {
      lo = mid + 1;
    } else {
      return m;
    }
  }
  return NULL;
}

static pid_t install_pid;

static char *output_name(void) {
  char pid[32];
  snprintf(pid, sizeof(pid), "%ld", (long)getpid());
  const int other_process = getpid() != install_pid || getenv("QPLUG_FOLLOWED") != NULL;
  if (other_process && !strstr(filename, "%p")) {
    /* The extension is what follows the last dot of the last component (not
     * a leading dot): ".<pid>" goes before it, or at the end without one. */
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return g_strdup_printf("%s.%s", filename, pid);
    return g_strdup_printf("%.*s.%s%s", (int)(dot - filename), filename, pid, dot);
  }
  GString *name = g_string_new("");
  for (const char *p = filename; *p; p++) {
    if (p[0] == '%' && p[1] == 'p') {
      g_string_append(name, pid);
      p++;
    } else {
      g_string_append_c(name, *p);
    }
  }
  return g_string_free(name, FALSE);
}

static void plugin_exit(void *p) {
  GArray *maps = g_array_new(FALSE, TRUE, sizeof(Mapping));
  GArray *groups = g_array_new(FALSE, TRUE, sizeof(Group));
  if (!read_maps(maps, groups)) {
    /* No maps: fall back to the main program as QEMU reports it. */
    Mapping m = {.start = qemu_plugin_start_code(), .end = qemu_plugin_end_code(), .group = 0};
    Group g = {
        .base = m.start, .end = m.end, .path = (char *)qemu_plugin_path_to_binary(), .id = -1};
    g_array_append_val(maps, m);
    g_array_append_val(groups, g);
  }

  g_mutex_lock(&lock);
  guint n_blocks = 0;
  Block **executed = g_new(Block *, g_hash_table_size(blocks) + 1);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, blocks);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    if (((Block *)value)->exec) {
      executed[n_blocks++] = value;
    }
  }
  g_mutex_unlock(&lock);
  qsort(executed, n_blocks, sizeof(Block *), cmp_block_vaddr);

  /* Attribute blocks to groups; number the groups that have blocks by address. */
  int *block_group = g_new(int, n_blocks + 1);
  for (guint i = 0; i < n_blocks; i++) {
    const Mapping *m = find_mapping(maps, executed[i]->vaddr);
    block_group[i] = m ? m->group : -1;
    if (block_group[i] >= 0) {
      g_array_index(groups, Group, block_group[i]).id = 0;
    }
  }
  int n_modules = 0;
  for (guint i = 0; i < groups->len; i++) {
    Group *g = &g_array_index(groups, Group, i);
    if (g->id == 0) {
      g->id = n_modules++;
      g->entry = module_entry(g);
    }
  }

  GArray *records = g_array_new(FALSE, FALSE, sizeof(BBRecord));
  for (guint i = 0; i < n_blocks; i++) {
    if (block_group[i] < 0) {
      continue;
    }
    const Group *g = &g_array_index(groups, Group, block_group[i]);
    uint64_t size = executed[i]->size;
    if (executed[i]->vaddr + size > g->end) {
      size = g->end - executed[i]->vaddr;
    }
    BBRecord r = {.start = (uint32_t)(executed[i]->vaddr - g->base),
                  .size = (uint16_t)MIN(size, 0xffff),
                  .mod_id = (uint16_t)g->id};
    if (records->len) {
      const BBRecord *prev = &g_array_index(records, BBRecord, records->len - 1);
      if (prev->start == r.start && prev->size == r.size && prev->mod_id == r.mod_id) {
        continue; /* sizes differing only beyond 0xffff */
      }
    }
    g_array_append_val(records, r);
  }

  char *name = output_name();
  FILE *f = fopen(name, "wb");
  if (!f) {
    fprintf(stderr, "drcov: cannot open %s: %s\n", name, strerror(errno));
  } else {
    fprintf(f, "DRCOV VERSION: 2\nDRCOV FLAVOR: drcov-64\n");
    fprintf(f, "Module Table: version 2, count %d\n", n_modules);
    fprintf(f, "Columns: id, base, end, entry, path\n");
    for (guint i = 0; i < groups->len; i++) {
      const Group *g = &g_array_index(groups, Group, i);
      if (g->id >= 0) {
        fprintf(f, "%3d, 0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 ", %s\n", g->id,
                g->base, g->end, g->entry, g->path);
      }
    }
    fprintf(f, "BB Table: %u bbs\n", records->len);
    for (guint i = 0; i < records->len; i++) {
      const BBRecord *r = &g_array_index(records, BBRecord, i);
      uint8_t raw[8];
      /* Explicit little-endian packing: {uint32 start; uint16 size; uint16 mod_id}. */
      for (int k = 0; k < 4; k++) {
        raw[k] = (uint8_t)(r->start >> (8 * k));
      }
      raw[4] = (uint8_t)r->size;
      raw[5] = (uint8_t)(r->size >> 8);
      raw[6] = (uint8_t)r->mod_id;
      raw[7] = (uint8_t)(r->mod_id >> 8);
      fwrite(raw, sizeof(raw), 1, f);
    }
    if (fclose(f) != 0) {
      fprintf(stderr, "drcov: error writing %s: %s\n", name, strerror(errno));
    }
  }
  g_free(name);
  g_array_free(records, TRUE);
  g_free(block_group);
  g_free(executed);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  const char *name = "file.drcov.trace";
  for (int i = 0; i < argc; i++) {
    if (g_str_has_prefix(argv[i], "filename=")) {
      name = argv[i] + strlen("filename=");
    }
  }
  filename = g_canonicalize_filename(name, NULL);
  install_pid = getpid();
  blocks = g_hash_table_new(block_hash, block_equal);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
