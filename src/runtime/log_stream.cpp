#include "runtime/log_stream.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace qplug::runtime {
namespace {

int log_fd = -1;

std::string& unfinished() {
  static thread_local std::string line;
  return line;
}

void write_all(const char* data, size_t n) {
  while (n > 0) {
    const ssize_t done = ::write(log_fd, data, n);
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
  return ::close(log_fd);
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

void flush_log_line() {
  std::string& line = unfinished();
  if (log_fd < 0 || line.empty()) return;
  write_all(line.data(), line.size());
  line.clear();
}

}  // namespace qplug::runtime
