#include "os/linux/exec.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/options.h"
#include "loader/elf_loader.h"
#include "os/linux/fds.h"
#include "os/linux/raw_syscall.h"
#include "runtime/runtime.h"

namespace qplug::os {
namespace {

std::vector<std::string> read_string_array(uint64_t addr) {
  std::vector<std::string> out;
  if (!addr) return out;
  for (auto* p = reinterpret_cast<const char* const*>(addr); *p; ++p) out.emplace_back(*p);
  return out;
}

std::vector<char*> to_c_array(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Splits a "#!interp [arg]" line as the kernel does: one optional argument,
// the rest of the line after the interpreter.
bool parse_shebang(const char* buf, size_t n, std::string& interp, std::string& arg) {
  if (n < 2 || buf[0] != '#' || buf[1] != '!') return false;
  std::string line(buf + 2, n - 2);
  line = line.substr(0, line.find('\n'));
  const char* ws = " \t";
  size_t b = line.find_first_not_of(ws);
  if (b == std::string::npos) return false;
  size_t e = line.find_first_of(ws, b);
  interp = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
  arg.clear();
  if (e != std::string::npos) {
    size_t ab = line.find_first_not_of(ws, e);
    if (ab != std::string::npos) {
      size_t ae = line.find_last_not_of(ws);
      arg = line.substr(ab, ae - ab + 1);
    }
  }
  return true;
}

}  // namespace

int64_t follow_execve(int dirfd, uint64_t path_addr, uint64_t argv_addr, uint64_t envp_addr,
                      int flags) {
  auto& R = runtime::rt();
  const char* guest_path = reinterpret_cast<const char*>(path_addr);
  std::string path = guest_path;
  if (path == "/proc/self/exe") path = R.exe_realpath;
  std::vector<std::string> argv = read_string_array(argv_addr);
  std::vector<std::string> envp = read_string_array(envp_addr);
  auto native = [&]() -> int64_t {
    auto cargv = to_c_array(argv);
    auto cenvp = to_c_array(envp);
    give_back_fd_limit(false);
    const long rc = raw_syscall(SYS_execveat, dirfd, reinterpret_cast<long>(path.c_str()),
                                reinterpret_cast<long>(cargv.data()),
                                reinterpret_cast<long>(cenvp.data()), flags);
    give_back_fd_limit(true);
    return rc;
  };
  if (!R.options.follow_exec || (flags & AT_EMPTY_PATH) || path.empty()) return native();
  if (dirfd != AT_FDCWD && path[0] != '/') {
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d/", dirfd);
    path = fdpath + path;
  }
  // Errors the kernel would give (ENOENT, EACCES, ENOEXEC...) come from a real
  // attempt: only executable files are worth re-running under qplug.
  if (raw_syscall(SYS_faccessat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), X_OK) != 0)
    return native();
  int fd = static_cast<int>(raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path.c_str()),
                                        O_RDONLY | O_CLOEXEC));
  if (fd < 0) return native();
  char head[256];
  long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(head), sizeof head);
  raw_syscall(SYS_close, fd);
  if (n <= 0) return native();

  std::string program = path;
  std::string argv0 = argv.empty() ? path : argv[0];
  std::vector<std::string> rest(argv.size() > 1 ? argv.begin() + 1 : argv.end(), argv.end());
  std::string interp, interp_arg;
  if (parse_shebang(head, static_cast<size_t>(n), interp, interp_arg)) {
    // The kernel runs: interp [arg] path argv[1..]
    std::vector<std::string> shifted;
    if (!interp_arg.empty()) shifted.push_back(interp_arg);
    shifted.push_back(path);
    shifted.insert(shifted.end(), rest.begin(), rest.end());
    rest = std::move(shifted);
    program = interp;
    argv0 = interp;
    int ifd = static_cast<int>(raw_syscall(
        SYS_openat, AT_FDCWD, reinterpret_cast<long>(program.c_str()), O_RDONLY | O_CLOEXEC));
    if (ifd < 0) return native();
    n = raw_syscall(SYS_read, ifd, reinterpret_cast<long>(head), sizeof head);
    raw_syscall(SYS_close, ifd);
    if (n <= 0) return native();
  }
  if (!loader::check_elf_header(program, reinterpret_cast<const uint8_t*>(head),
                                static_cast<size_t>(n))
           .ok())
    return native();  // not ours to run (another architecture, or not ELF at all)
  // What the kernel refuses before the point of no return (bad program
  // headers, a missing interpreter) must come back to the guest as its execve
  // error, which the real attempt gives.
  if (!loader::check_exec(program, loader::LoadOptions{R.options.interp_prefix}).ok())
    return native();

  std::vector<std::string> args{R.qplug_path};
  cli::Options inherited = R.options;  // the new image gets its own -0
  inherited.set_env.clear();           // the guest's envp already reflects -E and -U
  inherited.unset_env.clear();
  inherited.argv0 = argv0;
  inherited.log_append = true;  // the new image adds to the log this process started
  // The guest may have changed directory: relative plugin and log paths are
  // made absolute against qplug's start-up directory (a bare library name
  // keeps dlopen's search).
  auto absolute = [&R](std::string& path) {
    if (!path.empty() && path[0] != '/') path = R.start_cwd + "/" + path;
  };
  for (auto& plugin : inherited.plugins)
    if (plugin.path.find('/') != std::string::npos) absolute(plugin.path);
  absolute(inherited.log_file);
  inherited.argv0_set = true;
  for (auto& a : cli::options_to_args(inherited)) args.push_back(a);  // ends with "--"
  args.push_back(program);
  args.insert(args.end(), rest.begin(), rest.end());
  auto cargs = to_c_array(args);
  auto cenvp = to_c_array(envp);
  fflush(nullptr);
  // The new qplug process takes its own reserve out of the guest's limit.
  give_back_fd_limit(false);
  const long rc =
      raw_syscall(SYS_execve, reinterpret_cast<long>(R.qplug_path.c_str()),
                  reinterpret_cast<long>(cargs.data()), reinterpret_cast<long>(cenvp.data()));
  give_back_fd_limit(true);
  return rc;
}

}  // namespace qplug::os
