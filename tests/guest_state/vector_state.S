/* The guest's vector, mask, x87, MXCSR and flags state must survive plugin
 * callbacks that clobber it. Fills every register with a distinct pattern,
 * runs blocks (a callback before each instruction), checks, and exits:
 *   0 all kept, 1 a vector register changed, 2 a mask register, 3 the x87
 *   stack, 4 MXCSR, 5 the status flags.
 * Each iteration also makes a system call, so the state also crosses the
 * context switch's save and restore (translated code -> qplug -> back).
 * With an argument (self-test) it clobbers the state named by the argument's
 * first character itself ('v' 'k' 'x' 'm' 'c'), so each check is shown to
 * fail when it should. Freestanding: no libc. */
        .intel_syntax noprefix
        .globl _start
        .text
_start:
        mov     rax, [rsp]              /* argc */
        xor     r15d, r15d
        cmp     rax, 2
        jb      1f
        mov     rax, [rsp + 16]         /* argv[1] */
        movzx   r15d, byte ptr [rax]    /* the self-test's clobber */
1:      /* AVX-512 (F + BW) with the OS saving zmm and k state? */
        mov     eax, 7
        xor     ecx, ecx
        cpuid
        xor     r14d, r14d
        bt      ebx, 16
        jnc     2f
        bt      ebx, 30
        jnc     2f
        xor     ecx, ecx
        xgetbv
        and     eax, 0xe6
        cmp     eax, 0xe6
        jne     2f
        mov     r14d, 1
2:      /* pattern: byte n of the table is n * 7 + 3 */
        lea     rdi, [rip + pattern]
        xor     ecx, ecx
3:      lea     eax, [rcx * 8]
        sub     eax, ecx
        add     eax, 3
        mov     [rdi + rcx], al
        inc     ecx
        cmp     ecx, 32 * 64 + 16
        jb      3b

        /* fill */
        test    r14d, r14d
        jz      4f
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 zmm\n, [rdi + \n * 64]
        .endr
        kmovq   k1, [rdi + 2048]
        kmovq   k7, [rdi + 2056]
        jmp     5f
4:      .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu ymm\n, [rdi + \n * 64]
        .endr
5:      fld1
        fldpi
        ldmxcsr [rip + mxcsr_down]

        /* self-test clobbers, then blocks with callbacks; CF must cross them */
        cmp     r15b, 'v'
        jne     6f
        vpxor   xmm9, xmm9, xmm9
6:      cmp     r15b, 'k'
        jne     7f
        test    r14d, r14d
        jz      7f
        kxorq   k7, k7, k7
7:      cmp     r15b, 'x'
        jne     8f
        fstp    st(0)
        fldz
8:      cmp     r15b, 'm'
        jne     9f
        ldmxcsr [rip + mxcsr_default]
9:      xor     r13d, r13d
        cmp     r15b, 'c'
        setne   r13b                    /* 1, or 0 in the self-test */
        mov     ebx, 200
10:     mov     eax, 110                /* getppid: leaves translated code and comes back */
        syscall
        mov     eax, 0x7f
        add     al, r13b                /* 0x7f + 1: OF SF AF set, ZF PF CF clear */
        jmp     12f
12:     nop
        jmp     13f
13:     pushfq
        pop     rax
        and     eax, 0x8d5              /* OF SF ZF AF PF CF */
        cmp     eax, 0x890
        jne     flags_lost
        dec     ebx
        jnz     10b

        /* check: vector registers */
        lea     rsi, [rip + saved]
        test    r14d, r14d
        jz      14f
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 [rsi + \n * 64], zmm\n
        .endr
        mov     ecx, 32 * 64
        jmp     15f
14:     .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu [rsi + \n * 64], ymm\n
        vmovdqu ymm0, [rdi + \n * 64 + 32]      /* ymm only: bytes 32..63 of each slot */
        vmovdqu [rsi + \n * 64 + 32], ymm0
        .endr
        mov     ecx, 16 * 64
15:     lea     rdi, [rip + pattern]
        repe cmpsb
        mov     edi, 1
        jne     exit
        /* mask registers */
        test    r14d, r14d
        jz      16f
        lea     rdi, [rip + pattern]
        kmovq   rax, k1
        cmp     rax, [rdi + 2048]
        mov     edi, 2
        jne     exit
        lea     rdi, [rip + pattern]
        kmovq   rax, k7
        cmp     rax, [rdi + 2056]
        mov     edi, 2
        jne     exit
16:     /* x87: pi then 1.0 */
        fstp    qword ptr [rip + x87_out]
        mov     rax, [rip + x87_out]
        mov     rdx, 0x400921FB54442D18
        cmp     rax, rdx
        mov     edi, 3
        jne     exit
        fstp    qword ptr [rip + x87_out]
        mov     rax, [rip + x87_out]
        mov     rdx, 0x3FF0000000000000
        cmp     rax, rdx
        jne     exit
        /* MXCSR */
        stmxcsr [rip + mxcsr_out]
        mov     eax, [rip + mxcsr_out]
        and     eax, ~0x3f               /* exception flags may differ */
        cmp     eax, [rip + mxcsr_down]
        mov     edi, 4
        jne     exit
        xor     edi, edi
        jmp     exit
flags_lost:
        mov     edi, 5
exit:   mov     eax, 231                /* exit_group */
        syscall

        .data
        .balign 4
mxcsr_down:    .long 0x3f80             /* round down, exceptions masked */
mxcsr_default: .long 0x1f80
mxcsr_out:     .long 0
        .balign 8
x87_out:       .quad 0
        .bss
        .balign 64
pattern:       .space 32 * 64 + 16
saved:         .space 32 * 64
