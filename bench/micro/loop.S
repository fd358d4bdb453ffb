/*
 * bench_loop N: N iterations of one basic block of 8 instructions with 2
 * memory accesses (1 load, 1 store), then exit_group(0). Per iteration,
 * exactly: 1 block execution, 8 instructions, 2 accesses, no system call.
 * Everything before and after the loop is the same for every N, so the
 * difference between two runs is N2 - N1 times one iteration.
 */
#include "guest_common.h"

        .text
        .globl _start
_start:
        PARSE_ARG 1, %rcx
        lea     buf(%rip), %rdi
        xor     %eax, %eax
        xor     %r8d, %r8d
        test    %rcx, %rcx
        jz      done
        .balign 64
loop:   mov     (%rdi), %rdx            // 1: load
        add     %rcx, %rdx              // 2
        mov     %rdx, 8(%rdi)           // 3: store
        xor     %rdx, %rax              // 4
        lea     1(%rax), %rsi           // 5
        add     $1, %r8                 // 6
        dec     %rcx                    // 7
        jnz     loop                    // 8
done:   EXIT
        BAD_USAGE

        .bss
        .balign 64
buf:    .skip   64

        .section .note.GNU-stack, "", @progbits
