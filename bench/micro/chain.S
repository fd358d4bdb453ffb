/*
 * bench_chain B R: a chain of CHAIN_BLOCKS (8192) distinct basic blocks of 3
 * instructions (32-byte aligned, each ending in a jump to the next), of which
 * the last B (B <= CHAIN_BLOCKS) run, R times over, then exit_group(0).
 *
 * With R = 1 every executed block runs once: the cost of a block's first
 * execution (translation, for a translator). With B fixed and R growing, the
 * blocks are warm: the cost of executing translated code. Per run, exactly
 * B * R chain blocks plus R executions of the 3-instruction loop block; the
 * program has the same size for every B, so page faults on the binary are
 * the same up to the pages the executed blocks touch.
 */
#include "guest_common.h"

#define CHAIN_BLOCKS 8192
#define CHAIN_ALIGN 32

        .text
        .globl _start
_start:
        PARSE_ARG 1, %rbx               // B
        PARSE_ARG 2, %r12               // R
        mov     $CHAIN_BLOCKS, %eax
        cmp     %rax, %rbx
        ja      bad_usage
        sub     %rbx, %rax              // first block = chain + (CHAIN_BLOCKS - B) * 32
        shl     $5, %rax
        lea     chain(%rip), %r13
        add     %rax, %r13
        xor     %eax, %eax
        test    %r12, %r12
        jz      done
again:  jmp     *%r13

        .balign CHAIN_ALIGN
chain:
        i = 0
        .rept   CHAIN_BLOCKS
        .balign CHAIN_ALIGN
        add     $i, %eax
        xor     %eax, %edx
        jmp     1f
1:
        i = i + 1
        .endr
        dec     %r12                    // the loop block
        jnz     again
done:   EXIT
        BAD_USAGE

        .section .note.GNU-stack, "", @progbits
