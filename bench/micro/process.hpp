// Running a guest program as a subprocess and timing it, for the microbenchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qplug_bench {

using Argv = std::vector<std::string>;

// One finished run: wall-clock seconds and the child's CPU time (user + system).
struct RunTime {
  double wall_s = 0;
  double cpu_s = 0;
};

// Runs argv (argv[0] a path, no PATH lookup) with stdin and stdout on
// /dev/null and stderr in a file. On a spawn failure, a signal or a non-zero
// exit status, returns nothing and sets *error to a message that includes the
// first lines of the child's stderr.
std::optional<RunTime> RunTimed(const Argv& argv, std::string* error);

// A private directory for the runs' logs, removed at exit.
const std::string& ScratchDir();

// The whole file, or nothing when it cannot be read.
std::optional<std::string> ReadFile(const std::string& path);

// The number after "key=" in text (the last occurrence), if any.
std::optional<uint64_t> FindCount(const std::string& text, const std::string& key);

// The median of the values (the mean of the middle two for an even count).
double Median(std::vector<double> values);

// Joined with spaces, for messages.
std::string Join(const Argv& argv);

}  // namespace qplug_bench
