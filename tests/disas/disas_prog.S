/* disas_prog: a fixed, straight path through many instruction forms, for the
 * disassembly tests (tests/disas). Both qemu-x86_64 and qplug run it and the
 * disas_dump plugin prints qemu_plugin_insn_disas for every instruction they
 * translate; the texts must be equal. The path depends on nothing but the
 * program itself: no CPUID, no libc, no input. With any argument it also runs
 * a part with AVX, AVX2, FMA, F16C, BMI1, BMI2, MOVBE and ADX instructions
 * (the tests pass one only where the host has them).
 * Exit status 0. */
        .text
        .globl _start
_start:
        mov     (%rsp), %r12                    /* argc */
        lea     buf(%rip), %rbx
        mov     %rsp, %rbp
        /* the examples of QEMU's output this must reproduce */
        mov     0x18(%rsp), %rax
        .byte   0x0f, 0x1f, 0x00                /* nopl (%rax) */
        /* moves: sizes, immediates, addressing modes */
        mov     $0x11223344, %eax
        movabs  $0x1122334455667788, %rax
        mov     $-1, %rcx
        mov     $0x7f, %dl
        mov     $0x1234, %si
        mov     %eax, %edi
        mov     %rax, %r8
        mov     %r8d, %r9d
        mov     %r9w, %r10w
        mov     %r10b, %r11b
        mov     %ah, %dh
        mov     %rax, (%rbx)
        mov     %eax, 4(%rbx)
        mov     %ax, 8(%rbx)
        mov     %al, 10(%rbx)
        movq    $0x12345678, 16(%rbx)
        movl    $-2, 24(%rbx)
        movw    $7, 28(%rbx)
        movb    $1, 30(%rbx)
        mov     (%rbx,%rcx,8), %rdx             /* rcx = -1: buf - 8, inside pad */
        mov     $3, %edi
        mov     8(%rbx,%rdi,1), %esi
        mov     -8(%rbp), %r13
        mov     buf(%rip), %r14
        mov     buf+64(,%rcx,4), %r15d
        movzbl  (%rbx), %eax
        movzwl  %si, %ecx
        movsbq  1(%rbx), %rdx
        movswl  2(%rbx), %esi
        movslq  4(%rbx), %rdi
        movzbw  %al, %ax
        lea     (%rbx,%rcx,2), %rax
        lea     0x10(%rbx), %rcx
        lea     buf(%rip), %rdx
        lea     -0x80(%rsp), %rsi
        xchg    %rax, %rcx
        xchg    %eax, %edx
        xchg    %r8, %r9
        bswap   %eax
        bswap   %r10
        cmpxchg %ecx, (%rbx)
        lock xadd %eax, 4(%rbx)
        lock addq $1, 8(%rbx)
        lock orl  $0x10, 12(%rbx)
        lock cmpxchg %rdx, 16(%rbx)
        push    %rbx
        push    $0x12
        push    $0x12345
        pop     %rax
        pop     %rcx
        pop     %rdx
        pushfq
        popfq
        /* arithmetic and logic */
        add     %ecx, %eax
        add     $1, %rax
        add     $0x1000, %rax
        add     $-128, %eax
        adc     %rdx, %rcx
        sub     $5, %edx
        sbb     %al, %cl
        and     $0xf0, %eax
        and     $-16, %rsp
        or      (%rbx), %ecx
        xor     %eax, %eax
        xor     %r8d, %r8d
        cmp     $3, %rcx
        cmpb    $0, (%rbx)
        cmpq    $0x100, 8(%rbx)
        test    %eax, %eax
        test    $1, %cl
        testl   $0x80000000, (%rbx)
        inc     %eax
        dec     %rcx
        incl    (%rbx)
        decw    8(%rbx)
        neg     %rdx
        not     %esi
        mov     $12, %eax
        mov     $3, %ecx
        imul    %ecx, %eax
        imul    $10, %eax, %edx
        imul    $1000, (%rbx), %esi
        imul    %ecx
        mul     %rcx
        xor     %edx, %edx
        mov     $100, %eax
        div     %ecx
        cqo
        mov     $7, %rcx
        idiv    %rcx
        cdq
        cwtl
        cltq
        cbtw
        cwtd
        shl     %eax
        shl     $3, %rdx
        shr     %cl, %esi
        sar     $2, %edi
        rol     $1, %ax
        ror     $4, %r8
        rcl     %edx
        rcr     $2, %ecx
        shld    $4, %eax, %edx
        shrd    %cl, %esi, %edi
        bt      $3, %eax
        bts     %ecx, %edx
        btr     $1, %rsi
        btc     %eax, %edi
        bsf     %eax, %ecx
        bsr     %edx, %esi
        popcnt  %eax, %ecx
        lzcnt   %edx, %esi
        tzcnt   %rax, %rdi
        setz    %al
        setnbe  %cl
        setl    (%rbx)
        cmovz   %ecx, %eax
        cmovnz  (%rbx), %rdx
        cmovg   %si, %di
        stc
        clc
        cmc
        lahf
        sahf
        std
        cld
        /* string instructions (into buf, away from the data above) */
        lea     buf+512(%rip), %rdi
        lea     buf(%rip), %rsi
        mov     $16, %ecx
        rep movsb
        mov     $4, %ecx
        rep stosq
        lodsb
        scasb
        cmpsb
        mov     $4, %ecx
        lea     buf(%rip), %rsi
        lea     buf(%rip), %rdi
        repe cmpsb
        stosl
        movsq
        /* nops */
        nop
        xchg    %ax, %ax
        .byte   0x0f, 0x1f, 0x40, 0x00          /* nopl 0(%rax) */
        .byte   0x0f, 0x1f, 0x44, 0x00, 0x00    /* nopl 0(%rax,%rax,1) */
        .byte   0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00
        .byte   0x0f, 0x1f, 0x80, 0, 0, 0, 0
        .byte   0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0
        .byte   0xf3, 0x0f, 0x1e, 0xfa          /* endbr64 */
        pause
        lfence
        mfence
        sfence
        prefetcht0 (%rbx)
        prefetchnta 64(%rbx)
        /* control transfers: every condition, both ways */
        xor     %eax, %eax                      /* ZF=1 PF=1 CF=0 OF=0 SF=0 */
        jo      1f
        jno     1f
1:      jb      2f
        jae     2f
2:      je      3f
3:      jne     4f
        jbe     4f
4:      ja      5f
        js      5f
5:      jns     6f
6:      jp      7f
7:      jnp     8f
        jl      8f
8:      jge     9f
9:      jle     10f
10:     jg      11f
        jmp     11f
11:     mov     $2, %ecx
12:     loop    12b
        jrcxz   13f
13:     call    func
        lea     func(%rip), %rax
        call    *%rax
        lea     14f(%rip), %rax
        jmp     *%rax
14:     lea     table(%rip), %rax
        call    *(%rax)
        jmp     15f
        .fill   200, 1, 0x90                    /* so the next jump is rel32 */
15:     jmp     16f
        .fill   200, 1, 0x90
16:     call    framed
        /* SSE, SSE2, SSSE3, SSE4 */
        movdqa  vec(%rip), %xmm0
        movdqu  vec+16(%rip), %xmm1
        movaps  %xmm0, %xmm2
        movups  %xmm1, 32(%rbx)
        movq    %rax, %xmm3
        movq    %xmm3, %rcx
        movd    %eax, %xmm4
        movd    %xmm4, %edx
        movq    vec(%rip), %xmm5
        movsd   dbl(%rip), %xmm6
        movss   flt(%rip), %xmm7
        pxor    %xmm8, %xmm8
        paddd   %xmm0, %xmm1
        psubq   %xmm1, %xmm2
        pmullw  %xmm2, %xmm3
        pand    %xmm0, %xmm4
        por     %xmm1, %xmm5
        pshufd  $0x1b, %xmm0, %xmm9
        punpcklqdq %xmm1, %xmm0
        punpckhbw %xmm2, %xmm3
        pcmpeqb %xmm0, %xmm1
        pmovmskb %xmm1, %eax
        pminub  %xmm2, %xmm3
        psrldq  $4, %xmm4
        pslldq  $8, %xmm5
        psrlw   $3, %xmm6
        packuswb %xmm7, %xmm8
        pshufb  %xmm0, %xmm10
        palignr $3, %xmm1, %xmm11
        pinsrd  $1, %eax, %xmm12
        pextrd  $2, %xmm12, %ecx
        ptest   %xmm0, %xmm1
        pblendw $0x0f, %xmm2, %xmm13
        pmovzxbw %xmm0, %xmm14
        pcmpgtq %xmm1, %xmm15
        addsd   %xmm6, %xmm6
        mulsd   dbl(%rip), %xmm6
        divsd   %xmm6, %xmm6
        sqrtsd  %xmm6, %xmm0
        subss   %xmm7, %xmm7
        addps   %xmm1, %xmm2
        mulpd   %xmm3, %xmm4
        andpd   %xmm5, %xmm6
        xorps   %xmm7, %xmm7
        shufps  $0x44, %xmm1, %xmm2
        unpcklps %xmm3, %xmm4
        movhlps %xmm5, %xmm6
        cvtsi2sd %eax, %xmm0
        cvtsi2sdq %rcx, %xmm1
        cvttsd2si %xmm1, %edx
        cvtss2sd %xmm7, %xmm2
        cvtdq2ps %xmm3, %xmm4
        ucomisd %xmm0, %xmm1
        comiss  %xmm2, %xmm3
        maxsd   %xmm0, %xmm1
        roundsd $1, %xmm1, %xmm2
        stmxcsr 40(%rbx)
        ldmxcsr 40(%rbx)
        /* x87 */
        fninit
        fld1
        fldz
        fldpi
        fadd    %st(1), %st
        faddp
        fmul    %st(0), %st
        fxch    %st(1)
        fchs
        fabs
        fsqrt
        fldl    dbl(%rip)
        fcomip  %st(1), %st
        fucomi  %st(1), %st
        fstpl   48(%rbx)
        fildl   4(%rbx)
        fistpl  56(%rbx)
        flds    flt(%rip)
        fstps   60(%rbx)
        fnstsw  %ax
        fnstcw  64(%rbx)
        fldcw   64(%rbx)
        fwait
        fstp    %st(0)
        fninit
        /* TLS: %fs-relative loads after arch_prctl(ARCH_SET_FS, buf) */
        mov     $158, %eax
        mov     $0x1002, %edi
        lea     buf(%rip), %rsi
        syscall
        mov     %fs:8, %rax
        movl    $5, %fs:16
        mov     $24, %ecx
        mov     %fs:(%rcx), %edx
        rdtsc
        test    %r12, %r12
        cmp     $2, %r12
        jb      done
        call    extensions
done:   mov     $60, %eax                       /* exit(0) */
        xor     %edi, %edi
        syscall

func:   ret
framed: enter   $16, $0
        leave
        ret     $0

extensions:
        vmovdqu vec(%rip), %ymm0
        vmovdqa %ymm0, %ymm1
        vpaddd  %ymm0, %ymm1, %ymm2
        vpxor   %xmm3, %xmm3, %xmm3
        vpermq  $0x4e, %ymm2, %ymm4
        vpbroadcastd flt(%rip), %ymm5
        vbroadcastss flt(%rip), %xmm6
        vinserti128 $1, %xmm6, %ymm5, %ymm7
        vextracti128 $1, %ymm7, %xmm8
        vperm2i128 $0x21, %ymm1, %ymm2, %ymm9
        vpshufb %ymm0, %ymm1, %ymm10
        vpcmpeqd %ymm0, %ymm0, %ymm11
        vpmovmskb %ymm11, %eax
        vmovd   %eax, %xmm12
        vmovq   %xmm12, %rcx
        vaddps  %ymm0, %ymm1, %ymm2
        vmulsd  dbl(%rip), %xmm6, %xmm6
        vsqrtpd %ymm2, %ymm3
        vfmadd231ps %ymm0, %ymm1, %ymm2
        vfmadd132sd %xmm6, %xmm6, %xmm6
        vcvtph2ps %xmm0, %ymm4
        vcvtps2ph $0, %ymm4, %xmm5
        vmovdqu %ymm2, 64(%rbx)
        vzeroupper
        andn    %eax, %ecx, %edx
        blsr    %rdx, %rsi
        bextr   %eax, %ecx, %edi
        shlx    %rcx, %rax, %rdx
        rorx    $3, %eax, %ecx
        pdep    %rax, %rcx, %rdx
        movbe   (%rbx), %eax
        movbe   %ecx, 8(%rbx)
        adcx    %eax, %ecx
        adox    %rdx, %rsi
        ret

        .section .rodata
        .balign 32
vec:    .quad 0x0706050403020100, 0x0f0e0d0c0b0a0908, 0x1716151413121110, 0x1f1e1d1c1b1a1918
dbl:    .double 2.5
flt:    .float 1.5
table:  .quad func

        .bss
        .balign 64
pad:    .skip 64
buf:    .skip 1024
