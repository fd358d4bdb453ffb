#include "cli/options.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

namespace qplug::cli {
namespace {

enum class OptId {
  kHelp,
  kVersion,
  kSetEnv,
  kUnsetEnv,
  kArgv0,
  kPrefix,
  kStrace,
  kLog,
  kLogFile,
  kPlugin,
  kNoFollowExec,
  kLogAppend,
  kOneInsnPerTb,
  kGdb,
  kIgnored,  // qemu-x86_64 options with no meaning for a same-ISA translator
};

struct OptionDef {
  std::string_view name;
  bool has_arg;
  OptId id;
};

constexpr std::array kOptionTable{
    OptionDef{"h", false, OptId::kHelp},
    OptionDef{"help", false, OptId::kHelp},
    OptionDef{"version", false, OptId::kVersion},
    OptionDef{"E", true, OptId::kSetEnv},
    OptionDef{"U", true, OptId::kUnsetEnv},
    OptionDef{"0", true, OptId::kArgv0},
    OptionDef{"L", true, OptId::kPrefix},
    OptionDef{"strace", false, OptId::kStrace},
    OptionDef{"d", true, OptId::kLog},
    OptionDef{"D", true, OptId::kLogFile},
    OptionDef{"plugin", true, OptId::kPlugin},
    OptionDef{"no-follow-exec", false, OptId::kNoFollowExec},
    OptionDef{"log-append", false, OptId::kLogAppend},
    OptionDef{"s", true, OptId::kIgnored},
    OptionDef{"B", true, OptId::kIgnored},
    OptionDef{"R", true, OptId::kIgnored},
    OptionDef{"cpu", true, OptId::kIgnored},
    OptionDef{"seed", true, OptId::kIgnored},
    OptionDef{"p", true, OptId::kIgnored},
    OptionDef{"one-insn-per-tb", false, OptId::kOneInsnPerTb},
    OptionDef{"singlestep", false, OptId::kOneInsnPerTb},  // its name before QEMU 8.1
    OptionDef{"g", true, OptId::kGdb},
};

struct LogItem {
  std::string_view name;
  std::string_view help;
};

// QEMU's whole qemu_log_items list is accepted so that scripts written for
// qemu-x86_64 keep working even where qplug has nothing to log for an item.
constexpr std::array kLogItems{
    LogItem{"out_asm", "show generated host assembly code for each compiled TB"},
    LogItem{"in_asm", "show target assembly code for each compiled TB"},
    LogItem{"op", "show micro ops for each compiled TB"},
    LogItem{"op_opt", "show micro ops after optimization"},
    LogItem{"op_ind", "show micro ops before indirect lowering"},
    LogItem{"op_plugin", "show micro ops before plugin injection"},
    LogItem{"int", "show interrupts/exceptions in short format"},
    LogItem{"exec", "show trace before each executed TB (lots of logs)"},
    LogItem{"cpu", "show CPU registers before entering a TB (lots of logs)"},
    LogItem{"fpu", "include FPU registers in the 'cpu' logging"},
    LogItem{"mmu", "log MMU-related activities"},
    LogItem{"pcall", "x86 only: show protected mode far calls/returns/exceptions"},
    LogItem{"cpu_reset", "show CPU state before CPU resets"},
    LogItem{"unimp", "log unimplemented functionality"},
    LogItem{"guest_errors", "log when the guest OS does something invalid"},
    LogItem{"page", "dump pages at beginning of user mode emulation"},
    LogItem{"nochain",
            "do not chain compiled TBs so that \"exec\" and \"cpu\" show complete traces"},
    LogItem{"plugin", "output from TCG plugins"},
    LogItem{"strace", "log every user-mode syscall, its input, and its result"},
    LogItem{"tid", "open a separate log file per thread; filename must contain '%d'"},
};

std::string log_usage() {
  std::string text = "Log items (comma separated):\n";
  auto line = [&](std::string_view name, std::string_view help) {
    std::string padded(name);
    padded.resize(std::max<size_t>(padded.size(), 15), ' ');
    text += padded + " " + std::string(help) + "\n";
  };
  for (const LogItem& item : kLogItems) line(item.name, item.help);
  line("all", "enable all of the above");
  line("trace:PATTERN", "enable trace events (accepted, ignored)");
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

std::optional<std::string_view> env_lookup(const std::vector<std::string>& environ,
                                           std::string_view name) {
  // First match, as getenv() does.
  for (const std::string& entry : environ) {
    std::string_view e = entry;
    if (e.size() > name.size() && e.substr(0, name.size()) == name && e[name.size()] == '=') {
      return e.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

bool is_help_option(std::string_view s) { return s == "help" || s == "?"; }

// qapi_bool_parse's vocabulary: the deprecated arg= form applies only to
// values that are not booleans.
bool is_bool_value(std::string_view s) {
  for (std::string_view b : {"on", "yes", "true", "y", "off", "no", "false", "n"}) {
    if (s == b) return true;
  }
  return false;
}

// QEMU's id_wellformed().
bool id_wellformed(std::string_view id) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (id.empty() || !alpha(id[0])) return false;
  for (char c : id.substr(1)) {
    if (!alpha(c) && !digit(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

struct OptElement {
  std::string name;
  std::string value;
};

// One step of QemuOpts' get_opt_name_value(): `pos` is advanced past the
// element and its separating comma. Names cannot contain ',' or '='; values
// end at a single ',' and ",," stands for one literal comma.
OptElement next_opt_element(std::string_view params, size_t& pos, const char* implied_name,
                            std::vector<std::string>* warnings) {
  OptElement element;
  std::string_view rest = params.substr(pos);
  size_t len = rest.find_first_of("=,");
  if (len == std::string_view::npos) len = rest.size();
  auto read_value = [&](size_t p) {
    while (p < params.size()) {
      if (params[p] == ',') {
        if (p + 1 < params.size() && params[p + 1] == ',') {
          element.value.push_back(',');
          p += 2;
          continue;
        }
        break;
      }
      element.value.push_back(params[p++]);
    }
    return p;
  };
  if (len == rest.size() || rest[len] != '=') {
    if (implied_name != nullptr) {
      element.name = implied_name;
      pos = read_value(pos);
    } else {
      element.name = std::string(rest.substr(0, len));
      pos += len;
      std::string_view prefix;
      bool help = false;
      if (element.name.starts_with("no")) {
        element.name.erase(0, 2);
        element.value = "off";
        prefix = "no";
      } else {
        element.value = "on";
        help = is_help_option(element.name);
      }
      if (!help && warnings != nullptr) {
        warnings->push_back("qplug: warning: short-form boolean option '" + std::string(prefix) +
                            element.name + "' deprecated");
        // QEMU's own special case for the inverted "nodelay" socket option.
        if (element.name == "delay") {
          warnings->push_back(std::string("Please use nodelay=") + (prefix.empty() ? "off" : "on") +
                              " instead");
        } else {
          warnings->push_back("Please use " + element.name + "=" + element.value + " instead");
        }
      }
    }
  } else {
    element.name = std::string(rest.substr(0, len));
    pos = read_value(pos + len + 1);
  }
  if (pos < params.size()) ++pos;  // the separating comma
  return element;
}

std::string escape_opt_value(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    escaped.push_back(c);
    if (c == ',') escaped.push_back(',');
  }
  return escaped;
}

class Parser {
 public:
  explicit Parser(Options& options) : o_(options) {}

  // qemu_plugin_opt_parse() followed by plugin_add() for each element.
  Result<void> plugin(std::string_view spec, std::string_view source) {
    auto fail = [&](std::string_view what) {
      return make_error("qplug: " + std::string(source) + ": " + std::string(what));
    };
    // opts_parse_id(): the first element named id, parsed without the implied key.
    for (size_t pos = 0; pos < spec.size();) {
      OptElement e = next_opt_element(spec, pos, nullptr, nullptr);
      if (e.name == "id") {
        if (!id_wellformed(e.value)) return fail("Parameter 'id' expects an identifier");
        break;
      }
    }
    std::vector<OptElement> elements;
    const char* implied = "file";
    for (size_t pos = 0; pos < spec.size();) {
      OptElement e = next_opt_element(spec, pos, implied, &o_.warnings);
      implied = nullptr;
      if (e.name != "id") elements.push_back(std::move(e));
    }
    PluginSpec* current = nullptr;
    for (OptElement& e : elements) {
      if (is_help_option(e.value)) {
        o_.plugin_help = true;
        return {};
      }
      if (e.name == "file") {
        if (e.value.empty()) return fail("file requires a non-empty argument");
        current = nullptr;
        for (PluginSpec& p : o_.plugins) {
          if (p.path == e.value) {
            current = &p;
            break;
          }
        }
        if (current == nullptr) current = &o_.plugins.emplace_back(PluginSpec{e.value, {}});
        continue;
      }
      if (current == nullptr) return fail("missing earlier '-plugin file=' option");
      std::string full;
      if (e.name == "arg" && !is_bool_value(e.value)) {
        full = e.value.find('=') == std::string::npos ? e.value + "=on" : e.value;
        o_.warnings.push_back("qplug: warning: using 'arg=" + e.value + "' is deprecated");
        o_.warnings.push_back("Please use '" + full + "' directly");
      } else {
        full = e.name + "=" + e.value;
      }
      current->args.push_back(std::move(full));
    }
    return {};
  }

  // qemu_str_to_log_mask(), with "help" answered as a successful exit.
  Result<void> log(std::string_view items, std::string_view source) {
    for (std::string_view item : split(items, ',')) {
      if (item == "help") return make_error(log_usage(), 0);
      bool known = item == "all" || item.starts_with("trace:");
      for (const LogItem& l : kLogItems) known = known || l.name == item;
      if (!known) {
        return make_error("qplug: " + std::string(source) + ": unknown log item '" +
                          std::string(item) + "'");
      }
    }
    o_.log_items = std::string(items);
    return {};
  }

  // A TCP port (1-65535) or, as QEMU also takes, the path of a Unix socket.
  Result<void> gdb(std::string_view value, std::string_view source) {
    bool digits = !value.empty();
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (value.empty() || (digits && (value.size() > 5 || std::stoi(std::string(value)) == 0 ||
                                     std::stoi(std::string(value)) > 65535))) {
      return make_error("qplug: " + std::string(source) + ": '" + std::string(value) +
                        "' is not a TCP port (1-65535) or a socket path");
    }
    o_.gdb = std::string(value);
    return {};
  }

  Result<void> set_env(std::string_view list) {
    // QEMU splits on every comma, so a value can never contain one.
    for (std::string_view token : split(list, ',')) {
      if (token.find('=') == std::string_view::npos) {
        return make_error("qplug: -E: '" + std::string(token) + "' is not of the form var=value");
      }
      o_.set_env.emplace_back(token);
    }
    return {};
  }

  Result<void> unset_env(std::string_view list) {
    for (std::string_view token : split(list, ',')) {
      if (token.find('=') != std::string_view::npos) {
        return make_error("qplug: -U: '" + std::string(token) + "' is not a variable name");
      }
      o_.unset_env.emplace_back(token);
    }
    return {};
  }

  Result<void> option(OptId id, std::string_view value) {
    switch (id) {
      case OptId::kHelp:
        o_.help = true;
        return {};
      case OptId::kVersion:
        o_.version = true;
        return {};
      case OptId::kSetEnv:
        return set_env(value);
      case OptId::kUnsetEnv:
        return unset_env(value);
      case OptId::kArgv0:
        o_.argv0 = std::string(value);
        o_.argv0_set = true;
        return {};
      case OptId::kPrefix:
        o_.interp_prefix = std::string(value);
        return {};
      case OptId::kStrace:
        o_.strace = true;
        return {};
      case OptId::kLog:
        return log(value, "-d");
      case OptId::kLogFile:
        o_.log_file = std::string(value);
        return {};
      case OptId::kPlugin:
        return plugin(value, "-plugin");
      case OptId::kNoFollowExec:
        o_.follow_exec = false;
        return {};
      case OptId::kLogAppend:
        o_.log_append = true;
        return {};
      case OptId::kOneInsnPerTb:
        o_.one_insn_per_tb = true;
        return {};
      case OptId::kGdb:
        return gdb(value, "-g");
      case OptId::kIgnored:
        return {};
    }
    return {};
  }

  bool finished() const { return o_.help || o_.version || o_.plugin_help; }

 private:
  Options& o_;
};

}  // namespace

Result<Options> parse_command_line(int argc, const char* const* argv,
                                   const std::vector<std::string>& environ) {
  Options options;
  Parser parser(options);

  // The environment is applied first so that the command line overrides it,
  // and QEMU_PLUGIN's plugin comes before the command line's, as in QEMU.
  if (auto v = env_lookup(environ, "QEMU_LD_PREFIX")) options.interp_prefix = std::string(*v);
  if (auto v = env_lookup(environ, "QEMU_LOG")) {
    if (auto r = parser.log(*v, "QEMU_LOG"); !r) return r.error();
  }
  if (auto v = env_lookup(environ, "QEMU_LOG_FILENAME")) options.log_file = std::string(*v);
  if (env_lookup(environ, "QEMU_STRACE")) options.strace = true;
  if (env_lookup(environ, "QEMU_ONE_INSN_PER_TB") || env_lookup(environ, "QEMU_SINGLESTEP"))
    options.one_insn_per_tb = true;
  if (auto v = env_lookup(environ, "QEMU_GDB")) {
    if (auto r = parser.gdb(*v, "QEMU_GDB"); !r) return r.error();
  }
  if (auto v = env_lookup(environ, "QEMU_PLUGIN")) {
    if (auto r = parser.plugin(*v, "QEMU_PLUGIN"); !r) return r.error();
  }
  if (parser.finished()) return options;

  int i = 1;
  while (i < argc) {
    std::string_view arg = argv[i];
    if (arg.empty() || arg[0] != '-') break;
    ++i;
    if (arg == "--") break;
    std::string_view name = arg.substr(1);
    if (!name.empty() && name[0] == '-') name.remove_prefix(1);
    const OptionDef* def = nullptr;
    for (const OptionDef& d : kOptionTable) {
      if (d.name == name) def = &d;
    }
    if (def == nullptr) {
      return make_error("qplug: unknown option '" + std::string(arg) + "' (try 'qplug -h')");
    }
    std::string_view value;
    if (def->has_arg) {
      if (i >= argc) {
        return make_error("qplug: option '" + std::string(arg) + "' needs an argument");
      }
      value = argv[i++];
    }
    if (auto r = parser.option(def->id, value); !r) return r.error();
    // qemu-x86_64 acts on these at once, so later arguments are never looked at.
    if (parser.finished()) return options;
  }

  if (i >= argc) return make_error("qplug: no program given (try 'qplug -h')");
  options.program = argv[i];
  options.guest_argv.assign(argv + i, argv + argc);
  return options;
}

std::vector<std::string> options_to_args(const Options& options) {
  std::vector<std::string> args;
  auto add = [&](std::string_view option, std::string_view value) {
    args.emplace_back(option);
    args.emplace_back(value);
  };
  for (const std::string& e : options.set_env) add("-E", e);
  for (const std::string& u : options.unset_env) add("-U", u);
  if (options.argv0_set) add("-0", options.argv0);
  if (!options.interp_prefix.empty()) add("-L", options.interp_prefix);
  if (options.strace) args.emplace_back("-strace");
  if (!options.log_items.empty()) add("-d", options.log_items);
  if (!options.log_file.empty()) add("-D", options.log_file);
  for (const PluginSpec& plugin : options.plugins) {
    std::string spec = "file=" + escape_opt_value(plugin.path);
    for (const std::string& arg : plugin.args) {
      std::string_view a = arg;
      size_t eq = a.find('=');
      spec += ',';
      // A parsed "arg=x" (x not a boolean) can only have come from the
      // deprecated form "arg=arg=x"; writing it plainly would reparse as "x=on".
      if (eq != std::string_view::npos && a.substr(0, eq) == "arg" &&
          !is_bool_value(a.substr(eq + 1))) {
        spec += "arg=";
      }
      spec += escape_opt_value(a);
    }
    add("-plugin", spec);
  }
  if (!options.follow_exec) args.emplace_back("-no-follow-exec");
  if (options.log_append) args.emplace_back("-log-append");
  if (options.one_insn_per_tb) args.emplace_back("-one-insn-per-tb");
  // The program may itself start with '-'.
  args.emplace_back("--");
  return args;
}

bool has_log_item(std::string_view items, std::string_view item) {
  for (std::string_view i : split(items, ','))
    if (i == item || i == "all") return true;
  return false;
}

std::string usage_text(const ToolInfo& tool) {
  std::string text = "usage: " + tool.name + " [options] [--] program [arguments...]\n";
  text += R"(Run an x86-64 Linux program under dynamic binary translation, with QEMU TCG
plugins as qemu-x86_64 runs them. Options may also be written --option.
)";
  // A custom tool's plugins run whether or not -plugin names them: say so, or
  // a user looks for how to turn them on.
  if (!tool.built_in.empty()) {
    text += "Built-in plugins, always active (-plugin NAME,k=v passes them arguments):";
    for (const std::string& name : tool.built_in) text += " " + name;
    text += tool.loads_so_plugins ? "\n" : "\n(this tool loads no .so plugins)\n";
  }
  return text + R"(
Options:
  -h, -help              print this help and exit
  -version               print the version and exit
  -plugin file=F[,k=v]   load plugin F and pass it k=v ('-plugin help' for details)
  -d item[,item...]      log the given items, e.g. plugin,strace ('-d help' lists them)
  -D logfile             write the log to logfile instead of stderr
  -strace                log every system call and its result
  -E var=value[,...]     set environment variables for the program
  -U var[,...]           remove variables from the program's environment
  -0 argv0               hand argv0 to the program as its argv[0]
  -L path                set the ELF interpreter prefix to path
  -no-follow-exec        do not translate programs started by execve (qplug only)
  -log-append            append to the -D file instead of truncating it (qplug only)
  -one-insn-per-tb       translate one guest instruction per block, so that plugins
                         see single-instruction blocks; -singlestep is its old name
  -g port                wait for gdb to connect on TCP port (or a Unix socket path)
                         before the first instruction: gdb's `target remote :port`
  -s size, -B address, -R size, -cpu model, -seed n, -p pagesize
                         accepted for compatibility with qemu-x86_64, and ignored

Environment (options on the command line take precedence):
  QEMU_PLUGIN=spec       like -plugin; loaded before command-line plugins
  QEMU_LOG=items         like -d
  QEMU_LOG_FILENAME=file like -D
  QEMU_STRACE            like -strace, whatever its value
  QEMU_ONE_INSN_PER_TB   like -one-insn-per-tb, whatever its value (also QEMU_SINGLESTEP)
  QEMU_LD_PREFIX=path    like -L
  QEMU_GDB=port          like -g
  QPLUG_STATS            at exit, print translation and code cache statistics (qplug only)
  QPLUG_PERF_MAP=1       name translated code in /tmp/perf-PID.map for perf (qplug only)
)";
}

}  // namespace qplug::cli
