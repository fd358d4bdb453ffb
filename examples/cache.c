/*
 * cache: simulate L1 instruction and data caches, and optionally a unified
 * L2, per core; report hit/miss statistics and the instructions that miss most.
 *
 * Arguments (sizes in bytes):
 *   icachesize=N  iblksize=N  iassoc=N   L1 instruction cache (default 16384, 64, 8)
 *   dcachesize=N  dblksize=N  dassoc=N   L1 data cache (default 16384, 64, 8)
 *   l2=BOOL                              simulate the L2 cache (default off)
 *   l2cachesize=N l2blksize=N l2assoc=N  L2 cache (default 2097152, 64, 16); setting any enables L2
 *   evict=lru|fifo|rand                  replacement policy (default lru; rand uses a fixed seed)
 *   cores=N                              number of simulated cores (default: the vCPU
 *                                        count in system mode, 1 in user mode); vCPU i uses
 *                                        core i % N
 *   limit=N                              instructions listed per table (default 32)
 * Block sizes and the number of sets must be powers of two.
 *
 * Output at exit:
 *   core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate
 *   [, l2 accesses, l2 misses, l2 miss rate]
 * one row per core ("%-8d" then "%-14lu %-12lu %9.4lf%%  %-14lu %-12lu %9.4lf%%" and with
 * L2 "  %-12lu %-11lu %10.4lf%%"), a "sum" row when there is more than one
 * core, a blank line, then the tables "address, data misses, instruction",
 * "address, fetch misses, instruction" and (with L2) "address, L2 misses,
 * instruction" with rows "0x<addr>[ (<symbol>)], <misses>, <disas>".
 *
 * Written for qplug from the documented behaviour of QEMU's contrib/plugins/cache.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "cache.c builds against API v7"
#endif

enum EvictionPolicy { LRU, FIFO, RAND };

typedef struct {
  uint64_t tag;
  uint64_t stamp; /* LRU: last use; FIFO: fill time */
  bool valid;
} CacheBlock;

typedef struct {
  CacheBlock *blocks; /* num_sets * assoc */
  int num_sets;
  int assoc;
  int blksize_shift;
  uint64_t set_mask;
  uint64_t tag_mask;
  uint64_t clock;
  uint64_t accesses;
  uint64_t misses;
  GRand *rng; /* evict=rand, seeded identically for reproducible runs */
  GMutex lock;
} Cache;

typedef struct {
  char *disas_str;
  const char *symbol;
  uint64_t addr;
  uint64_t l1_dmisses;
  uint64_t l1_imisses;
  uint64_t l2_misses;
} InsnData;

static enum EvictionPolicy policy = LRU;
static int limit = 32;
static int cores;
static bool sys;
static bool use_l2;

static int l1_iblksize = 64, l1_iassoc = 8, l1_icachesize = 64 * 8 * 32;
static int l1_dblksize = 64, l1_dassoc = 8, l1_dcachesize = 64 * 8 * 32;
static int l2_blksize = 64, l2_assoc = 16, l2_cachesize = 64 * 16 * 2048;

static Cache **l1_dcaches, **l1_icaches, **l2_ucaches;
static GMutex hashtable_lock;
static GHashTable *miss_ht; /* address -> InsnData */

static bool is_pow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

/* NULL when the geometry is valid, else the reason. */
static const char *cache_config_error(int blksize, int assoc, int cachesize) {
  if (blksize <= 0 || assoc <= 0 || cachesize <= 0) {
    return "cache parameters must be positive";
  }
  if (cachesize % blksize != 0) {
    return "cache size must be divisible by block size";
  }
  if (cachesize % (blksize * assoc) != 0) {
    return "cache size must be divisible by set size (assoc * block size)";
  }
  if (!is_pow2(blksize)) {
    return "block size must be a power of two";
  }
  if (!is_pow2(cachesize / (blksize * assoc))) {
    return "number of sets must be a power of two";
  }
  return NULL;
}

static Cache *cache_init(int blksize, int assoc, int cachesize) {
  Cache *cache = g_new0(Cache, 1);
  cache->assoc = assoc;
  cache->num_sets = cachesize / (blksize * assoc);
  cache->blksize_shift = __builtin_ctz(blksize);
  cache->blocks = g_new0(CacheBlock, (size_t)cache->num_sets * assoc);
  cache->set_mask = ((uint64_t)cache->num_sets - 1) << cache->blksize_shift;
  cache->tag_mask = ~(cache->set_mask | ((uint64_t)blksize - 1));
  cache->rng = g_rand_new_with_seed(1);
  g_mutex_init(&cache->lock);
  return cache;
}

static Cache **caches_init(int blksize, int assoc, int cachesize) {
  Cache **caches = g_new(Cache *, cores);
  for (int i = 0; i < cores; i++) {
    caches[i] = cache_init(blksize, assoc, cachesize);
  }
  return caches;
}

/* Looks addr up; on a miss fills a block. Returns true on a hit. Called with
 * the cache lock held. */
static bool access_cache(Cache *cache, uint64_t addr) {
  uint64_t tag = addr & cache->tag_mask;
  uint64_t set = (addr & cache->set_mask) >> cache->blksize_shift;
  CacheBlock *blocks = &cache->blocks[set * cache->assoc];
  uint64_t now = ++cache->clock;

  for (int i = 0; i < cache->assoc; i++) {
    if (blocks[i].valid && blocks[i].tag == tag) {
      if (policy == LRU) {
        blocks[i].stamp = now;
      }
      return true;
    }
  }

  int victim = -1;
  for (int i = 0; i < cache->assoc && victim < 0; i++) {
    if (!blocks[i].valid) {
      victim = i;
    }
  }
  if (victim < 0) {
    if (policy == RAND) {
      victim = g_rand_int_range(cache->rng, 0, cache->assoc);
    } else {
      victim = 0; /* LRU: least recently used; FIFO: oldest fill */
      for (int i = 1; i < cache->assoc; i++) {
        if (blocks[i].stamp < blocks[victim].stamp) {
          victim = i;
        }
      }
    }
  }
  blocks[victim].tag = tag;
  blocks[victim].valid = true;
  blocks[victim].stamp = now;
  return false;
}

/* One access through L1 (and L2 on an L1 miss); updates the miss counters. */
static void simulate(Cache *l1, Cache *l2, uint64_t addr, uint64_t *l1_misses,
                     uint64_t *l2_misses) {
  g_mutex_lock(&l1->lock);
  bool hit = access_cache(l1, addr);
  l1->accesses++;
  if (!hit) {
    l1->misses++;
    __atomic_fetch_add(l1_misses, 1, __ATOMIC_RELAXED);
  }
  g_mutex_unlock(&l1->lock);
  if (hit || !l2) {
    return;
  }
  g_mutex_lock(&l2->lock);
  l2->accesses++;
  if (!access_cache(l2, addr)) {
    l2->misses++;
    __atomic_fetch_add(l2_misses, 1, __ATOMIC_RELAXED);
  }
  g_mutex_unlock(&l2->lock);
}

static void vcpu_mem_access(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                            void *userdata) {
  struct qemu_plugin_hwaddr *hwaddr = qemu_plugin_get_hwaddr(info, vaddr);
  if (hwaddr && qemu_plugin_hwaddr_is_io(hwaddr)) {
    return;
  }
  uint64_t addr = hwaddr ? qemu_plugin_hwaddr_phys_addr(hwaddr) : vaddr;
  InsnData *insn = userdata;
  int core = vcpu_index % cores;
  simulate(l1_dcaches[core], use_l2 ? l2_ucaches[core] : NULL, addr, &insn->l1_dmisses,
           &insn->l2_misses);
}

static void vcpu_insn_exec(unsigned int vcpu_index, void *userdata) {
  InsnData *insn = userdata;
  int core = vcpu_index % cores;
  simulate(l1_icaches[core], use_l2 ? l2_ucaches[core] : NULL, insn->addr, &insn->l1_imisses,
           &insn->l2_misses);
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t addr =
        sys ? (uint64_t)(uintptr_t)qemu_plugin_insn_haddr(insn) : qemu_plugin_insn_vaddr(insn);
    /* Re-translated instructions share their first record. */
    g_mutex_lock(&hashtable_lock);
    InsnData *data = g_hash_table_lookup(miss_ht, &addr);
    if (!data) {
      data = g_new0(InsnData, 1);
      data->disas_str = qemu_plugin_insn_disas(insn);
      data->symbol = qemu_plugin_insn_symbol(insn);
      data->addr = addr;
      g_hash_table_insert(miss_ht, &data->addr, data);
    }
    g_mutex_unlock(&hashtable_lock);
    qemu_plugin_register_vcpu_mem_cb(insn, vcpu_mem_access, QEMU_PLUGIN_CB_NO_REGS,
                                     QEMU_PLUGIN_MEM_RW, data);
    qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_insn_exec, QEMU_PLUGIN_CB_NO_REGS, data);
  }
}

static double rate(uint64_t misses, uint64_t accesses) {
  return accesses ? (double)misses / (double)accesses * 100.0 : 0.0;
}

static void append_stats_line(GString *line, uint64_t daccess, uint64_t dmisses, uint64_t iaccess,
                              uint64_t imisses, uint64_t l2access, uint64_t l2misses) {
  g_string_append_printf(
      line, "%-14" PRIu64 " %-12" PRIu64 " %9.4lf%%  %-14" PRIu64 " %-12" PRIu64 " %9.4lf%%",
      daccess, dmisses, rate(dmisses, daccess), iaccess, imisses, rate(imisses, iaccess));
  if (use_l2) {
    g_string_append_printf(line, "  %-12" PRIu64 " %-11" PRIu64 " %10.4lf%%", l2access, l2misses,
                           rate(l2misses, l2access));
  }
  g_string_append_c(line, '\n');
}

static void log_stats(void) {
  GString *rep = g_string_new(
      "core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate");
  if (use_l2) {
    g_string_append(rep, ", l2 accesses, l2 misses, l2 miss rate");
  }
  g_string_append_c(rep, '\n');

  uint64_t sum[6] = {0};
  for (int i = 0; i < cores; i++) {
    uint64_t v[6] = {l1_dcaches[i]->accesses,
                     l1_dcaches[i]->misses,
                     l1_icaches[i]->accesses,
                     l1_icaches[i]->misses,
                     use_l2 ? l2_ucaches[i]->accesses : 0,
                     use_l2 ? l2_ucaches[i]->misses : 0};
    g_string_append_printf(rep, "%-8d", i);
    append_stats_line(rep, v[0], v[1], v[2], v[3], v[4], v[5]);
    for (int k = 0; k < 6; k++) {
      sum[k] += v[k];
    }
  }
  if (cores > 1) {
    g_string_append_printf(rep, "%-8s", "sum");
    append_stats_line(rep, sum[0], sum[1], sum[2], sum[3], sum[4], sum[5]);
  }
  g_string_append_c(rep, '\n');
  qemu_plugin_outs(rep->str);
  g_string_free(rep, TRUE);
}

static size_t miss_field; /* offsetof the InsnData counter to sort on */

static gint cmp_misses(gconstpointer a, gconstpointer b) {
  uint64_t ma = *(const uint64_t *)((const char *)a + miss_field);
  uint64_t mb = *(const uint64_t *)((const char *)b + miss_field);
  if (ma != mb) {
    return ma > mb ? -1 : 1;
  }
  const InsnData *ia = a;
  const InsnData *ib = b;
  return ia->addr < ib->addr ? -1 : ia->addr > ib->addr;
}

static GList *append_top(GString *rep, GList *list, const char *title, size_t field) {
  miss_field = field;
  list = g_list_sort(list, cmp_misses);
  g_string_append(rep, title);
  int i = 0;
  for (GList *it = list; it && i < limit; it = it->next, i++) {
    InsnData *insn = it->data;
    g_string_append_printf(rep, "0x%" PRIx64, insn->addr);
    if (insn->symbol) {
      g_string_append_printf(rep, " (%s)", insn->symbol);
    }
    g_string_append_printf(rep, ", %" PRIu64 ", %s\n", *(uint64_t *)((char *)insn + field),
                           insn->disas_str);
  }
  return list;
}

static void log_top_insns(void) {
  GString *rep = g_string_new("");
  GList *list = g_hash_table_get_values(miss_ht);
  list =
      append_top(rep, list, "address, data misses, instruction\n", offsetof(InsnData, l1_dmisses));
  list = append_top(rep, list, "\naddress, fetch misses, instruction\n",
                    offsetof(InsnData, l1_imisses));
  if (use_l2) {
    list =
        append_top(rep, list, "\naddress, L2 misses, instruction\n", offsetof(InsnData, l2_misses));
  }
  g_list_free(list);
  qemu_plugin_outs(rep->str);
  g_string_free(rep, TRUE);
}

static void plugin_exit(void *p) {
  log_stats();
  log_top_insns();
}

static bool parse_int(const char *s, int *out) {
  char *end;
  long v;
  if (!s || !*s) {
    return false;
  }
  v = strtol(s, &end, 0);
  if (*end || v <= 0 || v > G_MAXINT) {
    return false;
  }
  *out = (int)v;
  return true;
}

static bool check_config(const char *what, int blksize, int assoc, int cachesize) {
  const char *err = cache_config_error(blksize, assoc, cachesize);
  if (err) {
    fprintf(stderr, "%s cannot be constructed from given parameters\n%s\n", what, err);
    return false;
  }
  return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  sys = info->system_emulation;
  cores = sys ? info->system.smp_vcpus : 1;
  if (cores < 1) {
    cores = 1;
  }

  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    const char *key = tokens[0];
    const char *val = tokens[1];
    bool ok;
    if (g_strcmp0(key, "iblksize") == 0) {
      ok = parse_int(val, &l1_iblksize);
    } else if (g_strcmp0(key, "iassoc") == 0) {
      ok = parse_int(val, &l1_iassoc);
    } else if (g_strcmp0(key, "icachesize") == 0) {
      ok = parse_int(val, &l1_icachesize);
    } else if (g_strcmp0(key, "dblksize") == 0) {
      ok = parse_int(val, &l1_dblksize);
    } else if (g_strcmp0(key, "dassoc") == 0) {
      ok = parse_int(val, &l1_dassoc);
    } else if (g_strcmp0(key, "dcachesize") == 0) {
      ok = parse_int(val, &l1_dcachesize);
    } else if (g_strcmp0(key, "limit") == 0) {
      ok = parse_int(val, &limit);
    } else if (g_strcmp0(key, "cores") == 0) {
      ok = parse_int(val, &cores);
    } else if (g_strcmp0(key, "l2cachesize") == 0) {
      ok = use_l2 = parse_int(val, &l2_cachesize);
    } else if (g_strcmp0(key, "l2blksize") == 0) {
      ok = use_l2 = parse_int(val, &l2_blksize);
    } else if (g_strcmp0(key, "l2assoc") == 0) {
      ok = use_l2 = parse_int(val, &l2_assoc);
    } else if (g_strcmp0(key, "l2") == 0) {
      ok = qemu_plugin_bool_parse(key, val, &use_l2);
    } else if (g_strcmp0(key, "evict") == 0) {
      ok = true;
      if (g_strcmp0(val, "rand") == 0) {
        policy = RAND;
      } else if (g_strcmp0(val, "lru") == 0) {
        policy = LRU;
      } else if (g_strcmp0(val, "fifo") == 0) {
        policy = FIFO;
      } else {
        fprintf(stderr, "invalid eviction policy: %s\n", argv[i]);
        g_strfreev(tokens);
        return -1;
      }
    } else {
      ok = false;
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }

  if (!check_config("dcache", l1_dblksize, l1_dassoc, l1_dcachesize) ||
      !check_config("icache", l1_iblksize, l1_iassoc, l1_icachesize) ||
      (use_l2 && !check_config("L2 cache", l2_blksize, l2_assoc, l2_cachesize))) {
    return -1;
  }

  l1_dcaches = caches_init(l1_dblksize, l1_dassoc, l1_dcachesize);
  l1_icaches = caches_init(l1_iblksize, l1_iassoc, l1_icachesize);
  l2_ucaches = use_l2 ? caches_init(l2_blksize, l2_assoc, l2_cachesize) : NULL;
  miss_ht = g_hash_table_new(g_int64_hash, g_int64_equal);

  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
