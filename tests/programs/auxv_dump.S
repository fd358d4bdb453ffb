/*
 * qtest_auxv: freestanding dump of the initial process stack.
 *
 * Prints argc, every argv string, the number of environment variables,
 * which auxv entries are present, and a few values that do not vary from
 * run to run (AT_PAGESZ, AT_ENTRY == _start, AT_EXECFN string, a PT_LOAD
 * in the AT_PHDR table, initial stack alignment). Exits 0.
 */
        .set SYS_write, 1
        .set SYS_exit_group, 231
        .set AT_PHDR, 3
        .set AT_PHENT, 4
        .set AT_PHNUM, 5
        .set AT_PAGESZ, 6
        .set AT_ENTRY, 9
        .set AT_RANDOM, 25
        .set AT_EXECFN, 31
        .set AT_SYSINFO_EHDR, 33

        .text
        .globl _start
        .type _start, @function
_start:
        mov %rsp, %rbp                  /* rbp: initial stack, kept */
        mov %rsp, %rax
        and $15, %eax
        mov %rax, initial_misalign(%rip)
        and $-16, %rsp

        /* argc=N */
        lea s_argc(%rip), %rdi
        call append_str
        mov (%rbp), %rdi
        call append_dec
        call flush_line

        /* argv[i]=... */
        xor %r12d, %r12d
1:      cmp (%rbp), %r12
        jae 2f
        lea s_argv(%rip), %rdi
        call append_str
        mov %r12, %rdi
        call append_dec
        lea s_close_eq(%rip), %rdi
        call append_str
        mov 8(%rbp,%r12,8), %rdi
        call append_str
        call flush_line
        inc %r12
        jmp 1b
2:      /* argv[argc] must be NULL */
        lea s_argv_null(%rip), %rdi
        call append_str
        mov 8(%rbp,%r12,8), %rax
        test %rax, %rax
        call print_yesno
        call flush_line

        /* envc=N */
        lea 16(%rbp,%r12,8), %r13       /* envp */
        xor %r14d, %r14d
3:      cmpq $0, (%r13,%r14,8)
        je 4f
        inc %r14
        jmp 3b
4:      lea s_envc(%rip), %rdi
        call append_str
        mov %r14, %rdi
        call append_dec
        call flush_line

        /* auxv */
        lea 8(%r13,%r14,8), %r15
5:      mov (%r15), %rax
        test %rax, %rax
        jz 7f
        cmp $64, %rax
        jae 6f
        mov 8(%r15), %rdx
        lea auxv_val(%rip), %rcx
        mov %rdx, (%rcx,%rax,8)
        lea auxv_seen(%rip), %rcx
        movb $1, (%rcx,%rax)
6:      add $16, %r15
        jmp 5b
7:
        mov $AT_PHDR, %edi
        lea s_at_phdr(%rip), %rsi
        call print_present
        mov $AT_ENTRY, %edi
        lea s_at_entry(%rip), %rsi
        call print_present
        mov $AT_RANDOM, %edi
        lea s_at_random(%rip), %rsi
        call print_present
        mov $AT_EXECFN, %edi
        lea s_at_execfn(%rip), %rsi
        call print_present
        mov $AT_PAGESZ, %edi
        lea s_at_pagesz(%rip), %rsi
        call print_present
        mov $AT_PHNUM, %edi
        lea s_at_phnum(%rip), %rsi
        call print_present

        /* AT_PAGESZ=4096 */
        lea s_pagesz_val(%rip), %rdi
        call append_str
        mov auxv_val+AT_PAGESZ*8(%rip), %rdi
        call append_dec
        call flush_line

        /* AT_ENTRY == _start */
        lea s_entry_start(%rip), %rdi
        call append_str
        lea _start(%rip), %rax
        cmp auxv_val+AT_ENTRY*8(%rip), %rax
        call print_yesno
        call flush_line

        /* AT_PHENT == 56 and the table has a PT_LOAD of this program */
        lea s_phdr_load(%rip), %rdi
        call append_str
        xor %eax, %eax
        cmpb $0, auxv_seen+AT_PHDR(%rip)
        je 10f
        cmpq $56, auxv_val+AT_PHENT*8(%rip)
        jne 10f
        mov auxv_val+AT_PHDR*8(%rip), %rsi
        mov auxv_val+AT_PHNUM*8(%rip), %rcx
        lea _start(%rip), %rdx
8:      test %rcx, %rcx
        jz 10f
        cmpl $1, (%rsi)                 /* p_type == PT_LOAD */
        jne 9f
        testl $1, 4(%rsi)               /* p_flags & PF_X */
        jz 9f
        cmp 16(%rsi), %rdx              /* p_vaddr <= _start */
        jb 9f
        mov 16(%rsi), %r8
        add 40(%rsi), %r8               /* p_vaddr + p_memsz */
        cmp %r8, %rdx
        jae 9f
        mov $1, %eax
        jmp 10f
9:      add $56, %rsi
        dec %rcx
        jmp 8b
10:     test %eax, %eax
        setz %al                        /* ZF=1 <=> found */
        test %al, %al
        call print_yesno
        call flush_line

        /* AT_RANDOM: 16 readable bytes, not all zero */
        lea s_random_ok(%rip), %rdi
        call append_str
        xor %eax, %eax
        cmpb $0, auxv_seen+AT_RANDOM(%rip)
        je 11f
        mov auxv_val+AT_RANDOM*8(%rip), %rsi
        mov (%rsi), %rax
        or 8(%rsi), %rax
11:     test %rax, %rax
        setz %al
        test %al, %al
        call print_yesno
        call flush_line

        /* AT_EXECFN=<string> */
        lea s_execfn_val(%rip), %rdi
        call append_str
        cmpb $0, auxv_seen+AT_EXECFN(%rip)
        je 12f
        mov auxv_val+AT_EXECFN*8(%rip), %rdi
        call append_str
12:     call flush_line

        /* initial %rsp 16-byte aligned */
        lea s_stack_aligned(%rip), %rdi
        call append_str
        cmpq $0, initial_misalign(%rip)
        call print_yesno
        call flush_line

        xor %edi, %edi
        mov $SYS_exit_group, %eax
        syscall
        hlt
        .size _start, .-_start

/* print_present(edi = AT_* type, rsi = name): "NAME present: yes/no" */
print_present:
        push %rdi
        mov %rsi, %rdi
        call append_str
        lea s_present(%rip), %rdi
        call append_str
        pop %rdi
        lea auxv_seen(%rip), %rax
        cmpb $1, (%rax,%rdi)
        call print_yesno
        jmp flush_line

/* print_yesno: appends "yes" if ZF=1 else "no" */
print_yesno:
        lea s_yes(%rip), %rdi
        je 1f
        lea s_no(%rip), %rdi
1:      jmp append_str

append_str:
        mov linepos(%rip), %rax
        lea linebuf(%rip), %rdx
1:      movzbl (%rdi), %ecx
        test %cl, %cl
        jz 2f
        cmp $4000, %rax
        jae 2f
        mov %cl, (%rdx,%rax)
        inc %rax
        inc %rdi
        jmp 1b
2:      mov %rax, linepos(%rip)
        ret

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

        .section .rodata, "a", @progbits
s_argc:         .asciz "argc="
s_argv:         .asciz "argv["
s_close_eq:     .asciz "]="
s_argv_null:    .asciz "argv[argc] is NULL: "
s_envc:         .asciz "envc="
s_at_phdr:      .asciz "AT_PHDR"
s_at_entry:     .asciz "AT_ENTRY"
s_at_random:    .asciz "AT_RANDOM"
s_at_execfn:    .asciz "AT_EXECFN"
s_at_pagesz:    .asciz "AT_PAGESZ"
s_at_phnum:     .asciz "AT_PHNUM"
s_present:      .asciz " present: "
s_pagesz_val:   .asciz "AT_PAGESZ="
s_entry_start:  .asciz "AT_ENTRY is _start: "
s_phdr_load:    .asciz "AT_PHDR has executable PT_LOAD containing _start: "
s_random_ok:    .asciz "AT_RANDOM bytes nonzero: "
s_execfn_val:   .asciz "AT_EXECFN="
s_stack_aligned: .asciz "initial rsp 16-byte aligned: "
s_yes:          .asciz "yes"
s_no:           .asciz "no"

        .data
        .balign 8
initial_misalign: .quad 0
auxv_val:       .fill 64, 8, 0
auxv_seen:      .fill 64, 1, 0
linepos:        .quad 0
linebuf:        .fill 4096, 1, 0
numbuf:         .fill 24, 1, 0
numbuf_end:     .byte 0

        .section .note.GNU-stack, "", @progbits
