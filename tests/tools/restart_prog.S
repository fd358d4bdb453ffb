// Freestanding test program for stepcount's self-test of syscall restarts: a
// forked child (not followed by stepcount) sends SIGWINCH to the parent 0.5 s
// into the parent's 2 s nanosleep. Natively SIGWINCH (default: ignore) would
// not even interrupt it; under ptrace the kernel reports the signal to the
// tracer, which interrupts the nanosleep, and the kernel restarts it with the
// same syscall instruction (as restart_syscall). SIGCHLD is blocked so that
// the child's exit cannot interrupt anything.
//
// The parent executes 17 instructions, 18 with the restarted nanosleep
// syscall instruction, which then executes twice; exit status 0.

        .text
        .globl _start
_start:
        mov     $14, %eax               // rt_sigprocmask(SIG_BLOCK, &chld, NULL, 8)
        xor     %edi, %edi
        lea     chld(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall                         // 6
        mov     $57, %eax               // fork
        syscall                         // 8
        test    %eax, %eax
        jz      child                   // 10
        lea     long_ts(%rip), %rdi     // nanosleep(2 s)
        xor     %esi, %esi
        mov     $35, %eax
        syscall                         // 14 (+1 when restarted)
        mov     $231, %eax              // exit_group(0)
        xor     %edi, %edi
        syscall                         // 17
child:
        lea     short_ts(%rip), %rdi    // nanosleep(0.5 s)
        xor     %esi, %esi
        mov     $35, %eax
        syscall
        mov     $110, %eax              // getppid
        syscall
        mov     %eax, %edi              // kill(ppid, SIGWINCH)
        mov     $28, %esi
        mov     $62, %eax
        syscall
        mov     $231, %eax
        xor     %edi, %edi
        syscall

        .data
        .balign 8
chld:   .quad   1 << (17 - 1)           // SIGCHLD
long_ts:
        .quad   2, 0
short_ts:
        .quad   0, 500000000

        .section .note.GNU-stack,"",@progbits
