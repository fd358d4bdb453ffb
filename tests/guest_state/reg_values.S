/* Known register values for the register-reading plugin (regs_plugin.c).
 * Sets every general register (but rsp), the flags, the FS base, the x87
 * stack and control word, MXCSR and xmm0-xmm15 to known values, makes a
 * getpid system call (orig_rax: 39) and runs the marker instruction
 * `nopl 0x5a5a5a5a(%rax)`, where the plugin reads (and with write=on
 * writes) registers. Without arguments it then exits 0. With an argument it
 * checks the values regs_plugin.c writes and exits with
 *   0 all written, 1 rbx, 2 xmm3, 3 st0, 4 mxcsr, 5 the FS base, 6 r13.
 * The general registers hold 0x1122334455667700 + their hardware number.
 * Freestanding: no libc. */
        .intel_syntax noprefix
        .globl _start
        .text
_start:
        mov     r12, [rsp]              /* argc: 2 checks the writes */
        mov     eax, 158                /* arch_prctl(ARCH_SET_FS, 0x123456789000) */
        mov     edi, 0x1002
        movabs  rsi, 0x123456789000
        syscall
        fninit
        fldcw   [rip + control_word]
        fld1
        fldpi
        ldmxcsr [rip + mxcsr_value]
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  xmm\n, [rip + xmm_values + \n * 16]
        .endr
        mov     eax, 39                 /* getpid */
        syscall
        mov     [rip + saved_argc], r12
        movabs  rax, 0x1122334455667700
        movabs  rcx, 0x1122334455667701
        movabs  rdx, 0x1122334455667702
        movabs  rbx, 0x1122334455667703
        movabs  rbp, 0x1122334455667705
        movabs  rsi, 0x1122334455667706
        movabs  rdi, 0x1122334455667707
        movabs  r8, 0x1122334455667708
        movabs  r9, 0x1122334455667709
        movabs  r10, 0x112233445566770a
        movabs  r11, 0x112233445566770b
        movabs  r12, 0x112233445566770c
        movabs  r13, 0x112233445566770d
        movabs  r14, 0x112233445566770e
        movabs  r15, 0x112233445566770f
        push    0x8d7                   /* CF PF AF ZF SF OF (and the fixed bit 1) */
        popfq
        nop     dword ptr [rax + 0x5a5a5a5a]   /* the marker: 0f 1f 80 5a 5a 5a 5a */

        cmp     qword ptr [rip + saved_argc], 2
        jb      exit_ok
        mov     edi, 1
        movabs  rax, 0x0badc0ffee0ddf00
        cmp     rbx, rax
        jne     exit
        mov     edi, 2
        movdqu  [rip + scratch], xmm3
        movabs  rax, 0xa5a5a5a5a5a5a5a5
        cmp     [rip + scratch], rax
        jne     exit
        cmp     [rip + scratch + 8], rax
        jne     exit
        mov     edi, 3
        fstp    qword ptr [rip + scratch]      /* st0 = 2.0 */
        movabs  rax, 0x4000000000000000
        cmp     [rip + scratch], rax
        jne     exit
        mov     edi, 4
        stmxcsr [rip + scratch]
        cmp     dword ptr [rip + scratch], 0x1f80
        jne     exit
        mov     eax, 158                       /* arch_prctl(ARCH_GET_FS, &scratch) */
        mov     edi, 0x1003
        lea     rsi, [rip + scratch]
        syscall
        mov     edi, 5
        movabs  rax, 0x123456780000
        cmp     [rip + scratch], rax
        jne     exit
        mov     edi, 6
        movabs  rax, 0x1122334455667777
        cmp     r13, rax
        jne     exit
exit_ok:
        xor     edi, edi
exit:
        mov     eax, 231                       /* exit_group */
        syscall

        .section .rodata
control_word:   .short 0x027f           /* double precision, all exceptions masked */
mxcsr_value:    .long 0x3f80            /* round toward zero */
        .balign 16
xmm_values:                             /* byte i of xmmN: N * 16 + i */
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .byte \n * 16 + \i
        .endr
        .endr

        .bss
        .balign 16
saved_argc:     .quad 0
scratch:        .quad 0, 0
