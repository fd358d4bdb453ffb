// Freestanding test program with an exactly known instruction count, for
// stepcount's self-test. No libc: _start runs straight to exit_group.
//
// Executed instructions (L = LOOPS):
//   prologue            2
//   loop body           4 * L     (add, nop, dec, jnz)
//   call + func         3         (call, mov, ret)
//   rep stosb x2        6         (lea, mov, rep stosb[100 iterations], mov, rep stosb[0], cld)
//   write(1, "ok\n", 3) 5
//   getpid              2
//   exit_group(7)       3         (the final syscall counts)
//   total               21 + 4 * L
// Control transfers: L jnz + call + ret + 3 syscalls = L + 5.
// Exit status: 7. Standard output: "ok\n".

#ifndef LOOPS
#define LOOPS 1000
#endif

        .text
        .globl _start
_start:
        mov     $LOOPS, %ecx
        xor     %eax, %eax
1:      add     $3, %eax
        nop
        dec     %ecx
        jnz     1b

        call    func

        lea     buf(%rip), %rdi
        mov     $100, %ecx
        rep stosb
        mov     $0, %ecx
        rep stosb
        cld

        mov     $1, %eax                // write
        mov     $1, %edi
        lea     msg(%rip), %rsi
        mov     $3, %edx
        syscall

        mov     $39, %eax               // getpid
        syscall

        mov     $231, %eax              // exit_group(7)
        mov     $7, %edi
        syscall

func:   mov     $1, %edx
        ret

        .section .rodata
msg:    .ascii  "ok\n"

        .bss
buf:    .skip   128

        .section .note.GNU-stack,"",@progbits
