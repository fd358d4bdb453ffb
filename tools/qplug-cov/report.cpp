#include "report.h"

#include <cxxabi.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

extern char** environ;

namespace qplug_cov {
namespace {

std::string Demangle(const std::string& name) {
  if (name.compare(0, 2, "_Z") != 0) return name;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

double Percent(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Full path of an executable named name in $PATH, or "".
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(pos, colon - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    pos = colon + 1;
  }
  return "";
}

}  // namespace

void PrintSummary(const Report& report, bool functions, FILE* out) {
  uint64_t blocks = 0;
  for (const ModuleResult& m : report.modules) blocks += m.blocks;
  std::fprintf(out, "%zu drcov file%s, %zu module%s, %llu distinct blocks", report.drcov_files,
               report.drcov_files == 1 ? "" : "s", report.modules.size(),
               report.modules.size() == 1 ? "" : "s", static_cast<unsigned long long>(blocks));
  // Say what the default left out, and how to get it.
  if (report.system_modules_left_out) {
    std::fprintf(out, "; %zu system module%s left out (--all-modules shows them)",
                 report.system_modules_left_out, report.system_modules_left_out == 1 ? "" : "s");
  }
  std::fputs("\n\n", out);
  std::fprintf(out, "%8s  %-22s  %-13s  %s\n", "blocks", "lines hit/instrumented", "functions hit",
               "module");
  for (const ModuleResult& m : report.modules) {
    if (!m.has_lines) {
      std::fprintf(out, "%8llu  %-22s  %-13s  %s\n", static_cast<unsigned long long>(m.blocks),
                   ("(" + m.note + ")").c_str(), "", m.path.c_str());
      continue;
    }
    size_t hit = 0;
    for (const FunctionResult& f : m.functions) hit += f.hit;
    char lines[64], funcs[32];
    std::snprintf(lines, sizeof(lines), "%llu/%llu %.1f%%",
                  static_cast<unsigned long long>(m.lines_hit),
                  static_cast<unsigned long long>(m.lines_instrumented),
                  Percent(m.lines_hit, m.lines_instrumented));
    std::snprintf(funcs, sizeof(funcs), "%zu/%zu", hit, m.functions.size());
    std::fprintf(out, "%8llu  %-22s  %-13s  %s\n", static_cast<unsigned long long>(m.blocks), lines,
                 funcs, m.path.c_str());
  }
  if (!functions) return;
  for (const ModuleResult& m : report.modules) {
    if (m.functions.empty()) continue;
    std::fprintf(out, "\n%s\n%-16s  %s\n", m.path.c_str(), "  lines hit", "function (file:line)");
    for (const FunctionResult& f : m.functions) {
      char lines[64];
      std::snprintf(lines, sizeof(lines), "%u/%u %.1f%%", f.lines_hit, f.lines_instrumented,
                    Percent(f.lines_hit, f.lines_instrumented));
      std::fprintf(out, "  %-14s  %s%s (%s:%d)\n", lines, Demangle(f.name).c_str(),
                   f.hit ? "" : " [not run]", Basename(f.file).c_str(), f.line);
    }
  }
}

bool WriteLcov(const Report& report, const std::string& test_name, const std::string& path,
               std::string* error) {
  FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (!out) {
    *error = std::strerror(errno);
    return false;
  }
  for (const auto& [file, source] : report.sources) {
    if (source.lines.empty() && source.functions.empty()) continue;
    std::fprintf(out, "TN:%s\nSF:%s\n", test_name.c_str(), file.c_str());
    size_t functions_hit = 0;
    for (const auto& [key, f] : source.functions) {
      std::fprintf(out, "FN:%d,%s\n", f.line, f.name.c_str());
    }
    for (const auto& [key, f] : source.functions) {
      // FNDA counts covered blocks in the function: drcov has no run counts.
      uint32_t count = f.hit ? std::max<uint32_t>(f.blocks, 1) : 0;
      std::fprintf(out, "FNDA:%u,%s\n", count, f.name.c_str());
      functions_hit += f.hit;
    }
    std::fprintf(out, "FNF:%zu\nFNH:%zu\n", source.functions.size(), functions_hit);
    size_t lines_hit = 0;
    for (const auto& [line, count] : source.lines) {
      std::fprintf(out, "DA:%u,%u\n", line, count);
      lines_hit += count > 0;
    }
    std::fprintf(out, "LF:%zu\nLH:%zu\nend_of_record\n", source.lines.size(), lines_hit);
  }
  bool failed = std::ferror(out) != 0;
  if (out == stdout) {
    failed = std::fflush(out) != 0 || failed;
  } else {
    failed = std::fclose(out) != 0 || failed;
  }
  if (failed) *error = std::string("write error: ") + std::strerror(errno);
  return !failed;
}

size_t DropUnreadableSources(Report* report, std::string* example) {
  size_t dropped = 0;
  for (auto it = report->sources.begin(); it != report->sources.end();) {
    // A relative path is as genhtml takes it: from the working directory.
    if (access(it->first.c_str(), R_OK) == 0) {
      ++it;
      continue;
    }
    if (dropped++ == 0) *example = it->first;
    it = report->sources.erase(it);
  }
  return dropped;
}

bool RunGenhtml(const Report& report, const std::string& tracefile, const std::string& dir,
                std::string* error) {
  std::string genhtml = FindInPath("genhtml");
  if (genhtml.empty()) {
    *error = "genhtml not found in PATH (install the lcov package)";
    return false;
  }
  bool mangled = false;
  for (const auto& [file, source] : report.sources) {
    for (const auto& [key, f] : source.functions) mangled = mangled || f.name.rfind("_Z", 0) == 0;
  }
  std::vector<std::string> args = {genhtml,     "--quiet",  "--output-directory", dir, "--title",
                                   "qplug-cov", "--legend", "--function-coverage"};
  // A source removed between DropUnreadableSources and now gets a placeholder.
  args.insert(args.end(), {"--ignore-errors", "source"});
  if (mangled) args.push_back("--demangle-cpp");
  args.push_back(tracefile);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid;
  int rc = posix_spawn(&pid, genhtml.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    *error = "cannot run " + genhtml + ": " + std::strerror(rc);
    return false;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *error = std::string("waiting for genhtml: ") + std::strerror(errno);
      return false;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = WIFEXITED(status)
                 ? "genhtml failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")"
                 : "genhtml killed by signal " + std::to_string(WTERMSIG(status));
    return false;
  }
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "index.html", ec)) {
    *error = "genhtml made no " + dir + "/index.html";
    return false;
  }
  return true;
}

}  // namespace qplug_cov
