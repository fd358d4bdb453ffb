#include "process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace qplug_bench {
namespace {

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec * 1e-6; }

std::string FirstLines(const std::string& text, int lines) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i < lines && std::getline(in, line); i++) out += "\n    " + line;
  return out;
}

struct Scratch {
  std::string dir;
  Scratch() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/qplug-micro.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("micro_bench: mkdtemp");
      std::exit(2);
    }
    dir = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

const std::string& ScratchDir() {
  static Scratch scratch;
  return scratch.dir;
}

std::optional<RunTime> RunTimed(const Argv& argv, std::string* error) {
  const std::string err_path = ScratchDir() + "/stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return std::nullopt;
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      *error = std::string("wait4: ") + std::strerror(errno);
      return std::nullopt;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status)
                          ? "exited with status " + std::to_string(WEXITSTATUS(status))
                          : "was killed by signal " + std::to_string(WTERMSIG(status));
    *error = Join(argv) + " " + how + FirstLines(ReadFile(err_path).value_or(""), 5);
    return std::nullopt;
  }
  RunTime t;
  t.wall_s = std::chrono::duration<double>(t1 - t0).count();
  t.cpu_s = Seconds(usage.ru_utime) + Seconds(usage.ru_stime);
  return t;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<uint64_t> FindCount(const std::string& text, const std::string& key) {
  const std::string needle = key + "=";
  size_t at = text.rfind(needle);
  if (at == std::string::npos) return std::nullopt;
  const char* p = text.c_str() + at + needle.size();
  char* end;
  errno = 0;
  unsigned long long v = std::strtoull(p, &end, 10);
  if (end == p || errno != 0) return std::nullopt;
  return v;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string Join(const Argv& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace qplug_bench
