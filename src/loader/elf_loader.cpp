// load_program: opens the guest program and its interpreter and maps both.
#include "loader/elf_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "loader/elf_image.h"

namespace qplug::loader {

namespace {

// Owns a file descriptor; the mappings keep the file alive after close.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens `path` for mapping; on failure returns errno (or -1 for "not a
// regular file") and leaves the descriptor invalid.
int open_image(const std::string& path, bool need_exec, int* fd_out) {
  *fd_out = -1;
  // O_NONBLOCK: a FIFO must be refused below, not wait for a writer.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return err;
  }
  int err = 0;
  if (S_ISDIR(st.st_mode)) {
    err = EISDIR;
  } else if (!S_ISREG(st.st_mode)) {
    err = -1;
  } else if (need_exec &&
             ((st.st_mode & 0111) == 0 || faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS))) {
    // execve needs an execute bit even for root; QEMU checks the same.
    err = EACCES;
  }
  if (err != 0) {
    close(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

std::string open_problem(int err) { return err == -1 ? "not a regular file" : strerror(err); }

struct Mapped {
  LoadedImage image;
  uint64_t reserved_end = 0;
};

// Parses and maps the open image; errors are the detail after "<file>: ".
Result<Mapped> parse_and_map(int fd, uint64_t brk_reserve, std::string* interp, bool* has_interp) {
  Result<detail::ParsedImage> parsed = detail::parse_image(fd);
  if (!parsed) return parsed.error();
  if (interp != nullptr) {
    *interp = parsed->interp;
    *has_interp = parsed->has_interp;
  }
  Mapped m;
  Result<LoadedImage> image = detail::map_image(fd, *parsed, brk_reserve, &m.reserved_end);
  if (!image) return image.error();
  m.image = std::move(*image);
  return m;
}

// The -L prefix applies to absolute interpreter paths, as QEMU's path() does.
std::vector<std::string> interp_candidates(const std::string& interp, const std::string& prefix) {
  std::vector<std::string> out;
  if (!prefix.empty() && !interp.empty() && interp[0] == '/') {
    std::string p = prefix;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    out.push_back(p == "/" ? interp : p + interp);
  }
  out.push_back(interp);
  return out;
}

Result<LoadedImage> load_interp(const std::string& main_path, const std::string& interp,
                                const LoadOptions& options) {
  const std::string where = "qplug: " + main_path + ": ";
  int fd = -1;
  int err = ENOENT;
  std::string path;
  for (const std::string& candidate : interp_candidates(interp, options.interp_prefix)) {
    path = candidate;
    err = open_image(path, false, &fd);
    // A prefixed copy that exists but is broken is an error, not a reason to
    // silently run the host's interpreter.
    if (err != ENOENT && err != ENOTDIR) break;
  }
  if (err == ENOENT || err == ENOTDIR) {
    return make_error(where + "cannot find interpreter " + interp + ": " + strerror(err));
  }
  if (err != 0) {
    return make_error(where + "cannot open interpreter " + path + ": " + open_problem(err));
  }
  Fd owner(fd);
  Result<Mapped> m = parse_and_map(fd, 0, nullptr, nullptr);
  if (!m) return make_error(where + "interpreter " + path + ": " + m.error().message);
  m->image.path = path;
  return std::move(m->image);
}

}  // namespace

Result<GuestProgram> load_program(const std::string& path, const LoadOptions& options) {
  int fd = -1;
  int err = open_image(path, true, &fd);
  if (err != 0) return make_error("qplug: " + path + ": " + open_problem(err));
  Fd owner(fd);

  GuestProgram program;
  bool has_interp = false;
  Result<Mapped> m = parse_and_map(fd, options.brk_reserve, &program.interp_name, &has_interp);
  if (!m) return make_error("qplug: " + path + ": " + m.error().message);
  program.main = std::move(m->image);
  program.main.path = path;
  program.brk_reserved_end = m->reserved_end;

  if (has_interp) {
    Result<LoadedImage> interp = load_interp(path, program.interp_name, options);
    if (!interp) {
      unmap_program(program);
      return interp.error();
    }
    program.interp = std::move(*interp);
  }
  program.first_pc = program.interp ? program.interp->entry : program.main.entry;
  return program;
}

void unmap_program(const GuestProgram& program) {
  uint64_t end = std::max(program.main.highest, program.brk_reserved_end);
  if (end > program.main.lowest) {
    munmap(reinterpret_cast<void*>(program.main.lowest), end - program.main.lowest);
  }
  if (program.interp && program.interp->highest > program.interp->lowest) {
    munmap(reinterpret_cast<void*>(program.interp->lowest),
           program.interp->highest - program.interp->lowest);
  }
}

}  // namespace qplug::loader
