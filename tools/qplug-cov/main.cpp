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

filters:
  --module SUBSTR        only modules whose path contains SUBSTR (repeatable)
  --exclude-module SUBSTR  leave out modules whose path contains SUBSTR (repeatable)
  --source-prefix PREFIX   only source files whose path starts with PREFIX (repeatable)

  --debuginfod           let libdw fetch missing debug info from $DEBUGINFOD_URLS
  -h, --help             print this help

A line's count in the tracefile (DA) is the number of distinct covered blocks
that hold code of the line: drcov records which blocks ran, not how often.
Exit status: 0 on success, 1 on bad input or a failed output, 2 on bad usage.
)";

int Usage(const char* problem) {
  std::fprintf(stderr, "qplug-cov: %s\nTry 'qplug-cov --help'.\n", problem);
  return 2;
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
      {nullptr, 0, nullptr, 0},
  };
  bool summary = false, functions = true, debuginfod = false;
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

  qplug_cov::Collector collector;
  for (int i = optind; i < argc; i++) {
    qplug_cov::DrcovFile file;
    std::string error;
    if (!qplug_cov::ReadDrcov(argv[i], &file, &error)) {
      std::fprintf(stderr, "qplug-cov: %s: %s\n", argv[i], error.c_str());
      return 1;
    }
    collector.Add(argv[i], file);
  }
  qplug_cov::Report report = collector.Build(filters);

  std::string error;
  if (!lcov.empty() && !qplug_cov::WriteLcov(report, test_name, lcov, &error)) {
    std::fprintf(stderr, "qplug-cov: %s: %s\n", lcov.c_str(), error.c_str());
    return 1;
  }
  if (!html.empty()) {
    if (report.sources.empty()) {
      std::fprintf(stderr, "qplug-cov: %s: no source lines to report (no module with debug info)\n",
                   html.c_str());
      return 1;
    }
    std::string tracefile = lcov;
    if (tracefile.empty() || tracefile == "-") {
      std::error_code ec;
      auto tmp = std::filesystem::temp_directory_path(ec);
      tracefile = (ec ? std::filesystem::path("/tmp") : tmp) / "qplug-cov-XXXXXX.info";
      int fd = mkstemps(tracefile.data(), 5);
      if (fd < 0) {
        std::fprintf(stderr, "qplug-cov: %s: cannot create a temporary tracefile\n",
                     tracefile.c_str());
        return 1;
      }
      close(fd);
      bool ok = qplug_cov::WriteLcov(report, test_name, tracefile, &error) &&
                qplug_cov::RunGenhtml(report, tracefile, html, &error);
      unlink(tracefile.c_str());
      if (!ok) {
        std::fprintf(stderr, "qplug-cov: %s: %s\n", html.c_str(), error.c_str());
        return 1;
      }
    } else if (!qplug_cov::RunGenhtml(report, tracefile, html, &error)) {
      std::fprintf(stderr, "qplug-cov: %s: %s\n", html.c_str(), error.c_str());
      return 1;
    }
  }
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
