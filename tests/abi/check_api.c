/*
 * Compile-time ABI checks of include/qplug/qemu-plugin.h for one API version.
 *
 * Built once per version (QEMU_PLUGIN_API_VERSION=1..7 on the command line),
 * as C11 here and as C++17/C++20 through check_api.cpp, with -Werror: a
 * wrong signature is an incompatible-pointer error, a wrong enum value or
 * layout a failed static assertion. Every expected type below is written from
 * QEMU's documented interface (docs/abi.md), not copied from the header. Which names must NOT
 * exist in a version is checked by abi_check.sh decls against the manifest.
 *
 * With CHECK_DEFAULT_VERSION defined (and no QEMU_PLUGIN_API_VERSION), checks
 * that the header defaults to version 7.
 */
#include <qplug/qemu-plugin.h>

#if QEMU_PLUGIN_VERSION != QEMU_PLUGIN_API_VERSION
#error "QEMU_PLUGIN_VERSION must equal the selected QEMU_PLUGIN_API_VERSION"
#endif
#if defined(CHECK_DEFAULT_VERSION) && QEMU_PLUGIN_VERSION != 7
#error "the header must default to API version 7"
#endif

#define V QEMU_PLUGIN_VERSION

#ifdef __cplusplus
#include <type_traits>
#define CHECK(cond) static_assert(cond, #cond)
#define SAME(a, b) (std::is_same<a, b>::value)
#else
#define CHECK(cond) _Static_assert(cond, #cond)
#define SAME(a, b) _Generic((a *)0, b * : 1, default : 0)
#endif

/* SIG(name, return type, parameter types): name exists with exactly that type. */
#define SIG(name, ret, params) ret(*check_##name) params = name;

/* ---- Plugin-side symbols ---------------------------------------------- */

int *check_version_object = &qemu_plugin_version;
SIG(qemu_plugin_install, int, (qemu_plugin_id_t, const qemu_info_t *, int, char **))

/* ---- Scalar types and layouts ----------------------------------------- */

CHECK(SAME(qemu_plugin_id_t, uint64_t));
CHECK(SAME(qemu_plugin_meminfo_t, uint32_t));
CHECK(sizeof(qemu_info_t) == 32);
CHECK(offsetof(qemu_info_t, target_name) == 0);
CHECK(offsetof(qemu_info_t, version.min) == 8);
CHECK(offsetof(qemu_info_t, version.cur) == 12);
CHECK(offsetof(qemu_info_t, system_emulation) == 16);
CHECK(offsetof(qemu_info_t, system.smp_vcpus) == 20);
CHECK(offsetof(qemu_info_t, system.max_vcpus) == 24);
CHECK(sizeof(((qemu_info_t *)0)->system_emulation) == 1);

#if V >= 2
CHECK(sizeof(qemu_plugin_u64) == 16);
CHECK(offsetof(qemu_plugin_u64, score) == 0);
CHECK(offsetof(qemu_plugin_u64, offset) == 8);
CHECK(offsetof(qemu_plugin_reg_descriptor, handle) == 0);
CHECK(offsetof(qemu_plugin_reg_descriptor, name) == 8);
CHECK(offsetof(qemu_plugin_reg_descriptor, feature) == 16);
#if V >= 7
CHECK(sizeof(qemu_plugin_reg_descriptor) == 32);
CHECK(offsetof(qemu_plugin_reg_descriptor, is_readonly) == 24);
#else
CHECK(sizeof(qemu_plugin_reg_descriptor) == 24);
#endif

struct check_counters {
  uint64_t a;
  uint64_t b;
};
qemu_plugin_u64 check_u64_macros(struct qemu_plugin_scoreboard *sb, int second);
qemu_plugin_u64 check_u64_macros(struct qemu_plugin_scoreboard *sb, int second) {
  qemu_plugin_u64 whole = qemu_plugin_scoreboard_u64(sb);
  qemu_plugin_u64 member = qemu_plugin_scoreboard_u64_in_struct(sb, struct check_counters, b);
  return second ? member : whole;
}
#endif

#if V >= 4
CHECK(sizeof(qemu_plugin_mem_value) == 24);
CHECK(offsetof(qemu_plugin_mem_value, type) == 0);
CHECK(offsetof(qemu_plugin_mem_value, data) == 8);
CHECK(offsetof(qemu_plugin_mem_value, data.u128.low) == 8);
CHECK(offsetof(qemu_plugin_mem_value, data.u128.high) == 16);
#endif

/* ---- Enumerations ----------------------------------------------------- */

CHECK(QEMU_PLUGIN_CB_NO_REGS == 0);
CHECK(QEMU_PLUGIN_CB_R_REGS == 1);
CHECK(QEMU_PLUGIN_CB_RW_REGS == 2);
#if V >= 6
CHECK(QEMU_PLUGIN_CB_RW_REGS_PC == 3);
#endif
CHECK(sizeof(enum qemu_plugin_cb_flags) == 4);
CHECK(QEMU_PLUGIN_MEM_R == 1);
CHECK(QEMU_PLUGIN_MEM_W == 2);
CHECK(QEMU_PLUGIN_MEM_RW == 3);
CHECK(QEMU_PLUGIN_INLINE_ADD_U64 == 0);
#if V >= 3
CHECK(QEMU_PLUGIN_INLINE_STORE_U64 == 1);
CHECK(QEMU_PLUGIN_COND_NEVER == 0);
CHECK(QEMU_PLUGIN_COND_ALWAYS == 1);
CHECK(QEMU_PLUGIN_COND_EQ == 2);
CHECK(QEMU_PLUGIN_COND_NE == 3);
CHECK(QEMU_PLUGIN_COND_LT == 4);
CHECK(QEMU_PLUGIN_COND_LE == 5);
CHECK(QEMU_PLUGIN_COND_GT == 6);
CHECK(QEMU_PLUGIN_COND_GE == 7);
#endif
#if V >= 4
CHECK(QEMU_PLUGIN_MEM_VALUE_U8 == 0);
CHECK(QEMU_PLUGIN_MEM_VALUE_U16 == 1);
CHECK(QEMU_PLUGIN_MEM_VALUE_U32 == 2);
CHECK(QEMU_PLUGIN_MEM_VALUE_U64 == 3);
CHECK(QEMU_PLUGIN_MEM_VALUE_U128 == 4);
#endif
#if V >= 5
CHECK(QEMU_PLUGIN_DISCON_INTERRUPT == 1);
CHECK(QEMU_PLUGIN_DISCON_EXCEPTION == 2);
CHECK(QEMU_PLUGIN_DISCON_HOSTCALL == 4);
CHECK(QEMU_PLUGIN_DISCON_ALL == -1);
CHECK(sizeof(enum qemu_plugin_discon_type) == 4);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_OK == 0);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_ERROR == 1);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR == 2);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_ACCESS_DENIED == 3);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS == 4);
CHECK(QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS_SPACE == 5);
#endif

/* ---- Callback types --------------------------------------------------- */

typedef void (*exp_vcpu_udata_cb)(unsigned int, void *);
typedef void (*exp_mem_cb)(unsigned int, qemu_plugin_meminfo_t, uint64_t, void *);
CHECK(SAME(qemu_plugin_vcpu_udata_cb_t, exp_vcpu_udata_cb));
CHECK(SAME(qemu_plugin_vcpu_mem_cb_t, exp_mem_cb));

#if V <= 6
typedef void (*exp_simple_cb)(qemu_plugin_id_t);
typedef void (*exp_udata_cb)(qemu_plugin_id_t, void *);
typedef void (*exp_vcpu_simple_cb)(qemu_plugin_id_t, unsigned int);
typedef void (*exp_tb_trans_cb)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*exp_syscall_cb)(qemu_plugin_id_t, unsigned int, int64_t, uint64_t, uint64_t,
                               uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
typedef void (*exp_syscall_ret_cb)(qemu_plugin_id_t, unsigned int, int64_t, int64_t);
CHECK(SAME(qemu_plugin_simple_cb_t, exp_simple_cb));
CHECK(SAME(qemu_plugin_vcpu_simple_cb_t, exp_vcpu_simple_cb));
#else
typedef void (*exp_udata_cb)(void *);
typedef void (*exp_tb_trans_cb)(struct qemu_plugin_tb *, void *);
typedef void (*exp_syscall_cb)(unsigned int, int64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                               uint64_t, uint64_t, uint64_t, uint64_t, void *);
typedef void (*exp_syscall_ret_cb)(unsigned int, int64_t, int64_t, void *);
#endif
CHECK(SAME(qemu_plugin_udata_cb_t, exp_udata_cb));
CHECK(SAME(qemu_plugin_vcpu_tb_trans_cb_t, exp_tb_trans_cb));
CHECK(SAME(qemu_plugin_vcpu_syscall_cb_t, exp_syscall_cb));
CHECK(SAME(qemu_plugin_vcpu_syscall_ret_cb_t, exp_syscall_ret_cb));

#if V == 5 || V == 6
typedef void (*exp_discon_cb)(qemu_plugin_id_t, unsigned int, enum qemu_plugin_discon_type,
                              uint64_t, uint64_t);
#elif V >= 7
typedef void (*exp_discon_cb)(unsigned int, enum qemu_plugin_discon_type, uint64_t, uint64_t,
                              void *);
#endif
#if V >= 5
CHECK(SAME(qemu_plugin_vcpu_discon_cb_t, exp_discon_cb));
#endif

#if V == 6
typedef bool (*exp_syscall_filter_cb)(qemu_plugin_id_t, unsigned int, int64_t, uint64_t, uint64_t,
                                      uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                      uint64_t *);
#elif V >= 7
typedef bool (*exp_syscall_filter_cb)(unsigned int, int64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                      uint64_t, uint64_t, uint64_t, uint64_t, int64_t *, void *);
#endif
#if V >= 6
CHECK(SAME(qemu_plugin_vcpu_syscall_filter_cb_t, exp_syscall_filter_cb));
#endif

/* ---- Functions -------------------------------------------------------- */

typedef struct qemu_plugin_tb tb_t;
typedef struct qemu_plugin_insn insn_t;
typedef struct qemu_plugin_hwaddr hwaddr_t;
typedef enum qemu_plugin_cb_flags flags_t;
typedef enum qemu_plugin_op op_t;
typedef enum qemu_plugin_mem_rw rw_t;

/* Lifecycle and vCPU events. */
#if V <= 6
SIG(qemu_plugin_uninstall, void, (qemu_plugin_id_t, exp_simple_cb))
SIG(qemu_plugin_reset, void, (qemu_plugin_id_t, exp_simple_cb))
SIG(qemu_plugin_register_vcpu_init_cb, void, (qemu_plugin_id_t, exp_vcpu_simple_cb))
SIG(qemu_plugin_register_vcpu_exit_cb, void, (qemu_plugin_id_t, exp_vcpu_simple_cb))
SIG(qemu_plugin_register_vcpu_idle_cb, void, (qemu_plugin_id_t, exp_vcpu_simple_cb))
SIG(qemu_plugin_register_vcpu_resume_cb, void, (qemu_plugin_id_t, exp_vcpu_simple_cb))
SIG(qemu_plugin_register_vcpu_tb_trans_cb, void, (qemu_plugin_id_t, exp_tb_trans_cb))
SIG(qemu_plugin_register_vcpu_syscall_cb, void, (qemu_plugin_id_t, exp_syscall_cb))
SIG(qemu_plugin_register_vcpu_syscall_ret_cb, void, (qemu_plugin_id_t, exp_syscall_ret_cb))
SIG(qemu_plugin_vcpu_for_each, void, (qemu_plugin_id_t, exp_vcpu_simple_cb))
SIG(qemu_plugin_register_flush_cb, void, (qemu_plugin_id_t, exp_simple_cb))
#else
SIG(qemu_plugin_uninstall, void, (qemu_plugin_id_t, exp_udata_cb, void *))
SIG(qemu_plugin_reset, void, (qemu_plugin_id_t, exp_udata_cb, void *))
SIG(qemu_plugin_register_vcpu_init_cb, void, (qemu_plugin_id_t, exp_vcpu_udata_cb, void *))
SIG(qemu_plugin_register_vcpu_exit_cb, void, (qemu_plugin_id_t, exp_vcpu_udata_cb, void *))
SIG(qemu_plugin_register_vcpu_idle_cb, void, (qemu_plugin_id_t, exp_vcpu_udata_cb, void *))
SIG(qemu_plugin_register_vcpu_resume_cb, void, (qemu_plugin_id_t, exp_vcpu_udata_cb, void *))
SIG(qemu_plugin_register_vcpu_tb_trans_cb, void, (qemu_plugin_id_t, exp_tb_trans_cb, void *))
SIG(qemu_plugin_register_vcpu_syscall_cb, void, (qemu_plugin_id_t, exp_syscall_cb, void *))
SIG(qemu_plugin_register_vcpu_syscall_ret_cb, void, (qemu_plugin_id_t, exp_syscall_ret_cb, void *))
SIG(qemu_plugin_vcpu_for_each, void, (qemu_plugin_id_t, exp_vcpu_udata_cb, void *))
SIG(qemu_plugin_register_flush_cb, void, (qemu_plugin_id_t, exp_udata_cb, void *))
#endif
SIG(qemu_plugin_register_atexit_cb, void, (qemu_plugin_id_t, exp_udata_cb, void *))
#if V == 5 || V == 6
SIG(qemu_plugin_register_vcpu_discon_cb, void,
    (qemu_plugin_id_t, enum qemu_plugin_discon_type, exp_discon_cb))
#elif V >= 7
SIG(qemu_plugin_register_vcpu_discon_cb, void,
    (qemu_plugin_id_t, enum qemu_plugin_discon_type, exp_discon_cb, void *))
#endif
#if V == 6
SIG(qemu_plugin_register_vcpu_syscall_filter_cb, void, (qemu_plugin_id_t, exp_syscall_filter_cb))
#elif V >= 7
SIG(qemu_plugin_register_vcpu_syscall_filter_cb, void,
    (qemu_plugin_id_t, exp_syscall_filter_cb, void *))
#endif

/* Execution-time registration. */
SIG(qemu_plugin_register_vcpu_tb_exec_cb, void, (tb_t *, exp_vcpu_udata_cb, flags_t, void *))
SIG(qemu_plugin_register_vcpu_insn_exec_cb, void, (insn_t *, exp_vcpu_udata_cb, flags_t, void *))
SIG(qemu_plugin_register_vcpu_mem_cb, void, (insn_t *, exp_mem_cb, flags_t, rw_t, void *))
#if V == 1
SIG(qemu_plugin_register_vcpu_tb_exec_inline, void, (tb_t *, op_t, void *, uint64_t))
SIG(qemu_plugin_register_vcpu_insn_exec_inline, void, (insn_t *, op_t, void *, uint64_t))
SIG(qemu_plugin_register_vcpu_mem_inline, void, (insn_t *, rw_t, op_t, void *, uint64_t))
#else
SIG(qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu, void,
    (tb_t *, op_t, qemu_plugin_u64, uint64_t))
SIG(qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu, void,
    (insn_t *, op_t, qemu_plugin_u64, uint64_t))
SIG(qemu_plugin_register_vcpu_mem_inline_per_vcpu, void,
    (insn_t *, rw_t, op_t, qemu_plugin_u64, uint64_t))
#endif
#if V >= 3
SIG(qemu_plugin_register_vcpu_tb_exec_cond_cb, void,
    (tb_t *, exp_vcpu_udata_cb, flags_t, enum qemu_plugin_cond, qemu_plugin_u64, uint64_t, void *))
SIG(qemu_plugin_register_vcpu_insn_exec_cond_cb, void,
    (insn_t *, exp_vcpu_udata_cb, flags_t, enum qemu_plugin_cond, qemu_plugin_u64, uint64_t,
     void *))
#endif

/* Block, instruction and memory queries. */
SIG(qemu_plugin_tb_n_insns, size_t, (const tb_t *))
SIG(qemu_plugin_tb_vaddr, uint64_t, (const tb_t *))
SIG(qemu_plugin_tb_get_insn, insn_t *, (const tb_t *, size_t))
#if V <= 2
SIG(qemu_plugin_insn_data, const void *, (const insn_t *))
#else
SIG(qemu_plugin_insn_data, size_t, (const insn_t *, void *, size_t))
#endif
SIG(qemu_plugin_insn_size, size_t, (const insn_t *))
SIG(qemu_plugin_insn_vaddr, uint64_t, (const insn_t *))
SIG(qemu_plugin_insn_haddr, void *, (const insn_t *))
SIG(qemu_plugin_insn_disas, char *, (const insn_t *))
SIG(qemu_plugin_insn_symbol, const char *, (const insn_t *))
SIG(qemu_plugin_mem_size_shift, unsigned int, (qemu_plugin_meminfo_t))
SIG(qemu_plugin_mem_is_sign_extended, bool, (qemu_plugin_meminfo_t))
SIG(qemu_plugin_mem_is_big_endian, bool, (qemu_plugin_meminfo_t))
SIG(qemu_plugin_mem_is_store, bool, (qemu_plugin_meminfo_t))
#if V >= 4
SIG(qemu_plugin_mem_get_value, qemu_plugin_mem_value, (qemu_plugin_meminfo_t))
#endif
SIG(qemu_plugin_get_hwaddr, hwaddr_t *, (qemu_plugin_meminfo_t, uint64_t))
SIG(qemu_plugin_hwaddr_is_io, bool, (const hwaddr_t *))
SIG(qemu_plugin_hwaddr_phys_addr, uint64_t, (const hwaddr_t *))
SIG(qemu_plugin_hwaddr_device_name, const char *, (const hwaddr_t *))

/* Counts, output, program information. */
#if V == 1
SIG(qemu_plugin_n_vcpus, int, (void))
SIG(qemu_plugin_n_max_vcpus, int, (void))
#else
SIG(qemu_plugin_num_vcpus, int, (void))
#endif
SIG(qemu_plugin_outs, void, (const char *))
SIG(qemu_plugin_bool_parse, bool, (const char *, const char *, bool *))
SIG(qemu_plugin_path_to_binary, const char *, (void))
SIG(qemu_plugin_start_code, uint64_t, (void))
SIG(qemu_plugin_end_code, uint64_t, (void))
SIG(qemu_plugin_entry_code, uint64_t, (void))

/* Registers. */
#if V >= 2
SIG(qemu_plugin_get_registers, GArray *, (void))
#endif
#if V >= 2 && V <= 5
SIG(qemu_plugin_read_register, int, (struct qemu_plugin_register *, GByteArray *))
#elif V >= 6
SIG(qemu_plugin_read_register, bool, (struct qemu_plugin_register *, GByteArray *))
#endif
#if V == 5
SIG(qemu_plugin_write_register, int, (struct qemu_plugin_register *, GByteArray *))
#elif V >= 6
SIG(qemu_plugin_write_register, bool, (struct qemu_plugin_register *, GByteArray *))
SIG(qemu_plugin_set_pc, void, (uint64_t))
#endif

/* Guest memory, virtual time. */
#if V >= 4
SIG(qemu_plugin_read_memory_vaddr, bool, (uint64_t, GByteArray *, size_t))
#endif
#if V >= 5
SIG(qemu_plugin_write_memory_vaddr, bool, (uint64_t, GByteArray *))
SIG(qemu_plugin_read_memory_hwaddr, enum qemu_plugin_hwaddr_operation_result,
    (uint64_t, GByteArray *, size_t))
SIG(qemu_plugin_write_memory_hwaddr, enum qemu_plugin_hwaddr_operation_result,
    (uint64_t, GByteArray *))
SIG(qemu_plugin_translate_vaddr, bool, (uint64_t, uint64_t *))
#endif
#if V >= 3
SIG(qemu_plugin_request_time_control, const void *, (void))
SIG(qemu_plugin_update_ns, void, (const void *, int64_t))
#endif

/* Scoreboards. */
#if V >= 2
SIG(qemu_plugin_scoreboard_new, struct qemu_plugin_scoreboard *, (size_t))
SIG(qemu_plugin_scoreboard_free, void, (struct qemu_plugin_scoreboard *))
SIG(qemu_plugin_scoreboard_find, void *, (struct qemu_plugin_scoreboard *, unsigned int))
SIG(qemu_plugin_u64_add, void, (qemu_plugin_u64, unsigned int, uint64_t))
SIG(qemu_plugin_u64_get, uint64_t, (qemu_plugin_u64, unsigned int))
SIG(qemu_plugin_u64_set, void, (qemu_plugin_u64, unsigned int, uint64_t))
SIG(qemu_plugin_u64_sum, uint64_t, (qemu_plugin_u64))
#endif
