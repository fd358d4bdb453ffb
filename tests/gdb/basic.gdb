# A breakpoint on a function, the caller in the backtrace, rip at the
# function, memory read, a watchpoint's old and new values, a variable
# changed from gdb, and continue to the exit.
break add
continue
# expect: ^Breakpoint 1, add \(a=0, b=(b@entry=)?0\) at .*basic\.c
bt
# expect: ^#1 +0x[0-9a-f]+ in main \(\) at .*basic\.c:[0-9]+
info registers rip
# expect: ^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <add>$
print $pc == add
# expect: ^\$1 = 1$
x/4xb &counter
# expect: <counter>:[[:space:]]+0x01[[:space:]]+0x00[[:space:]]+0x00[[:space:]]+0x00$
continue
# expect: ^Breakpoint 1, add \(a=0, b=(b@entry=)?1\)
delete
watch counter
continue
# expect: ^Old value = 1$
# expect: ^New value = 2$
continue
# expect: ^New value = 4$
delete
set var counter = 100
continue
# expect: exited with code 0144\]
# expect-output: ^s=3 counter=100$
# expect-status: 100
