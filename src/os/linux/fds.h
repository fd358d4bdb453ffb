// qplug's own file descriptors, kept out of the guest's view and reach.
//
// Invariant (owned here): every descriptor qplug or a plugin opens for itself
// (the log, a copy of stderr, a plugin's output file) is numbered at or above
// guest_fd_limit(), and the guest sees RLIMIT_NOFILE as that limit. So the
// guest cannot get such a number from the kernel (qplug takes back any that
// the kernel hands out there and says EMFILE), a program that closes every
// descriptor from 3 up (close_range, or close in a loop up to its limit)
// leaves qplug's alone, dup2 onto one fails with EBADF as beyond the limit,
// and listings of /proc/self/fd leave them out. DynamoRIO keeps its
// descriptors the same way (-steal_fds).
//
// The reserve is kReserve descriptors above the limit the guest started
// with, taken by raising the soft limit where the hard limit allows (the
// guest then sees its own limit unchanged) and below it otherwise. A followed
// execve passes the reserve on (the new qplug process finds it in the limit it
// inherits); an execve of a native program gives the guest's limit back first.
#pragma once

#include <cstdint>

namespace qplug::os {

inline constexpr int kFdReserve = 64;

// Once, first thing: sets the limits up and moves nothing.
void init_fd_reserve();
// The first descriptor number the guest may not use.
int guest_fd_limit();
// Moves `fd` into the reserve (close-on-exec) and returns its new number; if
// the reserve is full, returns `fd` unchanged.
int move_to_reserve(int fd);
inline bool is_reserved_fd(int64_t fd) { return fd >= guest_fd_limit(); }

// Guest syscalls that reach descriptors by number; each returns what the
// kernel would return if qplug's descriptors did not exist.
int64_t guest_close(uint64_t fd);
int64_t guest_close_range(uint64_t first, uint64_t last, uint64_t flags);
int64_t guest_dup2(long nr, uint64_t oldfd, uint64_t newfd, uint64_t flags);
int64_t guest_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg);
int64_t guest_nofile_limit(long nr, uint64_t pid, uint64_t resource, uint64_t new_limit,
                           uint64_t old_limit, bool* handled);
// After a syscall that made a new descriptor: one at or above the guest's
// limit goes back (closed) and the guest gets EMFILE, as it would natively.
int64_t check_new_fd(int64_t ret);
// A directory the guest opened: remembered when it lists descriptors
// (/proc/self/fd, /dev/fd...), so that getdents64 on it leaves qplug's out.
void note_opened_dir(int64_t fd, uint64_t path);
int64_t guest_getdents64(uint64_t fd, uint64_t buf, uint64_t len);
// Before a native execve: the guest's own limit back (the reserve is not
// the new program's). `restore` undoes it when the exec failed.
void give_back_fd_limit(bool restore);

}  // namespace qplug::os
