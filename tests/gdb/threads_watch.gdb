# A conditional breakpoint in a thread function, then a watchpoint that
# another thread's (the main thread's) write triggers.
break work if id == 2
continue
# expect: hit Breakpoint 1, work \(id=(id@entry=)?2\)
# expect-count: 1 hit Breakpoint 1
watch joined
continue
# expect: ^Thread 1 "?[a-z_]*"? ?hit Hardware watchpoint 2: joined
# expect: ^Old value = 0$
# expect: ^New value = 4$
delete
continue
# expect: exited normally\]
# expect-output: ^0 10 20 30$
