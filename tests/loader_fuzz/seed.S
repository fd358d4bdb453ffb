# The fuzzer's freestanding seed (tests/loader_fuzz): its exit status, 42,
# comes from its data, read-only data and bss, so that a segment mapped at the
# wrong place or with the wrong contents shows. Built as ET_EXEC and as a
# static PIE (it has no relocations: every access is RIP-relative).
	.text
	.globl	_start
_start:
	mov	value(%rip), %edi	# .data: 40
	add	konst(%rip), %edi	# .rodata: 2
	add	buf(%rip), %edi		# .bss: 0
	movl	$7, buf+8000(%rip)	# bss is writable, also past the file's last page
	mov	$60, %eax		# exit
	syscall

	.section .rodata
konst:	.long	2

	.data
value:	.long	40

	.bss
buf:	.space	8192

	.section .note.GNU-stack,"",@progbits
