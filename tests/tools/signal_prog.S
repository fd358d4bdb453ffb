// Freestanding test program that takes two signals with handlers, for
// stepcount's self-test: SIGUSR1 sent with kill() to itself, and a SIGILL from
// a ud2 whose handler skips the ud2. With an argument it then kills itself
// with SIGTERM (no handler) instead of exiting.
//
// Executed instructions:
//   2 x rt_sigaction        12
//   getpid + kill(SIGUSR1)   6
//   SIGUSR1 handler          2   (incl, ret)
//   restorer                 2   (mov, syscall rt_sigreturn)
//   ud2                      0   (faults: does not retire)
//   SIGILL handler           3   (addq, incl, ret)
//   restorer                 2
//   cmpq + jbe               2
//   without argument:        4   (mov, add, mov, exit_group syscall)  -> 33, exit status 42
//   with argument:           6   (getpid, kill(SIGTERM))             -> 35, killed by SIGTERM
// Control transfers without argument: 7 syscalls + 2 ret + jbe = 10.

        .text
        .globl _start
_start:
        mov     $13, %eax               // rt_sigaction(SIGUSR1, &usr1_act, NULL, 8)
        mov     $10, %edi
        lea     usr1_act(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        mov     $13, %eax               // rt_sigaction(SIGILL, &ill_act, NULL, 8)
        mov     $4, %edi
        lea     ill_act(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall

        mov     $39, %eax               // kill(getpid(), SIGUSR1)
        syscall
        mov     %eax, %edi
        mov     $10, %esi
        mov     $62, %eax
        syscall

        ud2                             // SIGILL; the handler skips it

        cmpq    $1, (%rsp)              // argc > 1?
        jbe     2f
        mov     $39, %eax               // kill(getpid(), SIGTERM)
        syscall
        mov     %eax, %edi
        mov     $15, %esi
        mov     $62, %eax
        syscall

2:      mov     count(%rip), %edi       // exit_group(40 + handled signals)
        add     $40, %edi
        mov     $231, %eax
        syscall

usr1_handler:
        incl    count(%rip)
        ret

ill_handler:                            // (sig, siginfo, ucontext in %rdx)
        addq    $2, 168(%rdx)           // uc_mcontext.gregs[REG_RIP] += 2 (skip ud2)
        incl    count(%rip)
        ret

restorer:
        mov     $15, %eax               // rt_sigreturn
        syscall

        .data
        .balign 8
usr1_act:                               // struct kernel_sigaction
        .quad   usr1_handler
        .quad   0x04000000              // SA_RESTORER
        .quad   restorer
        .quad   0                       // sa_mask
ill_act:
        .quad   ill_handler
        .quad   0x04000004              // SA_RESTORER | SA_SIGINFO
        .quad   restorer
        .quad   0
count:  .long   0

        .section .note.GNU-stack,"",@progbits
