// Following execve: a guest that execs an x86-64 ELF program (or a #! script
// whose interpreter is one) gets qplug re-executed on the new program with the
// same options, so instrumentation continues in the new image.
#pragma once

#include <cstdint>

namespace qplug::os {

// Emulates execve/execveat. Returns only on failure, with -errno.
int64_t follow_execve(int dirfd, uint64_t path, uint64_t argv, uint64_t envp, int flags);

}  // namespace qplug::os
