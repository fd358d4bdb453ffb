// Command line of `qplug`, compatible with qemu-x86_64's where options exist.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qplug/result.h"

namespace qplug::cli {

// One `-plugin` occurrence after QemuOpts parsing (docs/user-guide.md, plugin arguments).
struct PluginSpec {
  std::string path;               // file=
  std::vector<std::string> args;  // "key=value" strings, in order
};

// An address range of -dfilter, both ends included.
struct AddressRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

struct Options {
  std::string program;                  // the guest program path
  std::vector<std::string> guest_argv;  // argv[0..] handed to the guest
  std::vector<std::string> set_env;     // -E var=value (may repeat; comma lists allowed as QEMU)
  std::vector<std::string> unset_env;   // -U var
  std::string argv0;                    // -0: overrides guest argv[0] if not empty
  bool argv0_set = false;
  std::string interp_prefix;          // -L path
  bool strace = false;                // -strace
  std::string log_items;              // -d item[,...]  ("plugin", "strace", ... QEMU's names)
  std::string log_file;               // -D file ("%d": the process id, with -d tid the thread's)
  std::string dfilter_spec;           // -dfilter as given
  std::vector<AddressRange> dfilter;  // its ranges: in_asm, out_asm, exec, cpu log only these pcs
  std::string uname_release;          // -r: what uname(2) says the kernel release is
  uint64_t stack_size = 0;            // -s: the initial stack's size (0: from RLIMIT_STACK)
  bool perfmap = false;               // -perfmap: /tmp/perf-PID.map (as QPLUG_PERF_MAP=1)
  std::vector<PluginSpec> plugins;    // -plugin (same path twice = args appended)
  bool follow_exec = true;            // -no-follow-exec turns off (qplug-specific)
  bool log_append = false;            // -log-append: followed children share the -D file
  bool one_insn_per_tb = false;       // -one-insn-per-tb (-singlestep)
  std::string gdb;                    // -g: a TCP port or Unix socket path; "" no gdb stub
  std::vector<std::string> warnings;  // deprecation warnings to print (e.g. arg= form)
  bool help = false;                  // -h / -help
  bool version = false;               // -version
  bool plugin_help = false;           // -plugin help
};

// Parses argv (argv[0] is qplug itself). Errors are one line, e.g.
// "qplug: -plugin: missing earlier '-plugin file=' option", exit status 1.
// Options may be given as -opt or --opt; "--" ends options. The first
// non-option argument is the program; everything after it goes to the guest.
// The QEMU_* environment variables of qemu-x86_64's options are read first,
// as QEMU reads them (QEMU_PLUGIN adds a plugin, QEMU_SET_ENV variables...);
// a variable for an option qplug rejects is a warning, not an error.
Result<Options> parse_command_line(int argc, const char* const* argv,
                                   const std::vector<std::string>& environ);

// True if the -d list `items` names `item` ("all" names every item but tid).
bool has_log_item(std::string_view items, std::string_view item);

// True if the -dfilter ranges let `pc` be logged (no ranges: every pc).
bool in_dfilter(const Options& options, uint64_t pc);

// Rebuilds an argument vector that reproduces `options` minus the program and
// its arguments, for re-executing qplug on a guest execve. Without -g: a
// program started by execve is not debugged.
std::vector<std::string> options_to_args(const Options& options);

// What `-h` says about the tool it runs in: its name (argv[0]'s basename) and,
// for a tool built with qplug::run, the static plugins compiled into it.
struct ToolInfo {
  std::string name = "qplug";
  std::vector<std::string> built_in;  // names of its static plugins
  bool loads_so_plugins = true;       // QemuPlugins is in its list
};

// The text of `qplug -h`: every option on one screen.
std::string usage_text(const ToolInfo& tool = {});

}  // namespace qplug::cli
