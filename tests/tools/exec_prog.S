// Freestanding test program: execve(argv[1], &argv[1], NULL), for stepcount's
// self-test of exec. 5 instructions up to and including the execve syscall;
// exits with 99 (3 more instructions) if the execve fails.

        .text
        .globl _start
_start:
        mov     16(%rsp), %rdi          // argv[1]
        lea     16(%rsp), %rsi          // &argv[1]
        xor     %edx, %edx              // envp = NULL
        mov     $59, %eax               // execve
        syscall
        mov     $231, %eax
        mov     $99, %edi
        syscall

        .section .note.GNU-stack,"",@progbits
