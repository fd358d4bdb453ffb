# Signals stop the guest before it gets them: one gdb passes on to the
# guest's handler, then a fault that kills it.
continue
# expect: ^Program received signal SIGUSR1
continue
# expect: ^Program received signal SIGSEGV
continue
# expect: ^Program terminated with signal SIGSEGV
# expect-output: ^handled SIGUSR1$
# expect-status: 139
