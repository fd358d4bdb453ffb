// load_program: opens the guest program and its interpreter and maps both.
#include "loader/elf_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <mutex>

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

// An open image and its headers, checked as far as the kernel checks before
// the point of no return.
struct Opened {
  std::unique_ptr<Fd> fd;
  std::string path;
  detail::ParsedImage image;
};

Result<Opened> open_program(const std::string& path) {
  int fd = -1;
  int err = open_image(path, true, &fd);
  if (err != 0) return make_error("qplug: " + path + ": " + open_problem(err));
  Opened o{std::make_unique<Fd>(fd), path, {}};
  Result<detail::ParsedImage> parsed = detail::parse_image(fd, detail::Role::kProgram);
  if (!parsed) return make_error("qplug: " + path + ": " + parsed.error().message);
  o.image = std::move(*parsed);
  return o;
}

// open_exec: the interpreter must be an executable regular file.
Result<Opened> open_interp(const std::string& main_path, const std::string& interp,
                           const LoadOptions& options) {
  const std::string where = "qplug: " + main_path + ": ";
  int fd = -1;
  int err = ENOENT;
  std::string path;
  for (const std::string& candidate : interp_candidates(interp, options.interp_prefix)) {
    path = candidate;
    err = open_image(path, true, &fd);
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
  Opened o{std::make_unique<Fd>(fd), path, {}};
  Result<detail::ParsedImage> parsed = detail::parse_image(fd, detail::Role::kInterpreter);
  if (!parsed) return make_error(where + "interpreter " + path + ": " + parsed.error().message);
  o.image = std::move(*parsed);
  return o;
}

// The same error, with `prefix` before its message.
Error prefixed(const std::string& prefix, const Error& e) {
  Error out = e;
  out.message = prefix + e.message;
  return out;
}

Error bad_entry(const std::string& prefix, uint64_t entry) {
  return prefixed(prefix,
                  detail::exec_failure(detail::format(
                      "entry point 0x%" PRIx64 " is outside the user address space", entry)));
}

// An interpreter at fixed addresses may land in the program's brk
// reservation, which the kernel does not have: the brk then ends before it.
void cut_brk_reservation(GuestProgram& program, const detail::MapPlan& plan) {
  uint64_t cut = program.brk_reserved_end;
  for (const detail::Range& r : plan.ranges) {
    if (r.first < program.brk_reserved_end && r.second > program.brk_start) {
      cut = std::min(cut, std::max(r.first, program.brk_start));
    }
  }
  if (cut < program.brk_reserved_end) {
    munmap(reinterpret_cast<void*>(cut), program.brk_reserved_end - cut);
    program.brk_reserved_end = cut;
  }
}

}  // namespace

Result<void> check_exec(const std::string& path, const LoadOptions& options) {
  Result<Opened> main = open_program(path);
  if (!main) return main.error();
  if (main->image.has_interp) {
    Result<Opened> interp = open_interp(path, main->image.interp, options);
    if (!interp) return interp.error();
  }
  return {};
}

Result<GuestProgram> load_program(const std::string& path, const LoadOptions& options) {
  Result<Opened> main = open_program(path);
  if (!main) return main.error();
  const detail::ParsedImage& image = main->image;
  std::optional<Opened> interp;
  if (image.has_interp) {
    Result<Opened> opened = open_interp(path, image.interp, options);
    if (!opened) return opened.error();
    interp = std::move(*opened);
  }

  // The point of no return: from here on the kernel's failures are SIGSEGV.
  const std::string where = "qplug: " + path + ": ";
  GuestProgram program;
  program.interp_name = image.interp;
  detail::PlanContext context;
  context.program_has_interp = image.has_interp;
  Result<detail::MapPlan> plan = detail::plan_image(image, context);
  if (!plan) return prefixed(where, plan.error());
  detail::BrkReservation brk;
  brk.size = options.brk_reserve;
  Result<LoadedImage> mapped = detail::map_plan(main->fd->get(), image, *plan, {}, &brk);
  if (!mapped) return prefixed(where, mapped.error());
  program.brk_start = brk.start;
  program.brk_reserved_end = brk.end;
  program.main = std::move(*mapped);
  program.main.path = path;

  if (!interp) {
    if (program.main.entry >= detail::kUserSpaceEnd) {
      unmap_program(program);
      return bad_entry(where, program.main.entry);
    }
    program.first_pc = program.main.entry;
    return program;
  }
  const std::string interp_where = where + "interpreter " + interp->path + ": ";
  detail::PlanContext interp_context;
  interp_context.role = detail::Role::kInterpreter;
  interp_context.program_bias = program.main.load_bias;
  Result<detail::MapPlan> interp_plan = detail::plan_image(interp->image, interp_context);
  if (!interp_plan) {
    unmap_program(program);
    return prefixed(interp_where, interp_plan.error());
  }
  if (interp_plan->fixed) cut_brk_reservation(program, *interp_plan);
  detail::BrkReservation no_brk;
  Result<LoadedImage> interp_image = detail::map_plan(interp->fd->get(), interp->image,
                                                      *interp_plan, program.main.ranges, &no_brk);
  if (!interp_image) {
    unmap_program(program);
    return prefixed(interp_where, interp_image.error());
  }
  program.interp = std::move(*interp_image);
  program.interp->path = interp->path;
  if (program.interp->entry >= detail::kUserSpaceEnd) {
    unmap_program(program);
    return bad_entry(interp_where, program.interp->entry);
  }
  program.first_pc = program.interp->entry;
  return program;
}

namespace {
std::mutex holes_mutex;
}  // namespace

uint64_t first_hole(const GuestProgram& program, uint64_t lo, uint64_t hi) {
  std::lock_guard guard(holes_mutex);
  uint64_t first = hi;
  auto scan = [&](const LoadedImage& image) {
    for (const auto& [a, b] : image.holes) {
      if (a < hi && b > lo) first = std::min(first, std::max(a, lo));
    }
  };
  scan(program.main);
  if (program.interp) scan(*program.interp);
  return first;
}

void forget_holes(GuestProgram& program, uint64_t lo, uint64_t hi) {
  lo = detail::page_down(lo);
  hi = hi > UINT64_MAX - detail::page_size() ? UINT64_MAX : detail::page_up(hi);
  std::lock_guard guard(holes_mutex);
  program.main.holes = detail::subtract_ranges(program.main.holes, {{lo, hi}});
  if (program.interp)
    program.interp->holes = detail::subtract_ranges(program.interp->holes, {{lo, hi}});
}

void unmap_program(const GuestProgram& program) {
  auto release = [](uint64_t lo, uint64_t hi) {
    if (hi > lo) munmap(reinterpret_cast<void*>(lo), hi - lo);
  };
  for (const auto& [lo, hi] : program.main.ranges) release(lo, hi);
  release(program.brk_start, program.brk_reserved_end);
  if (program.interp) {
    for (const auto& [lo, hi] : program.interp->ranges) release(lo, hi);
  }
}

}  // namespace qplug::loader
