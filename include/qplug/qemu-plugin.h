/*
 * qemu-plugin.h - the QEMU TCG plugin C interface, as qplug provides it.
 *
 * Written for qplug from the interface description in docs/abi.md; it
 * contains no QEMU code. Plugins built against
 * QEMU's own header and plugins built against this one are interchangeable:
 * names, signatures, enum values and struct layouts are the same.
 *
 * Selecting an API version
 * ------------------------
 * The header describes API version 7 unless the plugin defines
 * QEMU_PLUGIN_API_VERSION (1 to 7) before including it:
 *
 *     #define QEMU_PLUGIN_API_VERSION 1   // QEMU 5.2 .. 8.2, e.g. Debian 12's 7.2
 *     #include <qplug/qemu-plugin.h>
 *
 *     QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
 *
 * Only the functions, types, enumerators and callback signatures of the
 * selected version are declared, and QEMU_PLUGIN_VERSION equals the selected
 * version, so the exported qemu_plugin_version tells the host which calling
 * conventions the plugin was compiled for.
 *
 * Lifetimes, in short
 * -------------------
 * - Handles (struct qemu_plugin_tb, struct qemu_plugin_insn) and everything
 *   derived from them are valid only inside the tb_trans callback that
 *   received them.
 * - qemu_plugin_meminfo_t and qemu_plugin_mem_get_value() are meaningful only
 *   inside the memory callback that received the meminfo.
 * - Userdata pointers are stored, never freed, by the host.
 * - Strings and arrays the host allocates for the plugin (insn_disas,
 *   path_to_binary, get_registers) are freed by the plugin with glib
 *   (g_free, g_array_free); the host and the plugin share libglib-2.0.so.0.
 */
#ifndef QPLUG_QEMU_PLUGIN_H
#define QPLUG_QEMU_PLUGIN_H

#ifndef QEMU_PLUGIN_API_VERSION
#define QEMU_PLUGIN_API_VERSION 7
#endif

#if QEMU_PLUGIN_API_VERSION == 1
#define QEMU_PLUGIN_VERSION 1
#elif QEMU_PLUGIN_API_VERSION == 2
#define QEMU_PLUGIN_VERSION 2
#elif QEMU_PLUGIN_API_VERSION == 3
#define QEMU_PLUGIN_VERSION 3
#elif QEMU_PLUGIN_API_VERSION == 4
#define QEMU_PLUGIN_VERSION 4
#elif QEMU_PLUGIN_API_VERSION == 5
#define QEMU_PLUGIN_VERSION 5
#elif QEMU_PLUGIN_API_VERSION == 6
#define QEMU_PLUGIN_VERSION 6
#elif QEMU_PLUGIN_API_VERSION == 7
#define QEMU_PLUGIN_VERSION 7
#else
#error "QEMU_PLUGIN_API_VERSION must be 1, 2, 3, 4, 5, 6 or 7"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if QEMU_PLUGIN_API_VERSION >= 2
/* From version 2 on, the API passes GArray and GByteArray. */
#include <glib.h>
#endif

/*
 * Symbol visibility. A plugin built with -fvisibility=hidden marks its two
 * entry points (qemu_plugin_version, qemu_plugin_install) QEMU_PLUGIN_EXPORT.
 * QEMU_PLUGIN_API marks the functions the host provides: empty on ELF, where
 * they resolve against the host executable at dlopen time.
 */
#if defined(_WIN32) || defined(__CYGWIN__)
#define QEMU_PLUGIN_EXPORT __declspec(dllexport)
#define QEMU_PLUGIN_LOCAL
#define QEMU_PLUGIN_API __declspec(dllimport)
#else
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_LOCAL __attribute__((visibility("hidden")))
#define QEMU_PLUGIN_API
#endif

#if defined(__GNUC__)
#define QPLUG_QEMU_PLUGIN_EXTENSION __extension__
#else
#define QPLUG_QEMU_PLUGIN_EXTENSION
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Identity, install entry point                                             */
/* ------------------------------------------------------------------------ */

/**
 * qemu_plugin_id_t - the host's name for one loaded plugin.
 *
 * A random 64-bit value handed to qemu_plugin_install(); the plugin passes it
 * back to every function that takes an id. Opaque: do not derive meaning from
 * its bits.
 */
typedef uint64_t qemu_plugin_id_t;

/**
 * qemu_plugin_version - the API version the plugin was built for.
 *
 * Every plugin defines it:
 *     QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
 * The host reads it (an int data object) before calling
 * qemu_plugin_install() and refuses versions it does not speak.
 */
extern QEMU_PLUGIN_EXPORT int qemu_plugin_version;

/**
 * qemu_info_t - what the host tells a plugin at install time.
 * @target_name: guest architecture, "x86_64" for qplug.
 * @version.min: oldest plugin API version the host accepts.
 * @version.cur: newest plugin API version the host speaks.
 * @system_emulation: false in user mode (always, for qplug).
 * @system.smp_vcpus: initial vCPU count; system emulation only (0 in user mode).
 * @system.max_vcpus: maximum vCPU count; system emulation only (0 in user mode).
 *
 * Lifetime: the structure is valid only during qemu_plugin_install(); copy
 * what you need. Layout (LP64): 32 bytes, offsets 0, 8, 12, 16, 20, 24.
 */
typedef struct qemu_info_t {
  const char *target_name;
  struct {
    int min;
    int cur;
  } version;
  bool system_emulation;
  /* An anonymous union (C11, C++); __extension__ keeps C99 and clang++ -pedantic quiet. */
  QPLUG_QEMU_PLUGIN_EXTENSION union {
    struct {
      int smp_vcpus;
      int max_vcpus;
    } system;
  };
} qemu_info_t;

/**
 * qemu_plugin_install() - the plugin's entry point; every plugin defines it.
 * @id: this plugin's id, for all later calls.
 * @info: host and guest description; valid only during this call.
 * @argc: number of plugin arguments.
 * @argv: the "key=value" arguments from -plugin, in order. The strings stay
 *        valid for the plugin's whole lifetime.
 *
 * Runs once, before the guest program is loaded and before any vCPU exists:
 * register callbacks here, but do not call functions that need a running
 * vCPU (path_to_binary, start_code, get_registers, memory access...).
 * qemu_plugin_outs() is fine. Do not call qemu_plugin_uninstall() from here.
 *
 * Return: 0 on success; anything else makes the host report the error code
 * and exit.
 */
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv);

/* ------------------------------------------------------------------------ */
/* Opaque handles and small types                                            */
/* ------------------------------------------------------------------------ */

/** struct qemu_plugin_tb - a translation block being translated (opaque). */
struct qemu_plugin_tb;
/** struct qemu_plugin_insn - one guest instruction of a qemu_plugin_tb (opaque). */
struct qemu_plugin_insn;
/** struct qemu_plugin_hwaddr - physical address of an access (opaque; NULL in user mode). */
struct qemu_plugin_hwaddr;

/**
 * qemu_plugin_meminfo_t - description of one memory access (opaque).
 *
 * Decode it only with the qemu_plugin_mem_*() functions; it is meaningful
 * only inside the memory callback that received it.
 */
typedef uint32_t qemu_plugin_meminfo_t;

#if QEMU_PLUGIN_API_VERSION >= 2
/** struct qemu_plugin_scoreboard - per-vCPU array owned by a plugin (opaque). */
struct qemu_plugin_scoreboard;
/** struct qemu_plugin_register - handle of one vCPU register (opaque, never NULL). */
struct qemu_plugin_register;

/**
 * qemu_plugin_u64 - a uint64_t slot inside each element of a scoreboard.
 * @score: the scoreboard.
 * @offset: byte offset of the slot inside one element.
 *
 * The slot of vCPU n is at score's data + n * element_size + offset. Passed
 * by value (16 bytes). Build one with qemu_plugin_scoreboard_u64() or
 * qemu_plugin_scoreboard_u64_in_struct().
 */
typedef struct {
  struct qemu_plugin_scoreboard *score;
  size_t offset;
} qemu_plugin_u64;

#ifdef __cplusplus
#define qemu_plugin_scoreboard_u64(sb) (qemu_plugin_u64{(sb), 0})
#define qemu_plugin_scoreboard_u64_in_struct(sb, type, member) \
  (qemu_plugin_u64{(sb), offsetof(type, member)})
#else
/** qemu_plugin_scoreboard_u64() - the slot of a scoreboard whose elements are uint64_t. */
#define qemu_plugin_scoreboard_u64(sb) ((qemu_plugin_u64){(sb), 0})
/** qemu_plugin_scoreboard_u64_in_struct() - the uint64_t @member of @type elements. */
#define qemu_plugin_scoreboard_u64_in_struct(sb, type, member) \
  ((qemu_plugin_u64){(sb), offsetof(type, member)})
#endif
#endif /* QEMU_PLUGIN_API_VERSION >= 2 */

/* ------------------------------------------------------------------------ */
/* Enumerations                                                              */
/* ------------------------------------------------------------------------ */

/**
 * enum qemu_plugin_cb_flags - what an execution callback may do with registers.
 * @QEMU_PLUGIN_CB_NO_REGS: no register access.
 * @QEMU_PLUGIN_CB_R_REGS: registers may be read.
 * @QEMU_PLUGIN_CB_RW_REGS: registers may be read and written.
 * @QEMU_PLUGIN_CB_RW_REGS_PC: as RW_REGS, and qemu_plugin_set_pc() is allowed (v6+).
 */
enum qemu_plugin_cb_flags {
  QEMU_PLUGIN_CB_NO_REGS = 0,
  QEMU_PLUGIN_CB_R_REGS = 1,
  QEMU_PLUGIN_CB_RW_REGS = 2,
#if QEMU_PLUGIN_API_VERSION >= 6
  QEMU_PLUGIN_CB_RW_REGS_PC = 3,
#endif
};

/**
 * enum qemu_plugin_mem_rw - which accesses a memory callback wants (a bitmask).
 *
 * A callback fires when the access kind and the registered value share a bit.
 */
enum qemu_plugin_mem_rw {
  QEMU_PLUGIN_MEM_R = 1,
  QEMU_PLUGIN_MEM_W = 2,
  QEMU_PLUGIN_MEM_RW = 3,
};

/**
 * enum qemu_plugin_op - inline operation on a 64-bit counter.
 * @QEMU_PLUGIN_INLINE_ADD_U64: counter += imm (not atomic).
 * @QEMU_PLUGIN_INLINE_STORE_U64: counter = imm (v3+).
 */
enum qemu_plugin_op {
  QEMU_PLUGIN_INLINE_ADD_U64 = 0,
#if QEMU_PLUGIN_API_VERSION >= 3
  QEMU_PLUGIN_INLINE_STORE_U64 = 1,
#endif
};

#if QEMU_PLUGIN_API_VERSION >= 3
/**
 * enum qemu_plugin_cond - condition of a conditional callback (v3+).
 *
 * The test is "slot <cond> imm" on unsigned 64-bit values, evaluated when the
 * instrumented point executes. ALWAYS behaves as an unconditional callback;
 * NEVER installs nothing.
 */
enum qemu_plugin_cond {
  QEMU_PLUGIN_COND_NEVER = 0,
  QEMU_PLUGIN_COND_ALWAYS = 1,
  QEMU_PLUGIN_COND_EQ = 2,
  QEMU_PLUGIN_COND_NE = 3,
  QEMU_PLUGIN_COND_LT = 4,
  QEMU_PLUGIN_COND_LE = 5,
  QEMU_PLUGIN_COND_GT = 6,
  QEMU_PLUGIN_COND_GE = 7,
};
#endif

#if QEMU_PLUGIN_API_VERSION >= 4
/** enum qemu_plugin_mem_value_type - width of a qemu_plugin_mem_value (v4+). */
enum qemu_plugin_mem_value_type {
  QEMU_PLUGIN_MEM_VALUE_U8 = 0,
  QEMU_PLUGIN_MEM_VALUE_U16 = 1,
  QEMU_PLUGIN_MEM_VALUE_U32 = 2,
  QEMU_PLUGIN_MEM_VALUE_U64 = 3,
  QEMU_PLUGIN_MEM_VALUE_U128 = 4,
};

/**
 * qemu_plugin_mem_value - the value a memory access loaded or stored (v4+).
 * @type: which member of @data is valid.
 * @data: the value, in host byte order; u128 is split in low and high halves.
 *
 * 24 bytes (type at 0, data at 8); returned by value.
 */
typedef struct {
  enum qemu_plugin_mem_value_type type;
  union {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    struct {
      uint64_t low;
      uint64_t high;
    } u128;
  } data;
} qemu_plugin_mem_value;
#endif

#if QEMU_PLUGIN_API_VERSION >= 5
/**
 * enum qemu_plugin_discon_type - kinds of PC discontinuity (v5+, bitmask).
 *
 * Interrupts and host calls happen in system emulation only; in user mode,
 * EXCEPTION is each fault or trap a guest instruction raises (ud2, int3, a
 * division by zero, hlt...; not page faults), before its signal is delivered.
 */
enum qemu_plugin_discon_type {
  QEMU_PLUGIN_DISCON_INTERRUPT = 1 << 0,
  QEMU_PLUGIN_DISCON_EXCEPTION = 1 << 1,
  QEMU_PLUGIN_DISCON_HOSTCALL = 1 << 2,
  QEMU_PLUGIN_DISCON_ALL = -1,
};

/** enum qemu_plugin_hwaddr_operation_result - outcome of a physical-memory access (v5+). */
enum qemu_plugin_hwaddr_operation_result {
  QEMU_PLUGIN_HWADDR_OPERATION_OK = 0,
  QEMU_PLUGIN_HWADDR_OPERATION_ERROR = 1,
  QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR = 2,
  QEMU_PLUGIN_HWADDR_OPERATION_ACCESS_DENIED = 3,
  QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS = 4,
  QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS_SPACE = 5,
};
#endif

#if QEMU_PLUGIN_API_VERSION >= 2
/**
 * qemu_plugin_reg_descriptor - one element of qemu_plugin_get_registers() (v2+).
 * @handle: pass to qemu_plugin_read_register() / qemu_plugin_write_register().
 * @name: register name as the gdbstub spells it ("rax", "rip", "xmm0"...);
 *        an interned string, never freed.
 * @feature: gdbstub feature the register belongs to ("org.gnu.gdb.i386.core",
 *           "org.gnu.gdb.i386.linux"); interned, never freed.
 * @is_readonly: (v7) writes fail; only the PC is read-only, use qemu_plugin_set_pc().
 *
 * 24 bytes in v2-v6, 32 bytes in v7: the host sizes the GArray's elements by
 * the version the plugin declares, so index it with this type.
 */
typedef struct {
  struct qemu_plugin_register *handle;
  const char *name;
  const char *feature;
#if QEMU_PLUGIN_API_VERSION >= 7
  bool is_readonly;
#endif
} qemu_plugin_reg_descriptor;
#endif

/* ------------------------------------------------------------------------ */
/* Callback types                                                            */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION <= 6
/** qemu_plugin_simple_cb_t - callback receiving only the plugin id (v1-v6). */
typedef void (*qemu_plugin_simple_cb_t)(qemu_plugin_id_t id);

/** qemu_plugin_udata_cb_t - callback receiving the plugin id and userdata (v1-v6). */
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

/** qemu_plugin_vcpu_simple_cb_t - callback receiving the plugin id and a vCPU index (v1-v6). */
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
#else
/** qemu_plugin_udata_cb_t - callback receiving only userdata (v7). */
typedef void (*qemu_plugin_udata_cb_t)(void *userdata);
#endif

/** qemu_plugin_vcpu_udata_cb_t - callback receiving a vCPU index and userdata (all versions). */
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

/**
 * qemu_plugin_vcpu_tb_trans_cb_t - translation callback.
 *
 * Receives the block being translated; the handle and all handles derived
 * from it are valid only during this callback.
 */
#if QEMU_PLUGIN_API_VERSION <= 6
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
#else
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(struct qemu_plugin_tb *tb, void *userdata);
#endif

/**
 * qemu_plugin_vcpu_mem_cb_t - memory access callback (all versions).
 *
 * @info describes the access and, like qemu_plugin_mem_get_value(), is valid
 * only during this callback; @vaddr is the guest virtual address accessed.
 */
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);

#if QEMU_PLUGIN_API_VERSION >= 5
/**
 * qemu_plugin_vcpu_discon_cb_t - PC discontinuity callback (v5+).
 *
 * @from_pc is the instruction that raised the exception; in user mode @to_pc
 * is the same address, as qemu-x86_64 reports it (the signal is set up after).
 * The guest's registers are readable in the callback.
 */
#if QEMU_PLUGIN_API_VERSION <= 6
typedef void (*qemu_plugin_vcpu_discon_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                             enum qemu_plugin_discon_type type, uint64_t from_pc,
                                             uint64_t to_pc);
#else
typedef void (*qemu_plugin_vcpu_discon_cb_t)(unsigned int vcpu_index,
                                             enum qemu_plugin_discon_type type, uint64_t from_pc,
                                             uint64_t to_pc, void *userdata);
#endif
#endif

/**
 * qemu_plugin_vcpu_syscall_cb_t - called before a guest system call.
 *
 * @num is the syscall number, a1..a8 its arguments (unused ones are 0).
 */
#if QEMU_PLUGIN_API_VERSION <= 6
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                              int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                                              uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                              uint64_t a8);
#else
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(unsigned int vcpu_index, int64_t num, uint64_t a1,
                                              uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                                              uint64_t a6, uint64_t a7, uint64_t a8,
                                              void *userdata);
#endif

#if QEMU_PLUGIN_API_VERSION >= 6
/**
 * qemu_plugin_vcpu_syscall_filter_cb_t - may replace a guest system call (v6+).
 *
 * Return true to skip the real system call; the guest then sees *sysret as
 * its result (and syscall_ret callbacks still fire with it). Return false to
 * let it run. @sysret is valid only during this callback.
 */
#if QEMU_PLUGIN_API_VERSION == 6
typedef bool (*qemu_plugin_vcpu_syscall_filter_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                                     int64_t num, uint64_t a1, uint64_t a2,
                                                     uint64_t a3, uint64_t a4, uint64_t a5,
                                                     uint64_t a6, uint64_t a7, uint64_t a8,
                                                     uint64_t *sysret);
#else
typedef bool (*qemu_plugin_vcpu_syscall_filter_cb_t)(unsigned int vcpu_index, int64_t num,
                                                     uint64_t a1, uint64_t a2, uint64_t a3,
                                                     uint64_t a4, uint64_t a5, uint64_t a6,
                                                     uint64_t a7, uint64_t a8, int64_t *sysret,
                                                     void *userdata);
#endif
#endif

/**
 * qemu_plugin_vcpu_syscall_ret_cb_t - called after a guest system call returns.
 *
 * @ret is the value the guest sees (negative errno on failure).
 */
#if QEMU_PLUGIN_API_VERSION <= 6
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_idx,
                                                  int64_t num, int64_t ret);
#else
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(unsigned int vcpu_index, int64_t num, int64_t ret,
                                                  void *userdata);
#endif

/* ------------------------------------------------------------------------ */
/* Plugin lifecycle                                                          */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION <= 6
/**
 * qemu_plugin_uninstall() - unload the plugin.
 * @id: this plugin.
 * @cb: called as cb(id) once the plugin is fully disconnected.
 *
 * Asynchronous: callbacks may still arrive until @cb runs. After @cb returns
 * the host dlcloses the plugin, so @cb must not leave work behind. Must not
 * be called from qemu_plugin_install() (return non-zero there instead).
 */
QEMU_PLUGIN_API void qemu_plugin_uninstall(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);

/**
 * qemu_plugin_reset() - drop all of the plugin's callbacks, keep it loaded.
 * @id: this plugin.
 * @cb: called as cb(id) once no old callback can run any more.
 *
 * Asynchronous, like qemu_plugin_uninstall(); the plugin may register new
 * callbacks from @cb.
 */
QEMU_PLUGIN_API void qemu_plugin_reset(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);
#else
/**
 * qemu_plugin_uninstall() - unload the plugin.
 * @id: this plugin.
 * @cb: called as cb(userdata) once the plugin is fully disconnected.
 * @userdata: passed to @cb; the host never frees it.
 *
 * Asynchronous: callbacks may still arrive until @cb runs. After @cb returns
 * the host dlcloses the plugin, so @cb must not leave work behind. Must not
 * be called from qemu_plugin_install() (return non-zero there instead).
 */
QEMU_PLUGIN_API void qemu_plugin_uninstall(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                           void *userdata);

/**
 * qemu_plugin_reset() - drop all of the plugin's callbacks, keep it loaded.
 * @id: this plugin.
 * @cb: called as cb(userdata) once no old callback can run any more.
 * @userdata: passed to @cb; the host never frees it.
 *
 * Asynchronous, like qemu_plugin_uninstall(); the plugin may register new
 * callbacks from @cb.
 */
QEMU_PLUGIN_API void qemu_plugin_reset(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                       void *userdata);
#endif

/* ------------------------------------------------------------------------ */
/* vCPU events                                                               */
/*                                                                           */
/* Each plugin holds at most one callback per event: registering again       */
/* replaces it, registering NULL removes it.                                  */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION <= 6
/**
 * qemu_plugin_register_vcpu_init_cb() - call @cb when a vCPU starts.
 *
 * In user mode every guest thread is a vCPU; @cb runs in that thread before
 * its first guest instruction, called as cb(id, vcpu_index).
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);

/**
 * qemu_plugin_register_vcpu_exit_cb() - call @cb when a vCPU goes away.
 *
 * In user mode: a thread exiting while others remain. Threads still alive at
 * process exit get no exit callback (use the atexit callback).
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);

/** qemu_plugin_register_vcpu_idle_cb() - call @cb when a vCPU idles (never in user mode). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_idle_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);

/** qemu_plugin_register_vcpu_resume_cb() - call @cb when a vCPU resumes (never in user mode). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_resume_cb(qemu_plugin_id_t id,
                                                         qemu_plugin_vcpu_simple_cb_t cb);
#else
/**
 * qemu_plugin_register_vcpu_init_cb() - call @cb when a vCPU starts.
 *
 * In user mode every guest thread is a vCPU; @cb runs in that thread before
 * its first guest instruction, called as cb(vcpu_index, userdata). The host
 * never frees @userdata.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_udata_cb_t cb,
                                                       void *userdata);

/**
 * qemu_plugin_register_vcpu_exit_cb() - call @cb when a vCPU goes away.
 *
 * In user mode: a thread exiting while others remain. Threads still alive at
 * process exit get no exit callback (use the atexit callback).
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_udata_cb_t cb,
                                                       void *userdata);

/** qemu_plugin_register_vcpu_idle_cb() - call @cb when a vCPU idles (never in user mode). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_idle_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_udata_cb_t cb,
                                                       void *userdata);

/** qemu_plugin_register_vcpu_resume_cb() - call @cb when a vCPU resumes (never in user mode). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_resume_cb(qemu_plugin_id_t id,
                                                         qemu_plugin_vcpu_udata_cb_t cb,
                                                         void *userdata);
#endif

#if QEMU_PLUGIN_API_VERSION >= 5
/**
 * qemu_plugin_register_vcpu_discon_cb() - call @cb on PC discontinuities (v5+).
 * @type: which kinds (bitmask of enum qemu_plugin_discon_type).
 *
 * Reported after the PC has moved to the handler. System emulation only: a
 * user-mode host accepts the registration and never calls @cb.
 */
#if QEMU_PLUGIN_API_VERSION <= 6
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_discon_cb(qemu_plugin_id_t id,
                                                         enum qemu_plugin_discon_type type,
                                                         qemu_plugin_vcpu_discon_cb_t cb);
#else
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_discon_cb(qemu_plugin_id_t id,
                                                         enum qemu_plugin_discon_type type,
                                                         qemu_plugin_vcpu_discon_cb_t cb,
                                                         void *userdata);
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Translation-time instrumentation                                          */
/* ------------------------------------------------------------------------ */

/**
 * qemu_plugin_register_vcpu_tb_trans_cb() - call @cb for every block translated.
 *
 * @cb runs once per translation (the same code can be translated again after
 * a flush), before the block first executes. Inside it the plugin inspects
 * the block and attaches execution-time callbacks and inline operations. The
 * tb and insn handles are valid only during @cb.
 */
#if QEMU_PLUGIN_API_VERSION <= 6
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
#else
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                           qemu_plugin_vcpu_tb_trans_cb_t cb,
                                                           void *userdata);
#endif

/**
 * qemu_plugin_register_vcpu_tb_exec_cb() - call @cb each time @tb is entered.
 * @tb: block handle from the current tb_trans callback.
 * @flags: register access @cb needs.
 * @userdata: passed to @cb; kept as long as the translation exists, never
 *            freed by the host.
 *
 * Call only from a tb_trans callback. @cb runs before the block's first
 * instruction, as cb(vcpu_index, userdata).
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                                          qemu_plugin_vcpu_udata_cb_t cb,
                                                          enum qemu_plugin_cb_flags flags,
                                                          void *userdata);

#if QEMU_PLUGIN_API_VERSION >= 3
/**
 * qemu_plugin_register_vcpu_tb_exec_cond_cb() - conditional block-entry callback (v3+).
 *
 * As qemu_plugin_register_vcpu_tb_exec_cb(), but @cb runs only when the
 * vCPU's slot of @entry compares true against @imm with @cond (unsigned),
 * evaluated at block entry after inline operations registered before it.
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_cond_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb, enum qemu_plugin_cb_flags flags,
    enum qemu_plugin_cond cond, qemu_plugin_u64 entry, uint64_t imm, void *userdata);
#endif

#if QEMU_PLUGIN_API_VERSION == 1
/**
 * qemu_plugin_register_vcpu_tb_exec_inline() - inline op on entry to @tb (v1).
 * @ptr: the uint64_t counter, shared by all vCPUs; must outlive the
 *       translation. Updates are not atomic.
 *
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
                                                              enum qemu_plugin_op op, void *ptr,
                                                              uint64_t imm);
#else
/**
 * qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu() - inline op on entry to @tb (v2+).
 * @entry: the counter; each vCPU updates its own slot.
 *
 * Call only from a tb_trans callback. The scoreboard must outlive the
 * translation.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(struct qemu_plugin_tb *tb,
                                                                       enum qemu_plugin_op op,
                                                                       qemu_plugin_u64 entry,
                                                                       uint64_t imm);
#endif

/**
 * qemu_plugin_register_vcpu_insn_exec_cb() - call @cb before @insn executes.
 * @insn: instruction handle from the current tb_trans callback.
 * @userdata: passed to @cb; never freed by the host.
 *
 * Call only from a tb_trans callback. The instruction may still fault after
 * @cb ran.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                            qemu_plugin_vcpu_udata_cb_t cb,
                                                            enum qemu_plugin_cb_flags flags,
                                                            void *userdata);

#if QEMU_PLUGIN_API_VERSION >= 3
/**
 * qemu_plugin_register_vcpu_insn_exec_cond_cb() - conditional per-instruction callback (v3+).
 *
 * As qemu_plugin_register_vcpu_insn_exec_cb(), firing only when the vCPU's
 * slot of @entry compares true against @imm with @cond (unsigned). Call only
 * from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_cond_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb, enum qemu_plugin_cb_flags flags,
    enum qemu_plugin_cond cond, qemu_plugin_u64 entry, uint64_t imm, void *userdata);
#endif

#if QEMU_PLUGIN_API_VERSION == 1
/**
 * qemu_plugin_register_vcpu_insn_exec_inline() - inline op before @insn (v1).
 * @ptr: the uint64_t counter, shared by all vCPUs; must outlive the translation.
 *
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                                enum qemu_plugin_op op, void *ptr,
                                                                uint64_t imm);
#else
/**
 * qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu() - inline op before @insn (v2+).
 *
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op, qemu_plugin_u64 entry, uint64_t imm);
#endif

/**
 * qemu_plugin_register_vcpu_mem_cb() - call @cb after each memory access of @insn.
 * @rw: which accesses (loads, stores or both).
 * @userdata: passed to @cb; never freed by the host.
 *
 * One call per access that completed; faulting accesses are not reported.
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                                      qemu_plugin_vcpu_mem_cb_t cb,
                                                      enum qemu_plugin_cb_flags flags,
                                                      enum qemu_plugin_mem_rw rw, void *userdata);

#if QEMU_PLUGIN_API_VERSION == 1
/**
 * qemu_plugin_register_vcpu_mem_inline() - inline op on each access of @insn (v1).
 * @ptr: the uint64_t counter, shared by all vCPUs; must outlive the translation.
 *
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_mem_inline(struct qemu_plugin_insn *insn,
                                                          enum qemu_plugin_mem_rw rw,
                                                          enum qemu_plugin_op op, void *ptr,
                                                          uint64_t imm);
#else
/**
 * qemu_plugin_register_vcpu_mem_inline_per_vcpu() - inline op on each access of @insn (v2+).
 *
 * Call only from a tb_trans callback.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_mem_inline_per_vcpu(struct qemu_plugin_insn *insn,
                                                                   enum qemu_plugin_mem_rw rw,
                                                                   enum qemu_plugin_op op,
                                                                   qemu_plugin_u64 entry,
                                                                   uint64_t imm);
#endif

/* ------------------------------------------------------------------------ */
/* Block and instruction queries (tb_trans callback only)                    */
/* ------------------------------------------------------------------------ */

/** qemu_plugin_tb_n_insns() - number of guest instructions in @tb. */
QEMU_PLUGIN_API size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);

/** qemu_plugin_tb_vaddr() - guest virtual address of the first instruction of @tb. */
QEMU_PLUGIN_API uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

/**
 * qemu_plugin_tb_get_insn() - instruction @idx of @tb.
 *
 * Return: a handle valid only during the current tb_trans callback, or NULL
 * when @idx is out of range.
 */
QEMU_PLUGIN_API struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                                 size_t idx);

#if QEMU_PLUGIN_API_VERSION <= 2
/**
 * qemu_plugin_insn_data() - the instruction's bytes (v1-v2 form).
 *
 * Return: a pointer to qemu_plugin_insn_size() bytes, owned by the host and
 * valid only during the current tb_trans callback.
 */
QEMU_PLUGIN_API const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
#else
/**
 * qemu_plugin_insn_data() - copy the instruction's bytes (v3+ form).
 * @dest: caller's buffer.
 * @len: its size; at most qemu_plugin_insn_size() bytes are copied.
 *
 * Return: the number of bytes copied, 0 on failure.
 */
QEMU_PLUGIN_API size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest,
                                             size_t len);
#endif

/** qemu_plugin_insn_size() - length of @insn in bytes. */
QEMU_PLUGIN_API size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

/** qemu_plugin_insn_vaddr() - guest virtual address of @insn. */
QEMU_PLUGIN_API uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

/**
 * qemu_plugin_insn_haddr() - "hardware" address of @insn, usable as an identity.
 *
 * In user mode: the host address of the guest code byte. The pointer is an
 * identity only; do not read or write through it. NULL if unknown.
 */
QEMU_PLUGIN_API void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);

/**
 * qemu_plugin_insn_disas() - disassembly of @insn.
 *
 * Return: a newly allocated string the caller owns and frees with g_free():
 * QEMU's text for x86-64, Capstone's AT&T syntax as "mnemonic operands" with
 * one space even without operands ("retq ").
 */
QEMU_PLUGIN_API char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);

/**
 * qemu_plugin_insn_symbol() - name of the symbol containing @insn, best effort.
 *
 * Return: a string owned by the host (do not free), or NULL when unknown.
 */
QEMU_PLUGIN_API const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);

/* ------------------------------------------------------------------------ */
/* Memory access queries (memory callback only)                              */
/* ------------------------------------------------------------------------ */

/** qemu_plugin_mem_size_shift() - log2 of the access size (0 = 1 byte ... 4 = 16 bytes). */
QEMU_PLUGIN_API unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);

/** qemu_plugin_mem_is_sign_extended() - true for a sign-extending load. */
QEMU_PLUGIN_API bool qemu_plugin_mem_is_sign_extended(qemu_plugin_meminfo_t info);

/** qemu_plugin_mem_is_big_endian() - true for a big-endian access (never on x86). */
QEMU_PLUGIN_API bool qemu_plugin_mem_is_big_endian(qemu_plugin_meminfo_t info);

/** qemu_plugin_mem_is_store() - true for a store, false for a load. */
QEMU_PLUGIN_API bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);

#if QEMU_PLUGIN_API_VERSION >= 4
/**
 * qemu_plugin_mem_get_value() - the value the current access loaded or stored (v4+).
 *
 * Valid only inside the memory callback that received @info; host byte order.
 */
QEMU_PLUGIN_API qemu_plugin_mem_value qemu_plugin_mem_get_value(qemu_plugin_meminfo_t info);
#endif

/**
 * qemu_plugin_get_hwaddr() - physical-address handle of an access.
 *
 * Return: a handle valid only during the memory callback; always NULL in
 * user mode. The qemu_plugin_hwaddr_*() functions accept NULL.
 */
QEMU_PLUGIN_API struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info,
                                                                  uint64_t vaddr);

/** qemu_plugin_hwaddr_is_io() - true for a device (MMIO) access; false for NULL. */
QEMU_PLUGIN_API bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);

/** qemu_plugin_hwaddr_phys_addr() - the physical address; 0 for NULL. */
QEMU_PLUGIN_API uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr);

/**
 * qemu_plugin_hwaddr_device_name() - name of the device or RAM region accessed.
 *
 * Return: an interned string owned by the host (do not free); "Invalid" when
 * there is none (always, in user mode).
 */
QEMU_PLUGIN_API const char *qemu_plugin_hwaddr_device_name(const struct qemu_plugin_hwaddr *h);

/* ------------------------------------------------------------------------ */
/* System calls (user mode)                                                  */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION <= 6
/** qemu_plugin_register_vcpu_syscall_cb() - call @cb before every guest system call. */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id,
                                                          qemu_plugin_vcpu_syscall_cb_t cb);

/**
 * qemu_plugin_register_vcpu_syscall_ret_cb() - call @cb after every guest system call.
 *
 * Calls that do not return (exit, exit_group, successful execve) get none.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id,
                                                              qemu_plugin_vcpu_syscall_ret_cb_t cb);
#else
/**
 * qemu_plugin_register_vcpu_syscall_cb() - call @cb before every guest system call.
 * @userdata: passed to @cb; never freed by the host.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id,
                                                          qemu_plugin_vcpu_syscall_cb_t cb,
                                                          void *userdata);

/**
 * qemu_plugin_register_vcpu_syscall_ret_cb() - call @cb after every guest system call.
 * @userdata: passed to @cb; never freed by the host.
 *
 * Calls that do not return (exit, exit_group, successful execve) get none.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id,
                                                              qemu_plugin_vcpu_syscall_ret_cb_t cb,
                                                              void *userdata);
#endif

#if QEMU_PLUGIN_API_VERSION == 6
/**
 * qemu_plugin_register_vcpu_syscall_filter_cb() - let @cb replace system calls (v6).
 *
 * Filters run after the syscall callbacks; the first one returning true
 * skips the real call.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_filter_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_filter_cb_t cb);
#elif QEMU_PLUGIN_API_VERSION >= 7
/**
 * qemu_plugin_register_vcpu_syscall_filter_cb() - let @cb replace system calls (v7).
 * @userdata: passed to @cb; never freed by the host.
 *
 * Filters run after the syscall callbacks; the first one returning true
 * skips the real call.
 */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_filter_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_filter_cb_t cb, void *userdata);
#endif

/* ------------------------------------------------------------------------ */
/* Global events                                                             */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION <= 6
/**
 * qemu_plugin_vcpu_for_each() - call @cb(id, vcpu_index) for each live vCPU.
 *
 * Synchronous; @cb must not call back into registration functions.
 */
QEMU_PLUGIN_API void qemu_plugin_vcpu_for_each(qemu_plugin_id_t id,
                                               qemu_plugin_vcpu_simple_cb_t cb);

/**
 * qemu_plugin_register_flush_cb() - call @cb(id) after each code-cache flush.
 *
 * All translations (and the handles and per-block registrations attached to
 * them) are gone when @cb runs.
 */
QEMU_PLUGIN_API void qemu_plugin_register_flush_cb(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);
#else
/**
 * qemu_plugin_vcpu_for_each() - call @cb(vcpu_index, userdata) for each live vCPU.
 *
 * Synchronous; @cb must not call back into registration functions.
 */
QEMU_PLUGIN_API void qemu_plugin_vcpu_for_each(qemu_plugin_id_t id, qemu_plugin_vcpu_udata_cb_t cb,
                                               void *userdata);

/**
 * qemu_plugin_register_flush_cb() - call @cb(userdata) after each code-cache flush.
 *
 * All translations (and the handles and per-block registrations attached to
 * them) are gone when @cb runs.
 */
QEMU_PLUGIN_API void qemu_plugin_register_flush_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                                   void *userdata);
#endif

/**
 * qemu_plugin_register_atexit_cb() - call @cb once when the program ends.
 * @userdata: passed to @cb; never freed by the host.
 *
 * @cb is called as cb(id, userdata) up to v6 and as cb(userdata) in v7. It
 * runs in the exiting thread after every other callback was removed; the
 * most recently registered plugin runs first. This is where plugins print
 * results and free their state.
 */
QEMU_PLUGIN_API void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                                    void *userdata);

/* ------------------------------------------------------------------------ */
/* vCPU count                                                                */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION == 1
/** qemu_plugin_n_vcpus() - number of vCPUs (v1); -1 in user mode. */
QEMU_PLUGIN_API int qemu_plugin_n_vcpus(void);

/** qemu_plugin_n_max_vcpus() - maximum number of vCPUs (v1); -1 in user mode. */
QEMU_PLUGIN_API int qemu_plugin_n_max_vcpus(void);
#else
/**
 * qemu_plugin_num_vcpus() - highest vCPU index started so far, plus one (v2+).
 *
 * 0 during install, never decreases.
 */
QEMU_PLUGIN_API int qemu_plugin_num_vcpus(void);
#endif

/* ------------------------------------------------------------------------ */
/* Output, arguments, program information                                    */
/* ------------------------------------------------------------------------ */

/**
 * qemu_plugin_outs() - write @string to the plugin log.
 *
 * Written verbatim (no newline added), only when plugin logging is enabled
 * (-d plugin), to stderr or the -D file. The string is copied; the caller
 * keeps ownership. Safe to call from install.
 */
QEMU_PLUGIN_API void qemu_plugin_outs(const char *string);

/**
 * qemu_plugin_bool_parse() - parse a boolean plugin argument.
 * @name: argument name, used only in messages.
 * @val: "on", "yes", "true", "y" or "off", "no", "false", "n".
 * @ret: receives the value.
 *
 * Return: true if @val was understood (then *@ret is set).
 */
QEMU_PLUGIN_API bool qemu_plugin_bool_parse(const char *name, const char *val, bool *ret);

/**
 * qemu_plugin_path_to_binary() - path of the guest program.
 *
 * Return: a newly allocated copy; the caller frees it with g_free(). Needs a
 * running vCPU (not during install).
 */
QEMU_PLUGIN_API const char *qemu_plugin_path_to_binary(void);

/** qemu_plugin_start_code() - start of the main program's code (load bias included). */
QEMU_PLUGIN_API uint64_t qemu_plugin_start_code(void);

/** qemu_plugin_end_code() - end of the main program's code (load bias included). */
QEMU_PLUGIN_API uint64_t qemu_plugin_end_code(void);

/** qemu_plugin_entry_code() - entry point of the main program (load bias included). */
QEMU_PLUGIN_API uint64_t qemu_plugin_entry_code(void);

/* ------------------------------------------------------------------------ */
/* Registers (v2+)                                                           */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION >= 2
/**
 * qemu_plugin_get_registers() - describe the current vCPU's registers (v2+).
 *
 * Call from vCPU context (vcpu_init or later). Return: a new GArray of
 * qemu_plugin_reg_descriptor (zero-terminated) that the caller owns and frees
 * with g_array_free(); the handles, names and features in it stay valid for
 * the whole run. On x86-64 the list is qemu-x86_64's, in its order: rax rbx
 * rcx rdx rsi rdi rbp rsp r8-r15 rip eflags cs ss ds es fs gs fs_base gs_base
 * k_gs_base cr0 cr2 cr3 cr4 cr8 efer st0-st7 fctrl fstat ftag fiseg fioff
 * foseg fooff fop xmm0-xmm15 mxcsr ("org.gnu.gdb.i386.core"), then orig_rax
 * ("org.gnu.gdb.i386.linux").
 */
QEMU_PLUGIN_API GArray *qemu_plugin_get_registers(void);

#if QEMU_PLUGIN_API_VERSION <= 5
/**
 * qemu_plugin_read_register() - append a register's value to @buf (v2-v5 form).
 *
 * Little-endian, natural size. Needs register access (R_REGS or more, or
 * a vcpu_init/tb_trans/syscall callback). Return: bytes read, -1 on failure.
 */
QEMU_PLUGIN_API int qemu_plugin_read_register(struct qemu_plugin_register *handle, GByteArray *buf);
#else
/**
 * qemu_plugin_read_register() - append a register's value to @buf (v6+ form).
 *
 * Little-endian, natural size. Needs register access (R_REGS or more, or
 * a vcpu_init/tb_trans/syscall callback). Return: true on success.
 */
QEMU_PLUGIN_API bool qemu_plugin_read_register(struct qemu_plugin_register *handle,
                                               GByteArray *buf);
#endif

#if QEMU_PLUGIN_API_VERSION == 5
/**
 * qemu_plugin_write_register() - set a register from @buf (v5 form).
 *
 * Needs RW_REGS context. @buf is read during the call only; fails for the
 * PC. Return: bytes written, -1 on failure.
 */
QEMU_PLUGIN_API int qemu_plugin_write_register(struct qemu_plugin_register *handle,
                                               GByteArray *buf);
#elif QEMU_PLUGIN_API_VERSION >= 6
/**
 * qemu_plugin_write_register() - set a register from @buf (v6+ form).
 *
 * Needs RW_REGS or RW_REGS_PC context. @buf is read during the call only.
 * Fails for the PC (use qemu_plugin_set_pc()). Return: true on success.
 */
QEMU_PLUGIN_API bool qemu_plugin_write_register(struct qemu_plugin_register *handle,
                                                GByteArray *buf);
#endif

#if QEMU_PLUGIN_API_VERSION >= 6
/**
 * qemu_plugin_set_pc() - continue guest execution at @vaddr (v6+).
 *
 * Needs RW_REGS_PC context (a callback registered with it, or a syscall /
 * syscall filter callback). Does not return: the rest of the current
 * callback and of the current instruction are abandoned.
 */
QEMU_PLUGIN_API void qemu_plugin_set_pc(uint64_t vaddr) __attribute__((noreturn));
#endif
#endif /* QEMU_PLUGIN_API_VERSION >= 2 */

/* ------------------------------------------------------------------------ */
/* Guest memory                                                              */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION >= 4
/**
 * qemu_plugin_read_memory_vaddr() - read @len bytes of guest memory at @addr (v4+).
 * @data: caller's array; resized to @len and filled.
 *
 * Call from vCPU context. Return: false when @len is 0 or the range is not
 * mapped readable.
 */
QEMU_PLUGIN_API bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len);
#endif

#if QEMU_PLUGIN_API_VERSION >= 5
/**
 * qemu_plugin_write_memory_vaddr() - write @data into guest memory at @addr (v5+).
 *
 * Call from vCPU context. Not ordered against accesses in flight; code
 * written over is retranslated. Return: false when @data is empty or the
 * write fails.
 */
QEMU_PLUGIN_API bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray *data);

/** qemu_plugin_read_memory_hwaddr() - physical read (v5+); an error in user mode. */
QEMU_PLUGIN_API enum qemu_plugin_hwaddr_operation_result qemu_plugin_read_memory_hwaddr(
    uint64_t addr, GByteArray *data, size_t len);

/** qemu_plugin_write_memory_hwaddr() - physical write (v5+); an error in user mode. */
QEMU_PLUGIN_API enum qemu_plugin_hwaddr_operation_result qemu_plugin_write_memory_hwaddr(
    uint64_t addr, GByteArray *data);

/** qemu_plugin_translate_vaddr() - virtual to physical (v5+); false in user mode. */
QEMU_PLUGIN_API bool qemu_plugin_translate_vaddr(uint64_t vaddr, uint64_t *hwaddr);
#endif

/* ------------------------------------------------------------------------ */
/* Virtual time (v3+; not available in user mode)                            */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION >= 3
/**
 * qemu_plugin_request_time_control() - take control of virtual time (v3+).
 *
 * Only the first caller gets a handle. Return: an opaque handle for
 * qemu_plugin_update_ns(), or NULL (always, in user mode).
 */
QEMU_PLUGIN_API const void *qemu_plugin_request_time_control(void);

/** qemu_plugin_update_ns() - advance virtual time to @time (v3+); no effect in user mode. */
QEMU_PLUGIN_API void qemu_plugin_update_ns(const void *handle, int64_t time);
#endif

/* ------------------------------------------------------------------------ */
/* Scoreboards (v2+)                                                         */
/* ------------------------------------------------------------------------ */

#if QEMU_PLUGIN_API_VERSION >= 2
/**
 * qemu_plugin_scoreboard_new() - a zeroed array of one @element_size element per vCPU.
 *
 * Grows by itself when vCPUs appear. Free it with qemu_plugin_scoreboard_free().
 */
QEMU_PLUGIN_API struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size);

/** qemu_plugin_scoreboard_free() - free @score; nothing may use it afterwards. */
QEMU_PLUGIN_API void qemu_plugin_scoreboard_free(struct qemu_plugin_scoreboard *score);

/**
 * qemu_plugin_scoreboard_find() - element of vCPU @vcpu_index.
 *
 * @vcpu_index must be below qemu_plugin_num_vcpus(). The pointer becomes
 * stale when the scoreboard grows: do not keep it across callbacks.
 */
QEMU_PLUGIN_API void *qemu_plugin_scoreboard_find(struct qemu_plugin_scoreboard *score,
                                                  unsigned int vcpu_index);

/** qemu_plugin_u64_add() - add @added to the slot of @vcpu_index (not atomic). */
QEMU_PLUGIN_API void qemu_plugin_u64_add(qemu_plugin_u64 entry, unsigned int vcpu_index,
                                         uint64_t added);

/** qemu_plugin_u64_get() - the slot of @vcpu_index. */
QEMU_PLUGIN_API uint64_t qemu_plugin_u64_get(qemu_plugin_u64 entry, unsigned int vcpu_index);

/** qemu_plugin_u64_set() - store @val into the slot of @vcpu_index. */
QEMU_PLUGIN_API void qemu_plugin_u64_set(qemu_plugin_u64 entry, unsigned int vcpu_index,
                                         uint64_t val);

/** qemu_plugin_u64_sum() - sum of the slots of vCPUs 0 .. qemu_plugin_num_vcpus() - 1. */
QEMU_PLUGIN_API uint64_t qemu_plugin_u64_sum(qemu_plugin_u64 entry);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ------------------------------------------------------------------------ */
/* Layout checks (LP64, C11 or C++11 and later)                              */
/* ------------------------------------------------------------------------ */

#if defined(__cplusplus) && __cplusplus >= 201103L
#define QPLUG_QEMU_PLUGIN_ASSERT(cond, msg) static_assert(cond, msg)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define QPLUG_QEMU_PLUGIN_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#if defined(QPLUG_QEMU_PLUGIN_ASSERT) && defined(__LP64__)
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_id_t) == 8, "qemu_plugin_id_t is 64-bit");
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_meminfo_t) == 4, "qemu_plugin_meminfo_t is 32-bit");
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_info_t) == 32, "qemu_info_t is 32 bytes");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, target_name) == 0, "qemu_info_t.target_name");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, version.min) == 8, "qemu_info_t.version.min");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, version.cur) == 12, "qemu_info_t.version.cur");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, system_emulation) == 16,
                         "qemu_info_t.system_emulation");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, system.smp_vcpus) == 20,
                         "qemu_info_t.system.smp_vcpus");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_info_t, system.max_vcpus) == 24,
                         "qemu_info_t.system.max_vcpus");
#if QEMU_PLUGIN_API_VERSION >= 2
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_u64) == 16, "qemu_plugin_u64 is 16 bytes");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_u64, offset) == 8, "qemu_plugin_u64.offset");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_reg_descriptor, handle) == 0,
                         "qemu_plugin_reg_descriptor.handle");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_reg_descriptor, name) == 8,
                         "qemu_plugin_reg_descriptor.name");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_reg_descriptor, feature) == 16,
                         "qemu_plugin_reg_descriptor.feature");
#if QEMU_PLUGIN_API_VERSION >= 7
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_reg_descriptor, is_readonly) == 24,
                         "qemu_plugin_reg_descriptor.is_readonly");
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_reg_descriptor) == 32,
                         "qemu_plugin_reg_descriptor is 32 bytes in v7");
#else
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_reg_descriptor) == 24,
                         "qemu_plugin_reg_descriptor is 24 bytes in v2-v6");
#endif
#endif
#if QEMU_PLUGIN_API_VERSION >= 4
QPLUG_QEMU_PLUGIN_ASSERT(sizeof(qemu_plugin_mem_value) == 24, "qemu_plugin_mem_value is 24 bytes");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_mem_value, data) == 8, "qemu_plugin_mem_value.data");
QPLUG_QEMU_PLUGIN_ASSERT(offsetof(qemu_plugin_mem_value, data.u128.high) == 16,
                         "qemu_plugin_mem_value.data.u128.high");
#endif
#endif

#undef QPLUG_QEMU_PLUGIN_ASSERT
#undef QPLUG_QEMU_PLUGIN_EXTENSION

#endif /* QPLUG_QEMU_PLUGIN_H */
