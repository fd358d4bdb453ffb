// qplug-cov: source line coverage from drcov files (see docs/coverage.md).
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "coverage.h"
#include "drcov.h"
#include "progress.h"
#include "report.h"

namespace {

constexpr char kUsage[] =
    R"(usage: qplug-cov [options] FILE.drcov...

Maps the basic blocks recorded in drcov files (qplug -plugin libdrcov.so) to
source lines through each module's DWARF line table, and reports line and
function coverage. Several files (one per process, one per run) are merged.

outputs (the summary is the default when neither --lcov nor --html is given):
  --summary              print a text summary: per module, then per function
  --lcov FILE            write an lcov tracefile ("-": standard output)
  --html DIR             write an HTML report, DIR/index.html (runs genhtml)
  --no-functions         leave the per-function part out of the summary
  --test-name NAME       test name for the tracefile's TN: lines

filters (the default: the program's own modules, not the system's libraries
and loader under /lib* and /usr/lib*, nor [vdso]):
  --module SUBSTR        only modules whose path contains SUBSTR (repeatable)
  --all-modules          every module, the system's too
  --exclude-module SUBSTR  leave out modules whose path contains SUBSTR (repeatable)
  --source-prefix PREFIX   only source files whose path starts with PREFIX (repeatable)

  --debuginfod           let libdw fetch missing debug info from $DEBUGINFOD_URLS
  --progress             show progress on stderr from the start (by default only
                         on a terminal, once a run takes more than a second)
  -h, --help             print this help

A line's count in the tracefile (DA) is the number of distinct covered blocks
that hold code of the line: drcov records which blocks ran, not how often.
Exit status: 0 on success, 1 on bad input or a failed output, 2 on bad usage.
)";

int Usage(const char* problem) {
  std::fprintf(stderr, "qplug-cov: %s\nTry 'qplug-cov --help'.\n", problem);
  return 2;
}

// --html: genhtml on a temporary tracefile of the sources it can show.
// Says where the report is on `say` (stderr when the tracefile is on stdout).
int WriteHtml(qplug_cov::Report* report, const std::string& html, const std::string& test_name,
              qplug_cov::Progress* progress, FILE* say) {
  std::string example;
  const size_t sources = report->sources.size();
  if (size_t dropped = qplug_cov::DropUnreadableSources(report, &example)) {
    // One line for all of them (genhtml would warn once per file).
    progress->Done();
    std::fprintf(stderr,
                 "qplug-cov: %s: %zu of %zu source files are not on this machine (%s%s); the "
                 "HTML report leaves them out\n",
                 html.c_str(), dropped, sources, example.c_str(), dropped > 1 ? ", ..." : "");
  }
  if (report->sources.empty()) {
    progress->Done();
    std::fprintf(stderr, "qplug-cov: %s: no source lines to report (no module with debug info%s)\n",
                 html.c_str(), report->system_modules_left_out ? "; --all-modules?" : "");
    return 1;
  }
  std::error_code ec;
  auto tmp = std::filesystem::temp_directory_path(ec);
  std::string tracefile = (ec ? std::filesystem::path("/tmp") : tmp) / "qplug-cov-XXXXXX.info";
  int fd = mkstemps(tracefile.data(), 5);
  if (fd < 0) {
    progress->Done();
    std::fprintf(stderr, "qplug-cov: %s: cannot create a temporary tracefile\n", tracefile.c_str());
    return 1;
  }
  close(fd);
  progress->Step("writing the HTML report with genhtml", 0, 0,
                 std::to_string(report->sources.size()) +
                     (report->sources.size() == 1 ? " source file" : " source files"));
  std::string error;
  bool ok = qplug_cov::WriteLcov(*report, test_name, tracefile, &error) &&
            qplug_cov::RunGenhtml(*report, tracefile, html, &error);
  unlink(tracefile.c_str());
  progress->Done();
  if (!ok) {
    std::fprintf(stderr, "qplug-cov: %s: %s\n", html.c_str(), error.c_str());
    return 1;
  }
  uint64_t hit = 0, lines = 0;
  for (const auto& [path, source] : report->sources) {
    for (const auto& [line, count] : source.lines) hit += count > 0, lines++;
  }
  const size_t n = report->sources.size();
  std::fprintf(say, "HTML report: %s (%zu source file%s, %llu of %llu lines hit)\n",
               (std::filesystem::path(html) / "index.html").c_str(), n, n == 1 ? "" : "s",
               static_cast<unsigned long long>(hit), static_cast<unsigned long long>(lines));
  return 0;
}

int Run(int argc, char** argv) {
  enum {
    kSummary = 256,
    kLcov,
    kHtml,
    kNoFunctions,
    kTestName,
    kModule,
    kExcludeModule,
    kSourcePrefix,
    kDebuginfod,
    kAllModules,
    kProgress,
  };
  const option long_options[] = {
      {"help", no_argument, nullptr, 'h'},
      {"summary", no_argument, nullptr, kSummary},
      {"lcov", required_argument, nullptr, kLcov},
      {"html", required_argument, nullptr, kHtml},
      {"no-functions", no_argument, nullptr, kNoFunctions},
      {"test-name", required_argument, nullptr, kTestName},
      {"module", required_argument, nullptr, kModule},
      {"exclude-module", required_argument, nullptr, kExcludeModule},
      {"source-prefix", required_argument, nullptr, kSourcePrefix},
      {"debuginfod", no_argument, nullptr, kDebuginfod},
      {"all-modules", no_argument, nullptr, kAllModules},
      {"progress", no_argument, nullptr, kProgress},
      {nullptr, 0, nullptr, 0},
  };
  bool summary = false, functions = true, debuginfod = false, progress_always = false;
  std::string lcov, html, test_name;
  qplug_cov::Filters filters;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", long_options, nullptr)) != -1) {
    switch (c) {
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      case kSummary:
        summary = true;
        break;
      case kLcov:
        lcov = optarg;
        break;
      case kHtml:
        html = optarg;
        break;
      case kNoFunctions:
        functions = false;
        break;
      case kTestName:
        test_name = optarg;
        break;
      case kModule:
        filters.modules.push_back(optarg);
        break;
      case kExcludeModule:
        filters.exclude_modules.push_back(optarg);
        break;
      case kSourcePrefix:
        // Compared with normalized DWARF paths.
        filters.source_prefixes.push_back(std::filesystem::path(optarg).lexically_normal());
        break;
      case kDebuginfod:
        debuginfod = true;
        break;
      case kAllModules:
        filters.all_modules = true;
        break;
      case kProgress:
        progress_always = true;
        break;
      case ':':
        return Usage((std::string("option ") + argv[optind - 1] + " needs an argument").c_str());
      default:
        return Usage((std::string("unknown option ") + argv[optind - 1]).c_str());
    }
  }
  if (optind >= argc) return Usage("no drcov file given");
  if (lcov.empty() && html.empty()) summary = true;
  // Debian's profile sets DEBUGINFOD_URLS: a report should not silently
  // wait on the network for every system library.
  if (!debuginfod) unsetenv("DEBUGINFOD_URLS");

  qplug_cov::Progress progress(progress_always ? qplug_cov::Progress::Mode::kAlways
                                               : qplug_cov::Progress::Mode::kAuto);
  qplug_cov::Collector collector;
  for (int i = optind; i < argc; i++) {
    progress.Step("reading drcov files", i - optind + 1, argc - optind, argv[i]);
    qplug_cov::DrcovFile file;
    std::string error;
    if (!qplug_cov::ReadDrcov(argv[i], &file, &error)) {
      progress.Done();
      std::fprintf(stderr, "qplug-cov: %s: %s\n", argv[i], error.c_str());
      return 1;
    }
    collector.Add(argv[i], file);
  }
  qplug_cov::Report report = collector.Build(filters, &progress);

  std::string error;
  if (!lcov.empty() && !qplug_cov::WriteLcov(report, test_name, lcov, &error)) {
    progress.Done();
    std::fprintf(stderr, "qplug-cov: %s: %s\n", lcov.c_str(), error.c_str());
    return 1;
  }
  if (!html.empty()) {
    if (int status = WriteHtml(&report, html, test_name, &progress, lcov == "-" ? stderr : stdout))
      return status;
  }
  progress.Done();
  if (summary) qplug_cov::PrintSummary(report, functions, stdout);
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "qplug-cov: standard output: write error\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing is meant to throw; allocation failure on absurd input still
  // must end with a message rather than an abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qplug-cov: %s\n", e.what());
    return 1;
  }
}
