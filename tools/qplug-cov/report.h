// qplug-cov's outputs: the text summary, the lcov tracefile and genhtml's HTML.
#pragma once

#include <cstdio>
#include <string>

#include "coverage.h"

namespace qplug_cov {

void PrintSummary(const Report& report, bool functions, FILE* out);

// Writes an lcov tracefile; false (with *error) if the file cannot be written.
bool WriteLcov(const Report& report, const std::string& test_name, const std::string& path,
               std::string* error);

// Runs genhtml on an lcov tracefile to make dir/index.html.
bool RunGenhtml(const Report& report, const std::string& tracefile, const std::string& dir,
                std::string* error);

}  // namespace qplug_cov
