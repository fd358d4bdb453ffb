// Signal numbers in the remote protocol are gdb's own (its enum gdb_signal),
// not the host's: SIGBUS is 10 there, SIGUSR1 30, SIGCHLD 20...
#pragma once

namespace qplug::gdb {

int to_gdb_signal(int linux_sig);
int from_gdb_signal(int gdb_sig);  // 0 for a signal Linux does not have

}  // namespace qplug::gdb
