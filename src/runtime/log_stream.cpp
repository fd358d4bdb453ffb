#include "runtime/log_stream.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "os/linux/fds.h"

namespace qplug::runtime {
namespace {

int log_fd = -1;
// -d tid: the -D template ("%d": the thread id); empty without.
std::string per_thread_template;
int per_thread_flags = 0;

struct ThreadLog {
  int fd = -1;
  long tid = 0;  // whose file fd is: a forked child's thread opens its own
};

// The calling thread's file, opened at its first write, as QEMU opens them.
int thread_log_fd() {
  static thread_local ThreadLog mine;
  const long tid = syscall(SYS_gettid);
  if (mine.fd >= 0 && mine.tid == tid) return mine.fd;
  std::string name = per_thread_template;
  name.replace(name.find("%d"), 2, std::to_string(tid));
  mine.fd = os::move_to_reserve(open(name.c_str(), per_thread_flags, 0666));
  mine.tid = tid;
  return mine.fd;
}

std::string& unfinished() {
  static thread_local std::string line;
  return line;
}

void write_all(const char* data, size_t n) {
  const int fd = per_thread_template.empty() ? log_fd : thread_log_fd();
  while (n > 0) {
    const ssize_t done = ::write(fd, data, n);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return;
    data += done;
    n -= static_cast<size_t>(done);
  }
}

ssize_t write_lines(void*, const char* data, size_t n) {
  std::string& line = unfinished();
  const std::string_view text(data, n);
  const size_t last = text.rfind('\n');
  if (last == std::string_view::npos) {
    line.append(text);
    return static_cast<ssize_t>(n);
  }
  if (line.empty()) {
    write_all(data, last + 1);
  } else {
    line.append(text.substr(0, last + 1));
    write_all(line.data(), line.size());
    line.clear();
  }
  line.append(text.substr(last + 1));
  return static_cast<ssize_t>(n);
}

int close_log(void*) {
  flush_log_line();
  return log_fd >= 0 ? ::close(log_fd) : 0;
}

}  // namespace

FILE* open_log_stream(int fd) {
  log_fd = fd;
  cookie_io_functions_t io{};
  io.write = write_lines;
  io.close = close_log;
  FILE* stream = fopencookie(nullptr, "w", io);
  if (stream) setvbuf(stream, nullptr, _IONBF, 0);  // every fwrite reaches write_lines
  return stream;
}

FILE* open_per_thread_log_stream(const std::string& file_template, bool append) {
  per_thread_template = file_template;
  per_thread_flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC);
  return open_log_stream(-1);
}

void flush_log_line() {
  std::string& line = unfinished();
  if ((log_fd < 0 && per_thread_template.empty()) || line.empty()) return;
  write_all(line.data(), line.size());
  line.clear();
}

}  // namespace qplug::runtime
