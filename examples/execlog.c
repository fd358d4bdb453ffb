/*
 * execlog: log every executed instruction with its memory accesses and, where
 * the host provides registers, the registers it changed.
 *
 * Arguments:
 *   ifilter=PREFIX  (repeatable) log only instructions whose disassembly starts with PREFIX
 *   afilter=ADDR    (repeatable) log only the instruction at this hex address
 *   reg=GLOB        (repeatable) track registers whose names match GLOB
 *   rdisas=BOOL     check the tracked registers only after instructions whose
 *                   disassembly mentions one of them
 * With both filters an instruction is logged when it passes either one.
 *
 * One line per instruction, written when the next instruction on the same
 * vCPU starts (the last ones at exit):
 *   <vcpu>, 0x<vaddr>, 0x<first 4 bytes as a host-endian u32>, "<disas>"
 * followed by ", load, 0x%08x" or ", store, 0x%08x" per memory access and
 * ", <reg> -> 0x<value, most significant byte first>" per changed register.
 *
 * When no register matches reg= (for example because the host offers none)
 * the plugin prints a warning and logs without register changes.
 *
 * Written for qplug from the documented behaviour of QEMU's contrib/plugins/execlog.c.
 */
#include <glib.h>
#include <inttypes.h>
#include <qplug/qemu-plugin.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION < 7
#error "execlog.c builds against API v7"
#endif

typedef struct {
  struct qemu_plugin_register *handle;
  char *name;
  GByteArray *last;
  GByteArray *current;
} Register;

typedef struct {
  GString *last_exec;   /* line of the previous instruction, not yet printed */
  GPtrArray *registers; /* Register *, NULL when none is tracked */
  bool check_regs;      /* the previous instruction asks for a register check */
} CPU;

typedef struct {
  char *text; /* "0x<vaddr>, 0x<opcode>, \"<disas>\"" */
  bool check_regs;
} InsnInfo;

static GMutex cpus_lock;
static GPtrArray *cpus;     /* CPU *, indexed by vCPU */
static GPtrArray *imatches; /* char * */
static GArray *amatches;    /* uint64_t */
static GPtrArray *rmatches; /* char * globs */
static bool disas_assist;
static GPtrArray *all_reg_names; /* names of the tracked registers */
static bool warned_no_regs;

static CPU *get_cpu(unsigned int vcpu_index) {
  g_mutex_lock(&cpus_lock);
  while (cpus->len <= vcpu_index) {
    CPU *c = g_new0(CPU, 1);
    c->last_exec = g_string_new("");
    g_ptr_array_add(cpus, c);
  }
  CPU *c = g_ptr_array_index(cpus, vcpu_index);
  g_mutex_unlock(&cpus_lock);
  return c;
}

static void check_registers(CPU *c) {
  for (guint i = 0; i < c->registers->len; i++) {
    Register *reg = g_ptr_array_index(c->registers, i);
    g_byte_array_set_size(reg->current, 0);
    if (!qemu_plugin_read_register(reg->handle, reg->current)) {
      continue;
    }
    if (reg->current->len != reg->last->len ||
        memcmp(reg->current->data, reg->last->data, reg->current->len) != 0) {
      g_string_append_printf(c->last_exec, ", %s -> 0x", reg->name);
      for (guint b = reg->current->len; b > 0; b--) {
        g_string_append_printf(c->last_exec, "%02x", reg->current->data[b - 1]);
      }
      GByteArray *tmp = reg->last;
      reg->last = reg->current;
      reg->current = tmp;
    }
  }
}

static void vcpu_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                     void *udata) {
  CPU *c = get_cpu(vcpu_index);
  g_string_append(c->last_exec, qemu_plugin_mem_is_store(info) ? ", store" : ", load");
  struct qemu_plugin_hwaddr *hwaddr = qemu_plugin_get_hwaddr(info, vaddr);
  if (hwaddr) {
    g_string_append_printf(c->last_exec, ", 0x%08" PRIx64 ", %s",
                           qemu_plugin_hwaddr_phys_addr(hwaddr),
                           qemu_plugin_hwaddr_device_name(hwaddr));
  } else {
    g_string_append_printf(c->last_exec, ", 0x%08" PRIx64, vaddr);
  }
}

static void flush_line(CPU *c) {
  if (c->last_exec->len) {
    g_string_append_c(c->last_exec, '\n');
    qemu_plugin_outs(c->last_exec->str);
    g_string_truncate(c->last_exec, 0);
  }
}

static void vcpu_insn_exec(unsigned int vcpu_index, void *udata) {
  InsnInfo *insn = udata;
  CPU *c = get_cpu(vcpu_index);
  if (c->registers && c->last_exec->len && (c->check_regs || !disas_assist)) {
    check_registers(c); /* changes made by the previous instruction */
  }
  flush_line(c);
  g_string_printf(c->last_exec, "%u, %s", vcpu_index, insn->text);
  c->check_regs = insn->check_regs;
}

static bool mentions_tracked_register(const char *disas) {
  if (!all_reg_names) {
    return false;
  }
  for (guint i = 0; i < all_reg_names->len; i++) {
    if (strstr(disas, g_ptr_array_index(all_reg_names, i))) {
      return true;
    }
  }
  return false;
}

static bool insn_selected(const char *disas, uint64_t vaddr) {
  if (!imatches && !amatches) {
    return true;
  }
  for (guint i = 0; imatches && i < imatches->len; i++) {
    if (g_str_has_prefix(disas, g_ptr_array_index(imatches, i))) {
      return true;
    }
  }
  for (guint i = 0; amatches && i < amatches->len; i++) {
    if (g_array_index(amatches, uint64_t, i) == vaddr) {
      return true;
    }
  }
  return false;
}

static void vcpu_tb_trans(struct qemu_plugin_tb *tb, void *userdata) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  bool regs = all_reg_names && all_reg_names->len;
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
    char *disas = qemu_plugin_insn_disas(insn);
    if (insn_selected(disas, vaddr)) {
      uint32_t opcode = 0;
      qemu_plugin_insn_data(insn, &opcode, sizeof(opcode));
      /* Leaked on purpose: the translation may run for the rest of the program. */
      InsnInfo *info = g_new0(InsnInfo, 1);
      info->text = g_strdup_printf("0x%" PRIx64 ", 0x%" PRIx32 ", \"%s\"", vaddr, opcode, disas);
      info->check_regs = regs && (!disas_assist || mentions_tracked_register(disas));
      qemu_plugin_register_vcpu_mem_cb(insn, vcpu_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                       NULL);
      qemu_plugin_register_vcpu_insn_exec_cb(
          insn, vcpu_insn_exec, regs ? QEMU_PLUGIN_CB_R_REGS : QEMU_PLUGIN_CB_NO_REGS, info);
    }
    g_free(disas);
  }
}

static bool reg_wanted(const char *name) {
  for (guint i = 0; i < rmatches->len; i++) {
    if (g_pattern_match_simple(g_ptr_array_index(rmatches, i), name)) {
      return true;
    }
  }
  return false;
}

static void vcpu_init(unsigned int vcpu_index, void *userdata) {
  CPU *c = get_cpu(vcpu_index);
  if (!rmatches) {
    return;
  }
  GArray *regs = qemu_plugin_get_registers();
  GPtrArray *tracked = g_ptr_array_new();
  for (guint i = 0; regs && i < regs->len; i++) {
    qemu_plugin_reg_descriptor *rd = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
    if (!rd->name || !reg_wanted(rd->name)) {
      continue;
    }
    Register *reg = g_new0(Register, 1);
    reg->handle = rd->handle;
    reg->name = g_strdup(rd->name);
    reg->last = g_byte_array_new();
    reg->current = g_byte_array_new();
    qemu_plugin_read_register(reg->handle, reg->last);
    g_ptr_array_add(tracked, reg);
    g_mutex_lock(&cpus_lock);
    if (!all_reg_names) {
      all_reg_names = g_ptr_array_new();
    }
    bool known = false;
    for (guint j = 0; j < all_reg_names->len; j++) {
      known = known || strcmp(g_ptr_array_index(all_reg_names, j), reg->name) == 0;
    }
    if (!known) {
      g_ptr_array_add(all_reg_names, g_strdup(reg->name));
    }
    g_mutex_unlock(&cpus_lock);
  }
  if (regs) {
    g_array_free(regs, TRUE);
  }
  if (tracked->len) {
    c->registers = tracked;
  } else {
    g_ptr_array_free(tracked, TRUE);
    if (!warned_no_regs) {
      warned_no_regs = true;
      qemu_plugin_outs(
          "execlog: warning: no register matches reg=, register changes are not "
          "logged\n");
    }
  }
}

static void plugin_exit(void *p) {
  g_mutex_lock(&cpus_lock);
  guint n = cpus->len;
  g_mutex_unlock(&cpus_lock);
  for (guint i = 0; i < n; i++) {
    flush_line(get_cpu(i));
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  cpus = g_ptr_array_new();
  for (int i = 0; i < argc; i++) {
    char **tokens = g_strsplit(argv[i], "=", 2);
    bool ok = tokens[0] && tokens[1];
    if (!ok) {
      /* fall through to the error */
    } else if (g_strcmp0(tokens[0], "ifilter") == 0) {
      if (!imatches) {
        imatches = g_ptr_array_new();
      }
      g_ptr_array_add(imatches, g_strdup(tokens[1]));
    } else if (g_strcmp0(tokens[0], "afilter") == 0) {
      char *end;
      uint64_t v = g_ascii_strtoull(tokens[1], &end, 16);
      ok = *tokens[1] && !*end;
      if (!amatches) {
        amatches = g_array_new(FALSE, FALSE, sizeof(uint64_t));
      }
      g_array_append_val(amatches, v);
    } else if (g_strcmp0(tokens[0], "reg") == 0) {
      if (!rmatches) {
        rmatches = g_ptr_array_new();
      }
      g_ptr_array_add(rmatches, g_strdup(tokens[1]));
    } else if (g_strcmp0(tokens[0], "rdisas") == 0) {
      ok = qemu_plugin_bool_parse(tokens[0], tokens[1], &disas_assist);
    } else {
      ok = false;
    }
    g_strfreev(tokens);
    if (!ok) {
      fprintf(stderr, "option parsing failed: %s\n", argv[i]);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans, NULL);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
