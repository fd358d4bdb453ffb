#include "cli/option_values.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>

namespace qplug::cli::detail {
namespace {

struct LogItem {
  std::string_view name;
  std::string_view help;
};

// The items of QEMU's qemu_log_items list that qplug logs, in QEMU's order
// and with its help texts where they apply.
constexpr std::array kLogItems{
    LogItem{"out_asm", "show generated host assembly code for each compiled TB"},
    LogItem{"in_asm", "show target assembly code for each compiled TB"},
    LogItem{"exec", "show trace before each executed TB (lots of logs)"},
    LogItem{"cpu", "show CPU registers before entering a TB (lots of logs)"},
    LogItem{"nochain",
            "do not chain compiled TBs so that \"exec\" and \"cpu\" show complete traces"},
    LogItem{"plugin", "output from TCG plugins"},
    LogItem{"strace", "log every user-mode syscall, its input, and its result"},
    LogItem{"tid", "open a separate log file per thread; filename must contain '%d'"},
};

// QEMU's other items: naming one is an error that says why, rather than a
// log that stays empty.
constexpr std::string_view kNoTcgOps = "qplug translates without TCG micro ops";
constexpr std::array kUnsupportedLogItems{
    LogItem{"op", kNoTcgOps},
    LogItem{"op_opt", kNoTcgOps},
    LogItem{"op_ind", kNoTcgOps},
    LogItem{"op_plugin", kNoTcgOps},
    LogItem{"int", "not implemented"},
    LogItem{"fpu", "not implemented"},
    LogItem{"mmu", "qplug has no guest MMU"},
    LogItem{"pcall", "system emulation only"},
    LogItem{"cpu_reset", "qplug has no CPU model to reset"},
    LogItem{"unimp", "not implemented"},
    LogItem{"guest_errors", "not implemented"},
    LogItem{"page", "not implemented"},
};

std::string log_usage() {
  std::string text = "Log items (comma separated):\n";
  auto line = [&](std::string_view name, std::string_view help) {
    std::string padded(name);
    padded.resize(std::max<size_t>(padded.size(), 15), ' ');
    text += padded + " " + std::string(help) + "\n";
  };
  for (const LogItem& item : kLogItems) line(item.name, item.help);
  line("all", "enable all of the above but tid");
  text.pop_back();  // Error messages carry no trailing newline.
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// qemu_strtou64 with base 0: the whole of `text` is one number.
bool parse_u64(std::string_view text, uint64_t& value) {
  if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ') return false;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  value = std::strtoull(s.c_str(), &end, 0);
  return errno == 0 && end == s.c_str() + s.size();
}

Error fail(std::string_view source, const std::string& what) {
  return make_error("qplug: " + std::string(source) + ": " + what);
}

}  // namespace

Result<void> check_log_items(std::string_view items, std::string_view source) {
  for (std::string_view item : split(items, ',')) {
    if (item == "help") return make_error(log_usage(), 0);
    if (item == "all") continue;
    const auto named = [&](const LogItem& l) { return l.name == item; };
    if (std::any_of(kLogItems.begin(), kLogItems.end(), named)) continue;
    const auto* unsupported =
        std::find_if(kUnsupportedLogItems.begin(), kUnsupportedLogItems.end(), named);
    if (unsupported != kUnsupportedLogItems.end()) {
      return make_error("qplug: " + std::string(source) + " " + std::string(item) +
                        ": not supported (" + std::string(unsupported->help) +
                        "; '-d help' lists what qplug logs)");
    }
    if (item.starts_with("trace:")) {
      return make_error("qplug: " + std::string(source) + " " + std::string(item) +
                        ": not supported (qplug has no trace events)");
    }
    return make_error("qplug: " + std::string(source) + ": unknown log item '" + std::string(item) +
                      "'");
  }
  return {};
}

Result<std::vector<AddressRange>> parse_dfilter(std::string_view spec, std::string_view source) {
  std::vector<AddressRange> ranges;
  for (std::string_view r : split(spec, ',')) {
    // QEMU looks for '-' first, then '+', then "..".
    size_t op = r.find('-');
    size_t op_len = 1;
    if (op == std::string_view::npos) op = r.find('+');
    if (op == std::string_view::npos) {
      op = r.find("..");
      op_len = 2;
    }
    if (op == std::string_view::npos)
      return fail(source, "Bad range specifier '" + std::string(r) + "'");
    const std::string op_text(r.substr(op, op_len));
    uint64_t left, right;
    if (!parse_u64(r.substr(0, op), left))
      return fail(source,
                  "Invalid number to the left of " + op_text + " in '" + std::string(r) + "'");
    if (!parse_u64(r.substr(op + op_len), right))
      return fail(source,
                  "Invalid number to the right of " + op_text + " in '" + std::string(r) + "'");
    // A size of 0, or bounds that wrap around: QEMU's "Invalid range".
    AddressRange range{left, right};
    bool valid = left <= right;
    if (op_text != "..") {
      valid = right != 0 && (op_text == "+" ? right - 1 <= ~left : right - 1 <= left);
      range = op_text == "+" ? AddressRange{left, left + (right - 1)}
                             : AddressRange{left - (right - 1), left};
    }
    if (!valid) return fail(source, "Invalid range '" + std::string(r) + "'");
    ranges.push_back(range);
  }
  return ranges;
}

Result<uint64_t> parse_stack_size(std::string_view spec, std::string_view source) {
  const std::string s(spec);
  char* end = nullptr;
  errno = 0;
  uint64_t size = std::strtoull(s.c_str(), &end, 0);
  const std::string_view suffix(end);
  uint64_t unit = 1;
  if (suffix == "M")
    unit = uint64_t{1} << 20;
  else if (suffix == "k" || suffix == "K")
    unit = uint64_t{1} << 10;
  else if (!suffix.empty())
    end = nullptr;
  if (errno != 0 || end == s.c_str() || end == nullptr || size == 0 || s[0] == '-' ||
      size > (uint64_t{1} << 40) / unit)
    return fail(source, "invalid stack size '" + s + "' (bytes, or with a k or M suffix)");
  return size * unit;
}

Result<void> check_cpu(std::string_view model, std::string_view source) {
  if (model == "help" || model == "?") {
    return make_error(
        "Available CPUs:\n"
        "  host  the host's CPU: guest code runs on it natively, CPUID is its own\n"
        "  max   the same as host under qplug",
        0);
  }
  if (model == "host" || model == "max") return {};
  return fail(source, "CPU model '" + std::string(model) +
                          "' not supported: guest code runs on the host's CPU "
                          "('-cpu help' lists the models)");
}

Result<void> check_log_file_template(const std::string& file, bool per_thread) {
  const size_t percent = file.find('%');
  if (percent != std::string::npos && (percent + 1 >= file.size() || file[percent + 1] != 'd' ||
                                       file.find('%', percent + 2) != std::string::npos))
    return make_error("qplug: -D " + file + ": bad log file template (one %d at most)");
  if (per_thread && percent == std::string::npos)
    return make_error("qplug: -d tid: the -D file name must contain '%d' (the thread id)");
  return {};
}

}  // namespace qplug::cli::detail
