# Guest for the gdb stub's stepi test: a known instruction sequence, with a
# label where four single steps from step_begin must arrive.
        .text
        .globl _start, step_begin, step_after4
_start:
        nop
step_begin:
        mov $1, %eax
        add $2, %eax
        jmp 1f
        ud2
1:      lea 3(%rax), %ecx
step_after4:
        imul $5, %ecx, %ecx
        mov $60, %eax
        mov %ecx, %edi
        syscall
