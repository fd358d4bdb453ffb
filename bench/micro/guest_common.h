/*
 * Shared pieces of the freestanding benchmark guests (no libc, static).
 *
 * PARSE_ARG n, reg: the decimal argv[n] (n >= 1) into reg; exits with status 2
 * when argc <= n. Clobbers rax, rdx, rsi. Uses only the initial stack
 * (argc at (%rsp), argv[i] at 8 + 8*i(%rsp)), so it must run before %rsp moves.
 * EXIT: exit_group(0).
 */
#define SYS_getppid 110
#define SYS_exit_group 231

        .macro PARSE_ARG n, reg
        cmpq    $\n, (%rsp)
        jle     bad_usage
        mov     8+8*\n(%rsp), %rsi
        xor     \reg, \reg
1:      movzbl  (%rsi), %eax
        sub     $'0', %eax
        cmp     $9, %eax
        ja      2f
        imul    $10, \reg, \reg
        add     %rax, \reg
        inc     %rsi
        jmp     1b
2:
        .endm

        .macro EXIT
        mov     $SYS_exit_group, %eax
        xor     %edi, %edi
        syscall
        .endm

        .macro BAD_USAGE
bad_usage:
        mov     $SYS_exit_group, %eax
        mov     $2, %edi
        syscall
        .endm
