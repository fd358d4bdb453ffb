# A hardware breakpoint, a register written from gdb, and a plugin that
# keeps counting meanwhile.
hbreak step_after4
continue
# expect: ^Breakpoint 1, (0x[0-9a-f]+ in )?step_after4 \(\)
set var $rcx = 2
continue
# expect: exited with code 012\]
# expect-stderr: total insns: [0-9]+
# expect-status: 10
