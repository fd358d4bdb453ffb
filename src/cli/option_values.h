// Parsers for the values of qplug's options, in qemu-x86_64's syntax and with
// its errors where it has them (internal to src/cli).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "qplug/result.h"

namespace qplug::cli::detail {

// -d: every item is one qplug logs ("all", or a name of log_items()); an
// item QEMU knows but qplug cannot log is an error naming it and why.
// "help" is the list of items as an error with exit status 0.
Result<void> check_log_items(std::string_view items, std::string_view source);

// -dfilter: QEMU's ranges, "start+size", "end-size" or "first..last", comma
// separated.
Result<std::vector<AddressRange>> parse_dfilter(std::string_view spec, std::string_view source);

// -s: bytes, with an optional k, K or M suffix; not zero.
Result<uint64_t> parse_stack_size(std::string_view spec, std::string_view source);

// -cpu: "host" or "max" (the code runs on the host's CPU either way); "help"
// lists them as an error with exit status 0.
Result<void> check_cpu(std::string_view model, std::string_view source);

// -D with -d tid: the file name needs one "%d" (the thread id); without tid a
// "%d" stands for the process id. No other '%' is allowed.
Result<void> check_log_file_template(const std::string& file, bool per_thread);

}  // namespace qplug::cli::detail
