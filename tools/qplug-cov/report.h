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

// Removes the sources that cannot be read from here (relative DWARF paths of
// system libraries, files of another machine), whose pages would be empty;
// returns how many, and the first in *example.
size_t DropUnreadableSources(Report* report, std::string* example);

// Runs genhtml on an lcov tracefile to make dir/index.html.
bool RunGenhtml(const Report& report, const std::string& tracefile, const std::string& dir,
                std::string* error);

}  // namespace qplug_cov
