/*
 * qtest_ctl: freestanding control-transfer and addressing checks.
 *
 * No libc: entry at _start, raw syscalls only. Linked -nostdlib -static
 * -no-pie, so absolute 32-bit addresses (jmp *table(,%rcx,8)) are valid.
 *
 * Every check is a function listed in the .data.tests table (QCHECK macro):
 * it returns 0 (ok), 1 (FAIL) or 2 (skip: the CPU or OS lacks the feature).
 * The driver prints one line per check, "ok N name" / "FAIL N name" /
 * "skip N name", a "# ..." summary, and exits with the number of failures
 * (capped at 255).
 *
 * Check functions follow the SysV ABI: they may clobber rax, rcx, rdx, rsi,
 * rdi, r8-r11, flags and vector registers; they preserve rbx, rbp, r12-r15
 * and return with DF clear.
 */

        .set SYS_write, 1
        .set SYS_getpid, 39
        .set SYS_arch_prctl, 158
        .set SYS_exit_group, 231
        .set ARCH_SET_FS, 0x1002
        .set ARCH_GET_FS, 0x1003
        .set AT_HWCAP2, 26
        .set STATUS_FLAGS, 0x8d5        /* CF PF AF ZF SF OF */
        .set STATUS_DF, 0xcd5           /* ... and DF */

/* QCHECK fn, name: append {fn, "name"} to the check table. */
        .macro QCHECK fn, name
        .pushsection .rodata.str, "a", @progbits
.Ltestname\@:
        .asciz "\name"
        .popsection
        .pushsection .data.tests, "aw", @progbits
        .quad \fn, .Ltestname\@
        .popsection
        .endm

        .macro RET_OK
        xor %eax, %eax
        ret
        .endm

        .macro RET_FAIL
        mov $1, %eax
        ret
        .endm

        .macro RET_SKIP
        mov $2, %eax
        ret
        .endm

/* Leaves ZF=1 iff the status flags (and DF) in the current RFLAGS equal
 * those of \expected. Clobbers %rdx. */
        .macro FLAGS_EQ expected
        pushfq
        pop %rdx
        and $STATUS_DF, %edx
        cmp $((\expected) & STATUS_DF), %edx
        .endm

        .pushsection .data.tests, "aw", @progbits
        .balign 8
tests_begin:
        .popsection

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */
        .text
        .globl _start
        .type _start, @function
_start:
        mov %rsp, %rbp
        /* argc at 0(%rsp), argv at 8(%rsp), envp after argv's NULL. */
        mov (%rbp), %rcx
        lea 16(%rbp,%rcx,8), %rsi
1:      mov (%rsi), %rax
        add $8, %rsi
        test %rax, %rax
        jnz 1b
        /* %rsi: auxv, pairs of (type, value) ending with AT_NULL. */
2:      mov (%rsi), %rax
        test %rax, %rax
        jz 4f
        cmp $AT_HWCAP2, %rax
        jne 3f
        mov 8(%rsi), %rdx
        mov %rdx, hwcap2(%rip)
        movb $1, have_hwcap2(%rip)
3:      add $16, %rsi
        jmp 2b
4:      and $-16, %rsp
        lea tests_begin(%rip), %rbx
        xor %r12d, %r12d                /* check number */
        xor %r13d, %r13d                /* failures */
        xor %r14d, %r14d                /* skips */
.Ldrive:
        lea tests_end(%rip), %rax
        cmp %rax, %rbx
        jae .Ldone
        inc %r12
        cld
        call *(%rbx)
        lea str_ok(%rip), %rdi
        test %eax, %eax
        jz .Lreport
        lea str_skip(%rip), %rdi
        inc %r14
        cmp $2, %eax
        je .Lreport
        dec %r14
        inc %r13
        lea str_fail(%rip), %rdi
.Lreport:
        call append_str
        mov %r12, %rdi
        call append_dec
        lea str_space(%rip), %rdi
        call append_str
        mov 8(%rbx), %rdi
        call append_str
        call flush_line
        add $16, %rbx
        jmp .Ldrive
.Ldone:
        lea str_sum1(%rip), %rdi        /* "# N checks, F failed, S skipped" */
        call append_str
        mov %r12, %rdi
        call append_dec
        lea str_sum2(%rip), %rdi
        call append_str
        mov %r13, %rdi
        call append_dec
        lea str_sum3(%rip), %rdi
        call append_str
        mov %r14, %rdi
        call append_dec
        lea str_sum4(%rip), %rdi
        call append_str
        call flush_line
        mov %r13, %rdi
        cmp $255, %rdi
        jbe 5f
        mov $255, %edi
5:      mov $SYS_exit_group, %eax
        syscall
        hlt
        .size _start, .-_start

/* append_str(rdi = NUL-terminated string) -> linebuf */
append_str:
        mov linepos(%rip), %rax
        lea linebuf(%rip), %rdx
1:      movzbl (%rdi), %ecx
        test %cl, %cl
        jz 2f
        cmp $250, %rax
        jae 2f
        mov %cl, (%rdx,%rax)
        inc %rax
        inc %rdi
        jmp 1b
2:      mov %rax, linepos(%rip)
        ret

/* append_dec(rdi = unsigned value) -> linebuf */
append_dec:
        lea numbuf_end(%rip), %rsi
        mov %rdi, %rax
        mov $10, %ecx
1:      xor %edx, %edx
        div %rcx
        add $'0', %dl
        dec %rsi
        mov %dl, (%rsi)
        test %rax, %rax
        jnz 1b
        mov %rsi, %rdi
        jmp append_str

/* flush_line: append '\n', write linebuf to fd 1, reset it. */
flush_line:
        mov linepos(%rip), %rdx
        lea linebuf(%rip), %rsi
        movb $10, (%rsi,%rdx)
        inc %rdx
        mov $1, %edi
        mov $SYS_write, %eax
        syscall
        movq $0, linepos(%rip)
        ret

/* ------------------------------------------------------------------ */
/* Feature probes (return eax = 1 if usable)                           */
/* ------------------------------------------------------------------ */
/* OSXSAVE and XCR0 & mask == mask, mask in %edi; returns eax = 1 if so. */
xcr0_has:
        push %rbx
        mov $1, %eax
        xor %ecx, %ecx
        cpuid
        pop %rbx
        bt $27, %ecx                    /* OSXSAVE */
        jnc 1f
        xor %ecx, %ecx
        xgetbv
        and %edi, %eax
        cmp %edi, %eax
        jne 1f
        mov $1, %eax
        ret
1:      xor %eax, %eax
        ret

have_avx:
        push %rbx
        mov $1, %eax
        xor %ecx, %ecx
        cpuid
        pop %rbx
        bt $28, %ecx                    /* AVX */
        jnc 1f
        mov $0x6, %edi                  /* XMM | YMM state */
        jmp xcr0_has
1:      xor %eax, %eax
        ret

/* cpuid leaf 7 subleaf 0 ebx bit \bit; eax = 1 if set (and leaf 7 exists) */
leaf7_ebx_bit:                          /* bit number in %edi */
        push %rbx
        xor %eax, %eax
        xor %ecx, %ecx
        cpuid
        cmp $7, %eax
        jb 1f
        mov $7, %eax
        xor %ecx, %ecx
        cpuid
        bt %edi, %ebx
        jnc 1f
        pop %rbx
        mov $1, %eax
        ret
1:      pop %rbx
        xor %eax, %eax
        ret

have_avx512f:
        mov $16, %edi                   /* AVX512F */
        call leaf7_ebx_bit
        test %eax, %eax
        jz 1f
        mov $0xe6, %edi                 /* XMM YMM opmask ZMM_Hi256 Hi16_ZMM */
        jmp xcr0_has
1:      ret

have_fsgsbase:
        mov $0, %edi                    /* FSGSBASE */
        call leaf7_ebx_bit
        test %eax, %eax
        jz 1f
        xor %eax, %eax
        cmpb $0, have_hwcap2(%rip)
        je 1f
        testq $2, hwcap2(%rip)          /* HWCAP2_FSGSBASE: kernel enabled it */
        setnz %al
1:      ret

/* ------------------------------------------------------------------ */
/* Unconditional jumps                                                 */
/* ------------------------------------------------------------------ */
t_jmp_rel8:
        mov $1, %eax
        {disp8} jmp 1f
        ret
1:      RET_OK
        QCHECK t_jmp_rel8, "jmp_rel8"

t_jmp_rel32:
        mov $1, %eax
        {disp32} jmp 1f
        ret
1:      RET_OK
        QCHECK t_jmp_rel32, "jmp_rel32"

t_jmp_rel32_far:
        mov $1, %eax
        jmp 1f
        ret
        .fill 1000, 1, 0xcc
1:      RET_OK
        QCHECK t_jmp_rel32_far, "jmp_rel32_far"

t_jmp_backward:
        mov $3, %ecx
        xor %eax, %eax
        jmp 2f
1:      add $10, %eax
        dec %ecx
2:      test %ecx, %ecx
        jnz 1b
        cmp $30, %eax
        jne 3f
        RET_OK
3:      RET_FAIL
        QCHECK t_jmp_backward, "jmp_backward_loop"

/* ------------------------------------------------------------------ */
/* All 16 jcc, rel8 and rel32, taken and not taken. The status flags   */
/* must survive the branch unchanged on both paths.                    */
/* ------------------------------------------------------------------ */
        .macro JCC cc, tflags, nflags, width
jcc_\cc\()_\width\()_taken:
        pushq $\tflags
        popfq
        {disp\width} j\cc 1f
        RET_FAIL
1:      FLAGS_EQ \tflags
        jne 2f
        RET_OK
2:      RET_FAIL
        QCHECK jcc_\cc\()_\width\()_taken, "j\cc\()_rel\width\()_taken"

jcc_\cc\()_\width\()_nottaken:
        pushq $\nflags
        popfq
        {disp\width} j\cc 1f
        FLAGS_EQ \nflags
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK jcc_\cc\()_\width\()_nottaken, "j\cc\()_rel\width\()_not_taken"
        .endm

        .macro JCC_BOTH cc, tflags, nflags
        JCC \cc, \tflags, \nflags, 8
        JCC \cc, \tflags, \nflags, 32
        .endm

        /* bit 1 is always 1; CF=0x1 PF=0x4 AF=0x10 ZF=0x40 SF=0x80 OF=0x800 */
        JCC_BOTH o,  0x802, 0x2
        JCC_BOTH no, 0x2,   0x802
        JCC_BOTH b,  0x3,   0x2
        JCC_BOTH ae, 0x42,  0x3
        JCC_BOTH e,  0x42,  0x2
        JCC_BOTH ne, 0x883, 0x42
        JCC_BOTH be, 0x3,   0x2
        JCC_BOTH a,  0x2,   0x42
        JCC_BOTH s,  0x82,  0x2
        JCC_BOTH ns, 0x2,   0x82
        JCC_BOTH p,  0x6,   0x2
        JCC_BOTH np, 0x2,   0x6
        JCC_BOTH l,  0x82,  0x882
        JCC_BOTH ge, 0x882, 0x802
        JCC_BOTH le, 0x802, 0x2
        JCC_BOTH g,  0x2,   0x42

/* ------------------------------------------------------------------ */
/* jrcxz / jecxz / loop / loope / loopne                               */
/* ------------------------------------------------------------------ */
t_jrcxz_taken:
        xor %ecx, %ecx
        jrcxz 1f
        RET_FAIL
1:      RET_OK
        QCHECK t_jrcxz_taken, "jrcxz_taken"

t_jrcxz_nottaken:
        mov $0x100000000, %rcx          /* ecx == 0 but rcx != 0 */
        jrcxz 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_jrcxz_nottaken, "jrcxz_not_taken"

t_jecxz_taken:
        mov $0x100000000, %rcx          /* only ecx is tested */
        jecxz 1f
        RET_FAIL
1:      RET_OK
        QCHECK t_jecxz_taken, "jecxz_taken"

t_jecxz_nottaken:
        mov $1, %ecx
        jecxz 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_jecxz_nottaken, "jecxz_not_taken"

t_loop:
        mov $5, %ecx
        xor %eax, %eax
1:      inc %eax
        loop 1b
        cmp $5, %eax
        jne 2f
        test %rcx, %rcx
        jnz 2f
        RET_OK
2:      RET_FAIL
        QCHECK t_loop, "loop"

t_loop_addr32:
        mov $0x100000003, %rcx          /* addr32 loop counts in ecx */
        xor %eax, %eax
1:      inc %eax
        addr32 loop 1b
        cmp $3, %eax
        jne 2f
        RET_OK
2:      RET_FAIL
        QCHECK t_loop_addr32, "loop_addr32_ecx"

t_loope:
        mov $10, %ecx
        xor %edx, %edx
1:      inc %rdx
        cmp $4, %rdx                    /* CF=1 while rdx < 4 */
        sbb %eax, %eax                  /* -1 while rdx < 4, then 0 */
        cmp $-1, %eax                   /* ZF=1 while rdx < 4 */
        loope 1b
        cmp $4, %rdx
        jne 3f
        cmp $6, %rcx
        jne 3f
        /* terminates on count when ZF stays 1 */
        mov $3, %ecx
        xor %edx, %edx
2:      inc %edx
        cmp %eax, %eax
        loope 2b
        cmp $3, %edx
        jne 3f
        test %rcx, %rcx
        jnz 3f
        RET_OK
3:      RET_FAIL
        QCHECK t_loope, "loope"

t_loopne:
        mov $10, %ecx
        xor %edx, %edx
1:      inc %rdx
        cmp $4, %rdx                    /* ZF=1 when rdx == 4 */
        loopne 1b
        cmp $4, %rdx
        jne 3f
        cmp $6, %rcx
        jne 3f
        mov $3, %ecx
        xor %edx, %edx
2:      inc %edx
        cmp $100, %edx                  /* ZF stays 0 */
        loopne 2b
        cmp $3, %edx
        jne 3f
        test %rcx, %rcx
        jnz 3f
        RET_OK
3:      RET_FAIL
        QCHECK t_loopne, "loopne"

/* loop, jrcxz and jecxz do not touch the flags. */
t_loop_flags:
        mov $3, %ecx
        pushq $0x8d7
        popfq
1:      loop 1b
        FLAGS_EQ 0x8d7
        jne 3f
        pushq $0x2
        popfq
        mov $2, %ecx
2:      loop 2b
        jrcxz 4f
3:      RET_FAIL
4:      FLAGS_EQ 0x2
        jne 3b
        pushq $0x8d7
        popfq
        mov $1, %ecx
        jecxz 3b                        /* not taken */
        FLAGS_EQ 0x8d7
        jne 3b
        RET_OK
        QCHECK t_loop_flags, "loop_jrcxz_preserve_flags"

/* ------------------------------------------------------------------ */
/* Calls and indirect transfers                                        */
/* ------------------------------------------------------------------ */
/* Callees: return their own return address in rax and an id in edx. */
ident0: mov $100, %edx
        mov (%rsp), %rax
        ret
ident1: mov $101, %edx
        mov (%rsp), %rax
        ret
ident2: mov $102, %edx
        mov (%rsp), %rax
        ret
ident3: mov $103, %edx
        mov (%rsp), %rax
        ret

/* EXPECT_CALL label, id: after a call returning to \label, check that the
 * callee saw \label as its return address and was callee number \id. */
        .macro EXPECT_CALL label, id
        lea \label(%rip), %rcx
        cmp %rcx, %rax
        jne 9f
        cmp $\id, %edx
        jne 9f
        RET_OK
9:      RET_FAIL
        .endm

t_call_rel32:
        call ident0
1:      EXPECT_CALL 1b, 100
        QCHECK t_call_rel32, "call_rel32_pushes_guest_address"

t_call_reg:
        lea ident1(%rip), %rcx
        call *%rcx
1:      EXPECT_CALL 1b, 101
        QCHECK t_call_reg, "call_reg"

t_call_reg_r11:
        lea ident2(%rip), %r11
        call *%r11
1:      EXPECT_CALL 1b, 102
        QCHECK t_call_reg_r11, "call_reg_r11"

t_call_mem_reg:
        lea fptr_tab(%rip), %rsi
        call *(%rsi)
1:      EXPECT_CALL 1b, 100
        QCHECK t_call_mem_reg, "call_mem_[reg]"

t_call_mem_sib:
        lea fptr_tab(%rip), %rsi
        mov $2, %ecx
        call *8(%rsi,%rcx,8)
1:      EXPECT_CALL 1b, 103
        QCHECK t_call_mem_sib, "call_mem_[reg+idx*8+disp]"

t_call_mem_abs_idx:
        mov $1, %ecx
        call *fptr_tab(,%rcx,8)
1:      EXPECT_CALL 1b, 101
        QCHECK t_call_mem_abs_idx, "call_mem_[disp32+idx*8]"

t_call_riprel:
        call *fptr_ident2(%rip)
1:      EXPECT_CALL 1b, 102
        QCHECK t_call_riprel, "call_[rip+x]"

t_jmp_reg:
        lea 1f(%rip), %rcx
        jmp *%rcx
        RET_FAIL
1:      RET_OK
        QCHECK t_jmp_reg, "jmp_reg"

t_jmp_reg_r9:
        lea 1f(%rip), %r9
        jmp *%r9
        RET_FAIL
1:      RET_OK
        QCHECK t_jmp_reg_r9, "jmp_reg_r9"

t_jmp_mem_reg:
        lea jmp_targets(%rip), %rsi
        jmp *(%rsi)
        RET_FAIL
        QCHECK t_jmp_mem_reg, "jmp_mem_[reg]"
.Ljt_target0:
        RET_OK

t_jmp_mem_sib:
        lea jmp_targets(%rip), %rsi
        mov $0, %ecx
        jmp *8(%rsi,%rcx,8)
        RET_FAIL
        QCHECK t_jmp_mem_sib, "jmp_mem_[reg+idx*8+disp]"
.Ljt_target1:
        RET_OK

t_jmp_riprel:
        jmp *jmp_target2(%rip)
        RET_FAIL
        QCHECK t_jmp_riprel, "jmp_[rip+x]"
.Ljt_target2:
        RET_OK

/* push + ret used as an indirect jump */
t_push_ret:
        lea 1f(%rip), %rax
        push %rax
        ret
        RET_FAIL
1:      RET_OK
        QCHECK t_push_ret, "push_ret_as_jump"

/* callee rewrites its return address: ret must go to the new one */
t_ret_modified:
        call 2f
        RET_FAIL
1:      RET_OK
2:      lea 1b(%rip), %rax
        mov %rax, (%rsp)
        ret
        QCHECK t_ret_modified, "ret_to_modified_address"

/* PIC jump table: rodata offsets relative to the table */
t_jumptab_pic:
        xor %r8d, %r8d
        xor %ecx, %ecx
.Lpic_loop:
        mov %ecx, %eax
        and $3, %eax                    /* 0,1,2,3,0,1,2,3 then 4 */
        cmp $8, %ecx
        jb 1f
        mov $4, %eax
1:      lea .Lpic_table(%rip), %rdx
        movslq (%rdx,%rax,4), %rax
        add %rdx, %rax
        jmp *%rax
.Lpic_c0: add $1, %r8
        jmp .Lpic_next
.Lpic_c1: add $10, %r8
        jmp .Lpic_next
.Lpic_c2: add $100, %r8
        jmp .Lpic_next
.Lpic_c3: add $1000, %r8
        jmp .Lpic_next
.Lpic_c4: add $10000, %r8
.Lpic_next:
        inc %ecx
        cmp $9, %ecx
        jb .Lpic_loop
        cmp $12222, %r8
        jne 2f
        RET_OK
2:      RET_FAIL
        .pushsection .rodata, "a", @progbits
        .balign 4
.Lpic_table:
        .long .Lpic_c0-.Lpic_table, .Lpic_c1-.Lpic_table, .Lpic_c2-.Lpic_table
        .long .Lpic_c3-.Lpic_table, .Lpic_c4-.Lpic_table
        .popsection
        QCHECK t_jumptab_pic, "jump_table_pic"

/* non-PIC jump table: jmp *table(,%rcx,8) */
t_jumptab_abs:
        xor %r8d, %r8d
        mov $4, %ecx
.Labs_loop:
        jmp *.Labs_table(,%rcx,8)
.Labs_c0: add $1, %r8
        jmp .Labs_next
.Labs_c1: add $20, %r8
        jmp .Labs_next
.Labs_c2: add $300, %r8
        jmp .Labs_next
.Labs_c3: add $4000, %r8
        jmp .Labs_next
.Labs_c4: add $50000, %r8
.Labs_next:
        dec %ecx
        jns .Labs_loop
        cmp $54321, %r8
        jne 2f
        RET_OK
2:      RET_FAIL
        .pushsection .rodata, "a", @progbits
        .balign 8
.Labs_table:
        .quad .Labs_c0, .Labs_c1, .Labs_c2, .Labs_c3, .Labs_c4
        .popsection
        QCHECK t_jumptab_abs, "jump_table_abs"

/* ret imm16 pops its arguments */
t_ret_imm16:
        mov %rsp, %r8
        pushq $0x11
        pushq $0x22
        call .Lret16
        cmp %rsp, %r8
        jne 1f
        ret                             /* eax from callee */
1:      RET_FAIL
.Lret16:
        mov $1, %eax
        cmpq $0x22, 8(%rsp)
        jne 2f
        cmpq $0x11, 16(%rsp)
        jne 2f
        xor %eax, %eax
2:      ret $16
        QCHECK t_ret_imm16, "ret_imm16"

/* call to the next instruction + pop reads the guest's own address */
t_call_next_pop:
        call 1f
1:      pop %rax
        lea 1b(%rip), %rdx
        cmp %rax, %rdx
        jne 2f
        RET_OK
2:      RET_FAIL
        QCHECK t_call_next_pop, "call_next_pop_own_address"

/* sum(n) = n + sum(n-1), recursively */
rec_sum:
        test %rdi, %rdi
        jz 1f
        push %rdi
        dec %rdi
        call rec_sum
        pop %rdi
        add %rdi, %rax
        ret
1:      xor %eax, %eax
        ret

t_recursion_1000:
        mov $1000, %edi
        call rec_sum
        cmp $500500, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_recursion_1000, "recursion_1000"

t_recursion_100000:
        mov $100000, %edi
        call rec_sum
        mov $5000050000, %rdx
        cmp %rdx, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_recursion_100000, "recursion_100000"

/* ------------------------------------------------------------------ */
/* Flags across branches and call/ret                                  */
/* ------------------------------------------------------------------ */
flags_nop_callee:
        ret

        /* FLAGS_ACROSS pattern: set all status flags (and DF) to \pattern
         * and check them after each kind of transfer. */
        .macro FLAGS_ACROSS pattern
        pushq $\pattern
        popfq
        jmp 1f
1:      FLAGS_EQ \pattern
        jne 9f
        pushq $\pattern
        popfq
        {disp32} jmp 2f
2:      FLAGS_EQ \pattern
        jne 9f
        pushq $\pattern
        popfq
        jo 3f                           /* taken if OF in pattern */
3:      FLAGS_EQ \pattern
        jne 9f
        pushq $\pattern
        popfq
        jno 4f                          /* the other one */
4:      FLAGS_EQ \pattern
        jne 9f
        pushq $\pattern
        popfq
        call flags_nop_callee
        FLAGS_EQ \pattern
        jne 9f
        lea flags_nop_callee(%rip), %rax
        pushq $\pattern
        popfq
        call *%rax
        FLAGS_EQ \pattern
        jne 9f
        lea 5f(%rip), %rax
        pushq $\pattern
        popfq
        jmp *%rax
5:      FLAGS_EQ \pattern
        jne 9f
        lea fptr_tab(%rip), %rsi
        pushq $\pattern
        popfq
        call *(%rsi)
        FLAGS_EQ \pattern
        jne 9f
        .endm

t_flags_all_set:
        FLAGS_ACROSS 0xcd7
        cld
        RET_OK
9:      cld
        RET_FAIL
        QCHECK t_flags_all_set, "flags_preserved_all_set"

t_flags_all_clear:
        FLAGS_ACROSS 0x2
        RET_OK
9:      RET_FAIL
        QCHECK t_flags_all_clear, "flags_preserved_all_clear"

t_flags_mixed:
        FLAGS_ACROSS 0x8c3
        RET_OK
9:      RET_FAIL
        QCHECK t_flags_mixed, "flags_preserved_mixed"

/* pushf before a call equals pushf inside the callee and after ret */
t_flags_call_ret:
        pushq $0x857
        popfq
        pushfq
        pop %r8
        call .Lfcr_callee
        pushfq
        pop %r10
        cmp %r8, %r9
        jne 1f
        cmp %r8, %r10
        jne 1f
        RET_OK
1:      RET_FAIL
.Lfcr_callee:
        pushfq
        pop %r9
        ret
        QCHECK t_flags_call_ret, "flags_pushf_across_call_ret"

/* ------------------------------------------------------------------ */
/* RIP-relative addressing                                             */
/* ------------------------------------------------------------------ */
t_rip_load:
        movb rd8(%rip), %al
        cmp $0xf1, %al
        jne 1f
        movw rd16(%rip), %ax
        cmp $0xddee, %ax
        jne 1f
        movl rd32(%rip), %eax
        cmp $0x99aabbcc, %eax
        jne 1f
        movq rd64(%rip), %rax
        mov $0x1122334455667788, %rdx
        cmp %rdx, %rax
        jne 1f
        movq rd64(%rip), %r9
        cmp %rdx, %r9
        jne 1f
        movzbl rd8(%rip), %r10d
        cmp $0xf1, %r10d
        jne 1f
        movsbq rd8(%rip), %r11
        cmp $-15, %r11
        jne 1f
        movzwl rd16(%rip), %eax
        cmp $0xddee, %eax
        jne 1f
        movslq rd32(%rip), %rax
        mov $0xffffffff99aabbcc, %rdx
        cmp %rdx, %rax
        jne 1f
        mov $0x55, %eax
        cmpb rd8(%rip), %al             /* reg, mem compare */
        je 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_load, "riprel_load_8_16_32_64"

t_rip_store:
        lea wr8(%rip), %rsi
        mov $0x5a, %al
        movb %al, wr8(%rip)
        cmpb $0x5a, (%rsi)
        jne 1f
        mov $0x1234, %ax
        movw %ax, wr16(%rip)
        cmpw $0x1234, wr16-wr8(%rsi)
        jne 1f
        mov $0x89abcdef, %eax
        movl %eax, wr32(%rip)
        cmpl $0x89abcdef, wr32-wr8(%rsi)
        jne 1f
        mov $0x0102030405060708, %r9
        movq %r9, wr64(%rip)
        cmp wr64-wr8(%rsi), %r9
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_store, "riprel_store_8_16_32_64"

t_rip_lea:
        lea rd64(%rip), %rax
        mov $rd64, %edx                 /* absolute: non-PIE */
        cmp %rdx, %rax
        jne 1f
        lea rd64+24(%rip), %r10
        lea 24(%rdx), %rdx
        cmp %rdx, %r10
        jne 1f
        lea t_rip_lea(%rip), %rax
        mov $t_rip_lea, %edx
        cmp %rdx, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_lea, "riprel_lea"

t_rip_rmw:
        movq $10, rmw64(%rip)
        mov $5, %eax
        add %rax, rmw64(%rip)
        xadd %rax, rmw64(%rip)          /* rax = 15, mem = 20 */
        cmp $15, %rax
        jne 1f
        mov $7, %eax
        lock xadd %rax, rmw64(%rip)     /* rax = 20, mem = 27 */
        cmp $20, %rax
        jne 1f
        mov $27, %eax
        mov $99, %edx
        lock cmpxchg %rdx, rmw64(%rip)  /* mem = 99 */
        jne 1f
        mov $3, %eax
        xchg %rax, rmw64(%rip)          /* rax = 99, mem = 3 */
        cmp $99, %rax
        jne 1f
        incq rmw64(%rip)
        negq rmw64(%rip)
        cmpq $-4, rmw64(%rip)
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_rmw, "riprel_read_modify_write"

/* RIP-relative operands followed by an immediate: the displacement is
 * not the last field of the instruction. */
t_rip_imm:
        movl $5, imm32v(%rip)           /* C7 05 disp32 imm32 */
        cmpl $5, imm32v(%rip)           /* 83 3D disp32 imm8 */
        jne 1f
        cmpl $0x12345, imm32v(%rip)     /* 81 3D disp32 imm32 */
        je 1f
        movq $1, imm64v(%rip)
        addq $1, imm64v(%rip)
        cmpq $2, imm64v(%rip)
        jne 1f
        addq $0x12345, imm64v(%rip)
        mov imm64v(%rip), %rax
        cmp $0x12347, %rax
        jne 1f
        movq $-2, imm64v(%rip)
        mov imm64v(%rip), %rax
        cmp $-2, %rax
        jne 1f
        movb $7, imm8v(%rip)            /* C6 05 disp32 imm8 */
        cmpb $7, imm8v(%rip)
        jne 1f
        movzbl imm8v(%rip), %eax
        cmp $7, %eax
        jne 1f
        movw $0x1234, imm16v(%rip)      /* 66 C7 05 disp32 imm16 */
        cmpw $0x1234, imm16v(%rip)
        jne 1f
        movzwl imm16v(%rip), %eax
        cmp $0x1234, %eax
        jne 1f
        movb $0x80, imm8v(%rip)
        testb $0x80, imm8v(%rip)
        jz 1f
        movq $1, imm64v(%rip)
        shlq $3, imm64v(%rip)           /* C1 /4 ib */
        btsq $5, imm64v(%rip)           /* 0F BA /5 ib */
        cmpq $40, imm64v(%rip)
        jne 1f
        movl $7, imm32v(%rip)
        imul $1000, imm32v(%rip), %eax  /* 69 /r id */
        cmp $7000, %eax
        jne 1f
        imul $3, imm32v(%rip), %r8d     /* 6B /r ib */
        cmp $21, %r8d
        jne 1f
        movl $0x12345678, imm32v(%rip)
        andl $0xffff0000, imm32v(%rip)
        cmpl $0x12340000, imm32v(%rip)
        jne 1f
        movq $0, imm64v(%rip)
        lock addq $100, imm64v(%rip)
        cmpq $100, imm64v(%rip)
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_imm, "riprel_with_immediate"

t_rip_sse:
        movdqu xsrc(%rip), %xmm0
        movaps %xmm0, xdst(%rip)
        mov xdst(%rip), %rax
        cmp xsrc(%rip), %rax
        jne 1f
        mov xdst+8(%rip), %rax
        cmp xsrc+8(%rip), %rax
        jne 1f
        movaps xsrc(%rip), %xmm9
        movdqu %xmm9, xdst2(%rip)
        movdqu xdst2(%rip), %xmm10
        pcmpeqb xsrc(%rip), %xmm10
        pmovmskb %xmm10, %eax
        cmp $0xffff, %eax
        jne 1f
        pshufd $0x1b, xsrc(%rip), %xmm2 /* imm8 after the displacement */
        movdqu %xmm2, xdst2(%rip)
        mov xsrc(%rip), %eax
        cmp xdst2+12(%rip), %eax
        jne 1f
        mov xsrc+12(%rip), %eax
        cmp xdst2(%rip), %eax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rip_sse, "riprel_sse_movdqu_movaps"

t_rip_avx:
        call have_avx
        test %eax, %eax
        jnz 2f
        RET_SKIP
2:      vmovdqu ysrc(%rip), %ymm0
        vmovdqu %ymm0, ydst(%rip)
        xor %ecx, %ecx
3:      mov ysrc(,%rcx,8), %rax
        cmp ydst(,%rcx,8), %rax
        jne 1f
        inc %ecx
        cmp $4, %ecx
        jb 3b
        vmovdqu ysrc(%rip), %ymm12
        vxorps ydst(%rip), %ymm12, %ymm13
        vptest %ymm13, %ymm13
        jnz 1f
        vpermilps $0x1b, ysrc(%rip), %ymm1      /* VEX + imm8 after disp */
        vmovdqu %ymm1, ydst(%rip)
        mov ysrc(%rip), %eax
        cmp ydst+12(%rip), %eax
        jne 1f
        mov ysrc+16(%rip), %eax
        cmp ydst+28(%rip), %eax
        jne 1f
        vzeroupper
        RET_OK
1:      vzeroupper
        RET_FAIL
        QCHECK t_rip_avx, "riprel_avx_vmovdqu_ymm"

t_rip_avx512:
        call have_avx512f
        test %eax, %eax
        jnz 2f
        RET_SKIP
2:      vmovdqu64 zsrc(%rip), %zmm1
        vmovdqu64 %zmm1, zdst(%rip)
        xor %ecx, %ecx
3:      mov zsrc(,%rcx,8), %rax
        cmp zdst(,%rcx,8), %rax
        jne 1f
        inc %ecx
        cmp $8, %ecx
        jb 3b
        vmovdqu64 zsrc(%rip), %zmm17            /* EVEX.R' */
        vpcmpeqq zdst(%rip), %zmm17, %k1
        kmovw %k1, %eax
        cmp $0xff, %eax
        jne 1f
        vpcmpq $4, zdst(%rip), %zmm17, %k2      /* NEQ, imm8 after disp */
        kmovw %k2, %eax
        test %eax, %eax
        jnz 1f
        vpshufd $0x1b, zsrc(%rip), %zmm3        /* EVEX + imm8 after disp */
        vmovdqu64 %zmm3, zdst(%rip)
        mov zsrc+48(%rip), %eax
        cmp zdst+60(%rip), %eax
        jne 1f
        vpxorq %zmm4, %zmm4, %zmm4
        vpaddq bcst_one(%rip){1to8}, %zmm4, %zmm4 /* EVEX broadcast */
        vmovdqu64 %zmm4, zdst(%rip)
        cmpq $1, zdst+56(%rip)
        jne 1f
        vzeroupper
        RET_OK
1:      vzeroupper
        RET_FAIL
        QCHECK t_rip_avx512, "riprel_avx512_vmovdqu64_zmm"

/* ------------------------------------------------------------------ */
/* FS segment                                                          */
/* ------------------------------------------------------------------ */
t_fs_set:
        mov $SYS_arch_prctl, %eax
        mov $ARCH_SET_FS, %edi
        lea fsbuf(%rip), %rsi
        syscall
        test %rax, %rax
        jnz 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_set, "arch_prctl_set_fs"

t_fs_store0:
        mov $0x0123456789abcdef, %rax
        mov %rax, %fs:0
        cmp fsbuf(%rip), %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_store0, "fs_store_fs:0"

t_fs_load8:
        movq $0x55aa, fsbuf+8(%rip)
        mov %fs:8, %rdx
        cmp $0x55aa, %rdx
        jne 1f
        movl %fs:8, %eax
        cmp $0x55aa, %eax
        jne 1f
        movabs %fs:8, %rax              /* moffs64 form */
        cmp $0x55aa, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_load8, "fs_load_fs:8"

t_fs_selfptr:
        lea fsbuf(%rip), %rax
        mov %rax, fsbuf+16(%rip)        /* like the TCB self pointer */
        mov %fs:16, %rdx
        cmp %rax, %rdx
        jne 1f
        movq $77, fsbuf+24(%rip)
        mov $24, %ecx
        mov %fs:(%rcx), %rax            /* base register */
        cmp $77, %rax
        jne 1f
        mov $2, %ecx
        mov %fs:8(,%rcx,8), %rax        /* index only */
        cmp $77, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_selfptr, "fs_selfptr_and_indexed"

t_fs_imm:
        movq $5, fsbuf+24(%rip)
        addl $1, %fs:24
        cmpq $6, %fs:24
        jne 1f
        movb $9, %fs:32
        cmpb $9, fsbuf+32(%rip)
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_imm, "fs_with_immediate"

t_fs_get:
        movq $0, fsget(%rip)
        mov $SYS_arch_prctl, %eax
        mov $ARCH_GET_FS, %edi
        lea fsget(%rip), %rsi
        syscall
        test %rax, %rax
        jnz 1f
        lea fsbuf(%rip), %rax
        cmp fsget(%rip), %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_fs_get, "arch_prctl_get_fs"

t_rdfsbase:
        call have_fsgsbase
        test %eax, %eax
        jnz 2f
        RET_SKIP
2:      rdfsbase %rax
        lea fsbuf(%rip), %rdx
        cmp %rdx, %rax
        jne 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_rdfsbase, "rdfsbase"

t_wrfsbase:
        call have_fsgsbase
        test %eax, %eax
        jnz 2f
        RET_SKIP
2:      lea fsbuf2(%rip), %rax
        wrfsbase %rax
        mov %fs:0, %rdx
        cmp fsbuf2(%rip), %rdx
        jne 1f
        movq $0, fsget(%rip)
        mov $SYS_arch_prctl, %eax
        mov $ARCH_GET_FS, %edi
        lea fsget(%rip), %rsi
        syscall
        lea fsbuf2(%rip), %rax
        cmp fsget(%rip), %rax
        jne 1f
        lea fsbuf(%rip), %rax
        wrfsbase %rax
        mov %fs:16, %rdx
        cmp %rax, %rdx
        jne 1f
        RET_OK
1:      lea fsbuf(%rip), %rax
        wrfsbase %rax
        RET_FAIL
        QCHECK t_wrfsbase, "wrfsbase"

/* ------------------------------------------------------------------ */
/* syscall, cpuid, rdtsc                                               */
/* ------------------------------------------------------------------ */
/* syscall clobbers only rax, rcx, r11 */
t_syscall_regs:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, %r15
        mov $0x1001, %ebx
        mov $0x1002, %ebp
        mov $0x1003, %edx
        mov $0x1004, %esi
        mov $0x1005, %edi
        mov $0x1006, %r8d
        mov $0x1007, %r9d
        mov $0x1008, %r10d
        mov $0x1009, %r12d
        mov $0x100a, %r13d
        mov $0x100b, %r14d
        mov $SYS_getpid, %eax
        syscall
        test %rax, %rax
        jle 1f
        cmp %rsp, %r15
        jne 1f
        cmp $0x1001, %rbx
        jne 1f
        cmp $0x1002, %rbp
        jne 1f
        cmp $0x1003, %rdx
        jne 1f
        cmp $0x1004, %rsi
        jne 1f
        cmp $0x1005, %rdi
        jne 1f
        cmp $0x1006, %r8
        jne 1f
        cmp $0x1007, %r9
        jne 1f
        cmp $0x1008, %r10
        jne 1f
        cmp $0x1009, %r12
        jne 1f
        cmp $0x100a, %r13
        jne 1f
        cmp $0x100b, %r14
        jne 1f
        xor %eax, %eax
        jmp 2f
1:      mov $1, %eax
2:      pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret
        QCHECK t_syscall_regs, "syscall_preserves_registers"

/* The kernel returns with rcx = address after the syscall instruction and
 * r11 = rflags: a translator must not leak code-cache addresses here.
 * (qemu-x86_64 leaves rcx/r11 unchanged and fails this check.) */
t_syscall_rcx_r11:
        pushq $0x8c3
        popfq
        lea 1f(%rip), %rdx
        mov $SYS_getpid, %eax
        syscall
1:      cmp %rcx, %rdx
        jne 2f
        and $STATUS_DF, %r11d
        cmp $(0x8c3 & STATUS_DF), %r11d
        jne 2f
        RET_OK
2:      RET_FAIL
        QCHECK t_syscall_rcx_r11, "syscall_sets_rcx_r11"

t_cpuid:
        push %rbx
        xor %eax, %eax
        xor %ecx, %ecx
        cpuid
        mov %ebx, %r8d
        pop %rbx
        cmp $1, %eax                    /* max basic leaf */
        jb 1f
        test %r8d, %r8d                 /* vendor string */
        jz 1f
        RET_OK
1:      RET_FAIL
        QCHECK t_cpuid, "cpuid"

t_rdtsc:
        rdtsc
        shl $32, %rdx
        or %rax, %rdx
        mov %rdx, %r8
        mov $1000, %ecx
1:      loop 1b
        rdtsc
        shl $32, %rdx
        or %rax, %rdx
        cmp %r8, %rdx
        jb 2f
        RET_OK
2:      RET_FAIL
        QCHECK t_rdtsc, "rdtsc"

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */
        .section .rodata, "a", @progbits
str_ok:     .asciz "ok "
str_fail:   .asciz "FAIL "
str_skip:   .asciz "skip "
str_space:  .asciz " "
str_sum1:   .asciz "# "
str_sum2:   .asciz " checks, "
str_sum3:   .asciz " failed, "
str_sum4:   .asciz " skipped"

        .balign 64
xsrc:   .quad 0x0706050403020100, 0x0f0e0d0c0b0a0908
        .balign 64
ysrc:   .quad 0x1716151413121110, 0x1f1e1d1c1b1a1918
        .quad 0x2726252423222120, 0x2f2e2d2c2b2a2928
        .balign 64
zsrc:   .quad 0x3736353433323130, 0x3f3e3d3c3b3a3938
        .quad 0x4746454443424140, 0x4f4e4d4c4b4a4948
        .quad 0x5756555453525150, 0x5f5e5d5c5b5a5958
        .quad 0x6766656463626160, 0x6f6e6d6c6b6a6968
bcst_one: .quad 1
rd64:   .quad 0x1122334455667788
rd32:   .long 0x99aabbcc
rd16:   .word 0xddee
rd8:    .byte 0xf1

        .data
        .balign 8
fptr_tab:     .quad ident0, ident1, ident2, ident3
fptr_ident2:  .quad ident2
jmp_targets:  .quad .Ljt_target0, .Ljt_target1
jmp_target2:  .quad .Ljt_target2
hwcap2:       .quad 0
have_hwcap2:  .byte 0
        .balign 8
wr64:   .quad 0
wr32:   .long 0
wr16:   .word 0
wr8:    .byte 0
        .balign 8
rmw64:  .quad 0
imm64v: .quad 0
imm32v: .long 0
imm16v: .word 0
imm8v:  .byte 0
        .balign 64
xdst:   .fill 16, 1, 0
        .balign 64
xdst2:  .fill 16, 1, 0
        .balign 64
ydst:   .fill 32, 1, 0
        .balign 64
zdst:   .fill 64, 1, 0
        .balign 64
fsbuf:  .fill 64, 1, 0
fsbuf2: .quad 0xfeedfacecafebeef
        .fill 56, 1, 0
fsget:  .quad 0
linepos: .quad 0
linebuf: .fill 256, 1, 0
numbuf:  .fill 24, 1, 0
numbuf_end: .byte 0

        .pushsection .data.tests, "aw", @progbits
tests_end:
        .popsection

        .section .note.GNU-stack, "", @progbits
