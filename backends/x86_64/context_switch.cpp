#include "x86_64/context_switch.h"

#include <cerrno>

#include "x86_64/asm_util.h"

namespace qplug::x86_64 {

using runtime::ExitReason;

ContextSwitch generate_context_switch(uint8_t* where, size_t capacity, int64_t tls_base,
                                      int (*run_callout)(const void* action)) {
  Xbyak::CodeGenerator g(capacity, where);
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
  g.mov(g.eax, -1);
  g.mov(g.edx, -1);
  g.db(0x29AE0F48, 4);  // xrstor64 [rcx]: 48 0f ae 29
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

  g.align(16);
  cs.fault_exit = const_cast<uint8_t*>(g.getCurr());
  g.mov(g.rsp, tls(QPLUG_TLS_FIELD(host_rsp)));
  g.mov(tls(QPLUG_TLS_FIELD(exit_reason)), static_cast<uint32_t>(ExitReason::kFault));
  g.jmp(host_return, Xbyak::CodeGenerator::T_NEAR);

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
  g.mov(g.eax, -1);
  g.mov(g.edx, -1);
  g.db(0x21AE0F48, 4);  // xsave64 [rcx]: 48 0f ae 21

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
  g.mov(g.eax, -1);
  g.mov(g.edx, -1);
  g.db(0x21AE0F48, 4);  // xsave64 [rcx]
  g.push(0x202);        // host flags, as in host_return
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
  g.mov(g.eax, -1);
  g.mov(g.edx, -1);
  g.db(0x29AE0F48, 4);  // xrstor64 [rcx]
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
