/*
 * bench_syscall N: N getppid system calls, then exit_group(0). Per iteration,
 * exactly: 1 block execution, 4 instructions, 1 system call, no memory access.
 */
#include "guest_common.h"

        .text
        .globl _start
_start:
        PARSE_ARG 1, %rbx
        test    %rbx, %rbx
        jz      done
        .balign 64
loop:   mov     $SYS_getppid, %eax      // syscall clobbers rcx and r11, not rbx
        syscall
        dec     %rbx
        jnz     loop
done:   EXIT
        BAD_USAGE

        .section .note.GNU-stack, "", @progbits
