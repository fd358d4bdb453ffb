#include "x86_64/context_switch.h"

#include <cerrno>
#include <utility>

#include "x86_64/asm_util.h"
#include "x86_64/xstate.h"

namespace qplug::x86_64 {

using runtime::ExitReason;

namespace {

// Stores the vector state at [rcx] in XSAVE's standard format, every
// component marked present: FXSAVE for x87, MXCSR and xmm, then the upper
// halves, mask and upper 16 registers one by one. On this project's AMD
// EPYC VMs XSAVE costs 64 ns and XRSTOR 111 ns; this costs about a third.
void save_vector_state(Xbyak::CodeGenerator& g, const XstateLayout& l) {
  if (!l.by_hand) {
    load_xstate_mask(g, l);
    g.db(0x21AE0F48, 4);  // xsave64 [rcx]
    return;
  }
  g.db(0x01AE0F48, 4);  // fxsave64 [rcx]
  if (l.mask & 0x4)
    for (int i = 0; i < 16; ++i) g.vextractf128(g.ptr[g.rcx + l.avx + 16 * i], Xbyak::Ymm(i), 1);
  if (l.mask & 0xe0) {
    for (int i = 0; i < 8; ++i) g.kmovq(g.ptr[g.rcx + l.opmask + 8 * i], Xbyak::Opmask(i));
    for (int i = 0; i < 16; ++i)
      g.vextractf64x4(g.ptr[g.rcx + l.zmm_hi256 + 32 * i], Xbyak::Zmm(i), 1);
    for (int i = 16; i < 32; ++i)
      g.vmovdqu64(g.ptr[g.rcx + l.hi16_zmm + 64 * (i - 16)], Xbyak::Zmm(i));
  }
  g.mov(g.qword[g.rcx + 512], static_cast<uint32_t>(l.mask));  // XSTATE_BV: all present
  g.mov(g.qword[g.rcx + 520], 0);                              // XCOMP_BV: standard format
}

// Loads the vector state from [rcx] (clobbers eax, edx and the flags). The
// area is in that full standard form after save_vector_state; signal frames
// and the callout routine may leave other forms (components in their initial
// state, compacted), which XRSTOR reads.
void restore_vector_state(Xbyak::CodeGenerator& g, const XstateLayout& l) {
  Xbyak::Label xrstor, done;
  if (l.by_hand) {
    g.cmp(g.qword[g.rcx + 512], static_cast<uint32_t>(l.mask));
    g.jne(xrstor, Xbyak::CodeGenerator::T_NEAR);
    g.cmp(g.qword[g.rcx + 520], 0);
    g.jne(xrstor, Xbyak::CodeGenerator::T_NEAR);
    g.db(0x09AE0F48, 4);  // fxrstor64 [rcx]
    if (l.mask & 0x4)
      for (int i = 0; i < 16; ++i)
        g.vinsertf128(Xbyak::Ymm(i), Xbyak::Ymm(i), g.ptr[g.rcx + l.avx + 16 * i], 1);
    if (l.mask & 0xe0) {
      for (int i = 0; i < 8; ++i) g.kmovq(Xbyak::Opmask(i), g.ptr[g.rcx + l.opmask + 8 * i]);
      for (int i = 0; i < 16; ++i)
        g.vinsertf64x4(Xbyak::Zmm(i), Xbyak::Zmm(i), g.ptr[g.rcx + l.zmm_hi256 + 32 * i], 1);
      for (int i = 16; i < 32; ++i)
        g.vmovdqu64(Xbyak::Zmm(i), g.ptr[g.rcx + l.hi16_zmm + 64 * (i - 16)]);
    }
    g.jmp(done, Xbyak::CodeGenerator::T_NEAR);
  }
  g.L(xrstor);
  load_xstate_mask(g, l);
  g.db(0x29AE0F48, 4);  // xrstor64 [rcx]
  g.L(done);
}

}  // namespace

ContextSwitch generate_context_switch(uint8_t* where, size_t capacity, int64_t tls_base,
                                      int (*run_callout)(const void* action)) {
  Xbyak::CodeGenerator g(capacity, where);
  const XstateLayout& layout = xstate();
  auto tls = [&](size_t field) { return x86_64::tls(g, tls_base, field); };
  auto tls32 = [&](size_t field) { return x86_64::tls32(g, tls_base, field); };
  ContextSwitch cs;
  Xbyak::Label bail, host_return, save_guest;

  // ---- enter ----
  cs.enter = reinterpret_cast<void (*)()>(const_cast<uint8_t*>(g.getCurr()));
  g.push(g.rbx);
  g.push(g.rbp);
  g.push(g.r12);
  g.push(g.r13);
  g.push(g.r14);
  g.push(g.r15);
  g.sub(g.rsp, 8);
  g.mov(tls(QPLUG_TLS_FIELD(host_rsp)), g.rsp);
  cs.critical_begin = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.eax, tls32(QPLUG_TLS_FIELD(signal_pending)));
  g.test(g.eax, g.eax);
  g.jnz(bail, Xbyak::CodeGenerator::T_NEAR);
  g.mov(g.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
  restore_vector_state(g, layout);
  g.push(tls(QPLUG_TLS_FIELD(rflags)));
  g.popfq();
  for (int r = 0; r < runtime::kGprCount; ++r) {
    if (r == runtime::kRsp) continue;
    g.mov(gpr64(r), tls(QPLUG_TLS_GPR(r)));
  }
  g.mov(g.rsp, tls(QPLUG_TLS_GPR(runtime::kRsp)));
  g.jmp(tls(QPLUG_TLS_FIELD(jump_target)));
  cs.critical_end = const_cast<uint8_t*>(g.getCurr());

  g.L(bail);
  cs.bail = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));
  g.mov(tls(QPLUG_TLS_FIELD(exit_reason)), static_cast<uint32_t>(ExitReason::kSignal));
  g.jmp(host_return, Xbyak::CodeGenerator::T_NEAR);

  // Both leave with the guest state already stored by the signal handler.
  for (auto [routine, reason] : {std::pair{&cs.fault_exit, ExitReason::kFault},
                                 std::pair{&cs.code_changed_exit, ExitReason::kCodeChanged}}) {
    g.align(16);
    *routine = const_cast<uint8_t*>(g.getCurr());
    g.mov(g.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));
    g.mov(tls(QPLUG_TLS_FIELD(exit_reason)), static_cast<uint32_t>(reason));
    g.jmp(host_return, Xbyak::CodeGenerator::T_NEAR);
  }

  // ---- lookup_miss (see runtime/thread_state.h on the lookup table) ----
  g.align(16);
  cs.lookup_miss = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.rcx, tls(QPLUG_TLS_FIELD(spill_rcx)));
  g.mov(tls(QPLUG_TLS_FIELD(exit_reason)), static_cast<uint32_t>(ExitReason::kIndirect));
  // falls through (the padding is nops)

  // ---- exit_common: r11 = exit argument, guest r11 in spill_r11 ----
  g.align(16);
  cs.exit_common = const_cast<uint8_t*>(g.getCurr());
  g.mov(tls(QPLUG_TLS_FIELD(exit_arg)), g.r11);
  g.mov(g.r11, tls(QPLUG_TLS_FIELD(spill_r11)));
  for (int r = 0; r < runtime::kGprCount; ++r) g.mov(tls(QPLUG_TLS_GPR(r)), gpr64(r));
  g.mov(g.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));
  g.pushfq();
  g.pop(tls(QPLUG_TLS_FIELD(rflags)));
  g.mov(g.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
  save_vector_state(g, layout);

  // The host runs with its own flags and FP environment, whatever the guest
  // set: DF clear, and AC clear (a guest that sets AC, as the JVM does while
  // probing the CPU, would otherwise make the host's unaligned accesses fault).
  g.L(host_return);
  g.push(0x202);
  g.popfq();
  g.fninit();
  g.ldmxcsr(tls(QPLUG_TLS_FIELD(host_mxcsr)));
  g.vzeroupper();
  g.add(g.rsp, 8);
  g.pop(g.r15);
  g.pop(g.r14);
  g.pop(g.r13);
  g.pop(g.r12);
  g.pop(g.rbp);
  g.pop(g.rbx);
  g.ret();

  // ---- callout: save the guest, run a plugin callback, restore the guest ----
  g.align(16);
  cs.callout = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.r11, tls(QPLUG_TLS_FIELD(spill_r11)));
  for (int r = 0; r < runtime::kGprCount; ++r) g.mov(tls(QPLUG_TLS_GPR(r)), gpr64(r));
  g.mov(g.rsp,
        tls(QPLUG_TLS_FIELD(host_rsp)));  // below enter()'s frame: the dispatcher waits there
  g.pushfq();
  g.pop(tls(QPLUG_TLS_FIELD(rflags)));
  g.mov(g.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
  save_vector_state(g, layout);
  g.push(0x202);  // host flags, as in host_return
  g.popfq();
  g.ldmxcsr(tls(QPLUG_TLS_FIELD(host_mxcsr)));
  g.mov(g.rdi, tls(QPLUG_TLS_FIELD(callout_action)));
  g.mov(g.rax, reinterpret_cast<uint64_t>(run_callout));
  g.call(g.rax);
  Xbyak::Label resume_guest;
  g.test(g.eax, g.eax);
  g.jz(resume_guest);
  // set_pc: the guest state is in the ThreadState with the new rip.
  g.mov(g.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));
  g.mov(tls(QPLUG_TLS_FIELD(exit_reason)), static_cast<uint32_t>(ExitReason::kNone));
  g.jmp(host_return, Xbyak::CodeGenerator::T_NEAR);
  g.L(resume_guest);
  g.mov(g.rcx, tls(QPLUG_TLS_FIELD(xsave_area)));
  restore_vector_state(g, layout);
  g.push(tls(QPLUG_TLS_FIELD(rflags)));
  g.popfq();
  for (int r = 0; r < runtime::kGprCount; ++r) {
    if (r == runtime::kRsp) continue;
    g.mov(gpr64(r), tls(QPLUG_TLS_GPR(r)));
  }
  g.mov(g.rsp, tls(QPLUG_TLS_GPR(runtime::kRsp)));
  g.jmp(tls(QPLUG_TLS_FIELD(callout_return)));

  // ---- safe_syscall(nr=rdi, a1=rsi, a2=rdx, a3=rcx, a4=r8, a5=r9, a6=[rsp+8]) ----
  g.align(16);
  Xbyak::Label interrupted;
  cs.safe_syscall = reinterpret_cast<decltype(cs.safe_syscall)>(const_cast<uint8_t*>(g.getCurr()));
  g.mov(g.rax, g.rdi);
  g.mov(g.rdi, g.rsi);
  g.mov(g.rsi, g.rdx);
  g.mov(g.rdx, g.rcx);
  g.mov(g.r10, g.r8);
  g.mov(g.r8, g.r9);
  g.mov(g.r9, g.qword[g.rsp + 8]);
  cs.syscall_begin = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.r11d, tls32(QPLUG_TLS_FIELD(signal_pending)));
  g.test(g.r11d, g.r11d);
  g.jnz(interrupted);
  cs.syscall_end = const_cast<uint8_t*>(g.getCurr());
  g.syscall();
  g.ret();
  g.L(interrupted);
  cs.syscall_interrupted = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.rax, -512);  // ERESTARTSYS: not started, always restart
  g.ret();

  // ---- safe_copy(dst=rdi, src=rsi, n=rdx) ----
  // rep movsb leaves rcx at the number of bytes left when it faults.
  g.align(16);
  cs.safe_copy = reinterpret_cast<decltype(cs.safe_copy)>(const_cast<uint8_t*>(g.getCurr()));
  g.mov(g.rcx, g.rdx);
  cs.copy_begin = const_cast<uint8_t*>(g.getCurr());
  g.rep();
  g.movsb();
  cs.copy_end = const_cast<uint8_t*>(g.getCurr());
  g.xor_(g.eax, g.eax);
  g.ret();
  cs.copy_fault = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.rax, g.rcx);
  g.ret();
  return cs;
}

}  // namespace qplug::x86_64
