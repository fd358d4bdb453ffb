# stepi moves one instruction at a time through a known sequence (mov, add,
# jmp, lea), and registers show each step's effect.
break step_begin
continue
# expect: ^Breakpoint 1, (0x[0-9a-f]+ in )?step_begin \(\)
stepi
info registers rax
# expect: ^rax +0x1 +1$
stepi 3
info registers rip
# expect: ^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <step_after4>$
info registers rax rcx
# expect: ^rax +0x3 +3$
# expect: ^rcx +0x6 +6$
stepi
print $rcx
# expect: ^\$1 = 30$
continue
# expect: exited with code 036\]
# expect-status: 30
