// The files plugins (and qplug itself) open go to qplug's descriptor reserve
// (fds.h), out of the guest's reach: a program that closes every descriptor
// from 3 up, then opens files of its own, must not find drcov's output file
// among them, nor get plugin output written into its own files.
//
// qplug's executable defines and exports open, openat, creat and fopen (and
// their 64-bit twins): plugins and the libraries qplug loads bind to these
// before libc's, as they would to an LD_PRELOAD library's. Calls inside libc
// itself (fopen's own open) do not come here, which is why fopen is defined
// too. The guest's own libc is not linked against qplug and never sees them.
#include <fcntl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "os/linux/fds.h"
#include "os/linux/raw_syscall.h"

namespace {

int open_reserved(int dirfd, const char* path, int flags, mode_t mode) {
  const long fd = qplug::os::raw_syscall(SYS_openat, dirfd, reinterpret_cast<long>(path), flags,
                                         static_cast<long>(mode));
  if (fd < 0) {
    errno = static_cast<int>(-fd);
    return -1;
  }
  return qplug::os::move_to_reserve(static_cast<int>(fd));
}

mode_t mode_argument(int flags, va_list args) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? va_arg(args, mode_t) : 0;
}

// fopen's mode string as open flags, or -1 if it is not one.
int open_flags(const char* mode) {
  int flags;
  switch (mode[0]) {
    case 'r':
      flags = O_RDONLY;
      break;
    case 'w':
      flags = O_WRONLY | O_CREAT | O_TRUNC;
      break;
    case 'a':
      flags = O_WRONLY | O_CREAT | O_APPEND;
      break;
    default:
      return -1;
  }
  for (const char* m = mode + 1; *m && *m != ','; ++m) {
    if (*m == '+') flags = (flags & ~(O_RDONLY | O_WRONLY)) | O_RDWR;
    if (*m == 'e') flags |= O_CLOEXEC;
    if (*m == 'x') flags |= O_EXCL;
  }
  return flags;
}

FILE* fopen_reserved(const char* path, const char* mode) {
  const int flags = open_flags(mode);
  if (flags < 0) {
    errno = EINVAL;
    return nullptr;
  }
  const int fd = open_reserved(AT_FDCWD, path, flags, 0666);
  if (fd < 0) return nullptr;
  FILE* f = fdopen(fd, mode);
  if (!f) {
    const int err = errno;
    qplug::os::raw_syscall(SYS_close, fd);
    errno = err;
  }
  return f;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_reserved(AT_FDCWD, path, flags, mode);
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_reserved(AT_FDCWD, path, flags, mode);
}

__attribute__((visibility("default"))) int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_reserved(dirfd, path, flags, mode);
}

__attribute__((visibility("default"))) int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_reserved(dirfd, path, flags, mode);
}

__attribute__((visibility("default"))) int creat(const char* path, mode_t mode) {
  return open_reserved(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

__attribute__((visibility("default"))) int creat64(const char* path, mode_t mode) {
  return open_reserved(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

__attribute__((visibility("default"))) FILE* fopen(const char* path, const char* mode) {
  return fopen_reserved(path, mode);
}

__attribute__((visibility("default"))) FILE* fopen64(const char* path, const char* mode) {
  return fopen_reserved(path, mode);
}

}  // extern "C"
