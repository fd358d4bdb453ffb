#include "os/linux/fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "os/linux/raw_syscall.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"

namespace qplug::os {
namespace {

int limit = 1 << 30;  // guest_fd_limit(): no reserve until init_fd_reserve
bool raised = false;  // the reserve sits above the guest's limit, which qplug raised by kFdReserve
bool hard_raised = false;  // the hard limit too (privileged): the guest sees it kFdReserve lower

std::mutex dirs_mutex;
std::set<int64_t> fd_dirs;  // guest descriptors of directories that list descriptors

bool lists_descriptors(const char* path) {
  if (!std::strcmp(path, "/dev/fd") || !std::strcmp(path, "/dev/fd/")) return true;
  const char* rest = nullptr;
  if (!std::strncmp(path, "/proc/self/", 11))
    rest = path + 11;
  else if (!std::strncmp(path, "/proc/thread-self/", 18))
    rest = path + 18;
  else if (!std::strncmp(path, "/proc/", 6)) {
    char* end;
    const long pid = std::strtol(path + 6, &end, 10);
    if (end == path + 6 || *end != '/' || pid != getpid()) return false;
    rest = end + 1;
  }
  if (!rest) return false;
  if (!std::strncmp(rest, "task/", 5)) {  // /proc/self/task/<tid>/fd
    char* end;
    std::strtol(rest + 5, &end, 10);
    if (*end != '/') return false;
    rest = end + 1;
  }
  return !std::strcmp(rest, "fd") || !std::strcmp(rest, "fd/") || !std::strcmp(rest, "fdinfo") ||
         !std::strcmp(rest, "fdinfo/");
}

}  // namespace

void init_fd_reserve() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t soft = rl.rlim_cur;
  if (soft == RLIM_INFINITY || soft > (1 << 30)) return;
  if (rl.rlim_max == RLIM_INFINITY || soft + kFdReserve <= rl.rlim_max) {
    rl.rlim_cur = soft + kFdReserve;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      raised = true;
      limit = static_cast<int>(soft);
      return;
    }
  } else {
    // Soft and hard equal: with the privilege to (root, say), both go up.
    struct rlimit more = {soft + kFdReserve, rl.rlim_max + kFdReserve};
    if (setrlimit(RLIMIT_NOFILE, &more) == 0) {
      raised = hard_raised = true;
      limit = static_cast<int>(soft);
      return;
    }
  }
  // No room above: the reserve comes out of the guest's limit.
  limit = static_cast<int>(soft > 3 + 2 * kFdReserve ? soft - kFdReserve : soft);
}

int guest_fd_limit() { return limit; }

int move_to_reserve(int fd) {
  if (fd < 0 || fd >= limit) return fd;
  const int moved = static_cast<int>(raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, limit));
  if (moved < 0) return fd;  // the reserve is full: better a visible descriptor than none
  raw_syscall(SYS_close, fd);
  return moved;
}

int64_t guest_close(uint64_t fd) {
  if (static_cast<int64_t>(fd) >= limit) return -EBADF;
  {
    std::lock_guard guard(dirs_mutex);
    fd_dirs.erase(static_cast<int64_t>(fd));
  }
  return raw_syscall(SYS_close, static_cast<long>(fd));
}

int64_t guest_close_range(uint64_t first, uint64_t last, uint64_t flags) {
  if (first > last) return -EINVAL;
  if (first >= static_cast<uint64_t>(limit)) return 0;  // nothing of the guest's there
  last = std::min<uint64_t>(last, static_cast<uint64_t>(limit) - 1);
  {
    std::lock_guard guard(dirs_mutex);
    fd_dirs.erase(fd_dirs.lower_bound(static_cast<int64_t>(first)),
                  fd_dirs.upper_bound(static_cast<int64_t>(last)));
  }
  return raw_syscall(SYS_close_range, static_cast<long>(first), static_cast<long>(last),
                     static_cast<long>(flags));
}

int64_t guest_dup2(long nr, uint64_t oldfd, uint64_t newfd, uint64_t flags) {
  if (static_cast<int64_t>(oldfd) >= limit || static_cast<int64_t>(newfd) >= limit) return -EBADF;
  {
    std::lock_guard guard(dirs_mutex);
    fd_dirs.erase(static_cast<int64_t>(newfd));
  }
  return nr == SYS_dup2 ? raw_syscall(nr, static_cast<long>(oldfd), static_cast<long>(newfd))
                        : raw_syscall(nr, static_cast<long>(oldfd), static_cast<long>(newfd),
                                      static_cast<long>(flags));
}

int64_t guest_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg) {
  if (static_cast<int64_t>(fd) >= limit) return -EBADF;
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && static_cast<int64_t>(arg) >= limit)
    return -EINVAL;  // beyond RLIMIT_NOFILE, as the guest sees it
  const int64_t ret =
      raw_syscall(SYS_fcntl, static_cast<long>(fd), static_cast<long>(cmd), static_cast<long>(arg));
  return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? check_new_fd(ret) : ret;
}

int64_t check_new_fd(int64_t ret) {
  if (ret < limit) return ret;
  raw_syscall(SYS_close, static_cast<long>(ret));
  return -EMFILE;
}

int64_t guest_nofile_limit(long nr, uint64_t pid, uint64_t resource, uint64_t new_limit,
                           uint64_t old_limit, bool* handled) {
  *handled = false;
  if (resource != RLIMIT_NOFILE) return 0;
  if (nr == SYS_prlimit64 && pid != 0 && pid != static_cast<uint64_t>(getpid())) return 0;
  *handled = true;
  const rlim_t offset = raised ? kFdReserve : 0;
  struct rlimit cur;
  if (getrlimit(RLIMIT_NOFILE, &cur) != 0) return -errno;
  struct rlimit seen = cur;
  if (seen.rlim_cur != RLIM_INFINITY) seen.rlim_cur = static_cast<rlim_t>(limit);
  if (hard_raised && seen.rlim_max != RLIM_INFINITY) seen.rlim_max -= kFdReserve;
  if (new_limit) {
    struct rlimit want;
    if (runtime::Dispatcher::read_guest(new_limit, &want, sizeof want) != sizeof want)
      return -EFAULT;
    if (want.rlim_cur > want.rlim_max) return -EINVAL;
    struct rlimit real = want;
    if (want.rlim_cur != RLIM_INFINITY) real.rlim_cur = want.rlim_cur + offset;
    if (hard_raised && want.rlim_max != RLIM_INFINITY) real.rlim_max = want.rlim_max + kFdReserve;
    // A hard limit without room for the reserve above: it comes out below.
    if (real.rlim_max != RLIM_INFINITY && real.rlim_cur > real.rlim_max)
      real.rlim_cur = real.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &real) != 0) return -errno;
    if (real.rlim_cur != RLIM_INFINITY && real.rlim_cur <= (1u << 30))
      limit = static_cast<int>(real.rlim_cur - std::min<rlim_t>(real.rlim_cur, kFdReserve));
  }
  if (old_limit &&
      runtime::rt().ctx.safe_copy(reinterpret_cast<void*>(old_limit), &seen, sizeof seen) != 0)
    return -EFAULT;
  return 0;
}

void note_opened_dir(int64_t fd, uint64_t path) {
  if (fd < 0 || !path || !lists_descriptors(reinterpret_cast<const char*>(path))) return;
  std::lock_guard guard(dirs_mutex);
  fd_dirs.insert(fd);
}

int64_t guest_getdents64(uint64_t fd, uint64_t buf, uint64_t len) {
  bool filter;
  {
    std::lock_guard guard(dirs_mutex);
    filter = fd_dirs.count(static_cast<int64_t>(fd)) != 0;
  }
  for (;;) {
    const long n = raw_syscall(SYS_getdents64, static_cast<long>(fd), static_cast<long>(buf),
                               static_cast<long>(len));
    if (n <= 0 || !filter) return n;
    // Entries are compacted in place: qplug's descriptors leave no gap.
    auto* base = reinterpret_cast<char*>(buf);
    long kept = 0;
    for (long at = 0; at < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(base + at);
      const unsigned short size = d->d_reclen;
      char* end;
      const long number = std::strtol(d->d_name, &end, 10);
      const bool ours = end != d->d_name && *end == '\0' && number >= limit;
      if (!ours) {
        if (kept != at) std::memmove(base + kept, base + at, size);
        kept += size;
      }
      at += size;
    }
    if (kept > 0) return kept;  // all of a batch ours: read on
  }
}

void give_back_fd_limit(bool restore) {
  if (!raised) return;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = static_cast<rlim_t>(restore ? limit + kFdReserve : limit);
  if (hard_raised && rl.rlim_max != RLIM_INFINITY)
    rl.rlim_max = restore ? rl.rlim_max + kFdReserve : rl.rlim_max - kFdReserve;
  setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace qplug::os
