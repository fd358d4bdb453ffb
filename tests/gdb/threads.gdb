# All threads listed, a breakpoint in the thread function hit once by each
# thread, another thread's backtrace, and continue to the exit.
break work
continue
# expect: ^Thread [0-9]+ "?[a-z_]*"? ?hit Breakpoint 1, work \(id=
info threads
# expect: ^\* +[0-9]+ +Thread [0-9]+ .*work \(id=
# expect: ^ +5 +Thread [0-9]+
thread 1
bt
# expect: ^#[0-9]+ +0x[0-9a-f]+ in main \(\) at .*threads\.c
continue
continue
continue
# expect-count: 4 hit Breakpoint 1, work \(id=
delete
continue
# expect: exited normally\]
# expect-output: ^0 10 20 30$
