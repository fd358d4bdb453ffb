/*
 * qplug_examples_prog: freestanding program with exactly known instruction,
 * memory access and system call counts, for the example plugin tests.
 * No libc, no rep prefixes, no CPU-feature-dependent code: QEMU 7.2 and qplug
 * must report the same instruction and access counts. Built with
 * -DNO_ACCESS_OPERANDS (qplug_examples_prog_nop) the prologue also runs a
 * nopw and a prefetcht0: memory operands that access no memory.
 *
 * With L = LOOPS (1000):
 *   instructions   29 + 7 * L   = 7029 (7031 with NO_ACCESS_OPERANDS)
 *     prologue 7 (9), loop 7 * L, call + func 3, magic syscall + write 11,
 *     close 3, getpid 2, exit_group 3 (the final syscall counts)
 *   memory accesses 5 + 4 * L  = 4005
 *     loads  2 + 2 * L = 2002  (pop, loop: add (%rdi) and pop, ret)
 *     stores 3 + 2 * L = 2003  (push, loop: mov to (%rdi) and push, call, func's mov)
 *   bss page: 1000 loads, 1001 stores; stack page: 1002 loads, 1002 stores
 *   the prologue push stores and pop loads 0x1122334455667788
 *   system calls: 4096 (a1 = 0x66CCFF), write(1, "magic: yes\n" or "magic: no \n", 11),
 *     close(-1) (fails with EBADF), getpid, exit_group(0)
 * Standard output: "magic: yes" when a plugin's syscall filter answered the
 * magic call 4096 with 0xFFCC66, "magic: no " otherwise.
 */
#ifndef LOOPS
#define LOOPS 1000
#endif

        .text
        .globl _start
_start:
        movabs  $0x1122334455667788, %rax
        push    %rax
        pop     %rbx
        mov     $LOOPS, %ecx
        xor     %eax, %eax
        xor     %edx, %edx
        lea     buf(%rip), %rdi
#ifdef NO_ACCESS_OPERANDS
        nopw    0(%rax,%rax,1)          // memory operands that access nothing
        prefetcht0 (%rdi)
#endif

1:      mov     %eax, (%rdi)
        add     (%rdi), %edx
        push    %rcx
        pop     %rcx
        add     $3, %eax
        dec     %ecx
        jnz     1b

        call    func

        mov     $4096, %eax             // magic syscall for the filter self-test
        mov     $0x66CCFF, %edi
        syscall
        lea     msg_no(%rip), %rsi
        lea     msg_yes(%rip), %rdx
        cmp     $0xFFCC66, %rax
        cmove   %rdx, %rsi
        mov     $1, %eax                // write(1, msg, 11)
        mov     $1, %edi
        mov     $11, %edx
        syscall

        mov     $3, %eax                // close(-1): EBADF
        mov     $-1, %edi
        syscall

        mov     $39, %eax               // getpid
        syscall

        mov     $231, %eax              // exit_group(0)
        xor     %edi, %edi
        syscall

func:   mov     %eax, 4(%rdi)
        ret

        .section .rodata
msg_yes: .ascii "magic: yes\n"
msg_no:  .ascii "magic: no \n"

        .bss
        .balign 64
buf:    .skip   64

        .section .note.GNU-stack, "", @progbits
