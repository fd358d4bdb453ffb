#include "cli/options.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "cli/option_values.h"

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
  kDfilter,
  kPlugin,
  kNoFollowExec,
  kLogAppend,
  kOneInsnPerTb,
  kUname,
  kStackSize,
  kCpu,
  kPerfmap,
  kGdb,
  kRejected,  // qemu-x86_64 options qplug cannot honour: an error naming the option and why
};

struct OptionDef {
  std::string_view name;
  bool has_arg;
  OptId id;
  std::string_view env = {};     // qemu-x86_64's environment variable for it
  std::string_view reason = {};  // kRejected: why
};

// qemu-x86_64's table (linux-user/main.c) plus qplug's own options. Not read:
// QEMU_VERSION (build scripts set it for other purposes, and QEMU would exit
// on it).
constexpr std::array kOptionTable{
    OptionDef{"h", false, OptId::kHelp},
    OptionDef{"help", false, OptId::kHelp},
    OptionDef{"version", false, OptId::kVersion},
    OptionDef{"L", true, OptId::kPrefix, "QEMU_LD_PREFIX"},
    OptionDef{"s", true, OptId::kStackSize, "QEMU_STACK_SIZE"},
    OptionDef{"cpu", true, OptId::kCpu, "QEMU_CPU"},
    OptionDef{"E", true, OptId::kSetEnv, "QEMU_SET_ENV"},
    OptionDef{"U", true, OptId::kUnsetEnv, "QEMU_UNSET_ENV"},
    OptionDef{"0", true, OptId::kArgv0, "QEMU_ARGV0"},
    OptionDef{"r", true, OptId::kUname, "QEMU_UNAME"},
    OptionDef{"B", true, OptId::kRejected, "QEMU_GUEST_BASE",
              "guest addresses are host addresses, there is no guest base"},
    OptionDef{"R", true, OptId::kRejected, "QEMU_RESERVED_VA",
              "the guest uses the host's address space, nothing is reserved for it"},
    OptionDef{"t", true, OptId::kRejected, "QEMU_RTSIG_MAP",
              "guest signals are host signals, real-time ones included"},
    OptionDef{"d", true, OptId::kLog, "QEMU_LOG"},
    OptionDef{"dfilter", true, OptId::kDfilter, "QEMU_DFILTER"},
    OptionDef{"D", true, OptId::kLogFile, "QEMU_LOG_FILENAME"},
    OptionDef{"one-insn-per-tb", false, OptId::kOneInsnPerTb, "QEMU_ONE_INSN_PER_TB"},
    OptionDef{"singlestep", false, OptId::kOneInsnPerTb, "QEMU_SINGLESTEP"},  // before QEMU 8.1
    OptionDef{"tb-size", true, OptId::kRejected, "QEMU_TB_SIZE",
              "the code cache grows and is flushed as needed"},
    OptionDef{"strace", false, OptId::kStrace, "QEMU_STRACE"},
    OptionDef{"seed", true, OptId::kRejected, "QEMU_RAND_SEED",
              "the guest's random bytes come from the host"},
    OptionDef{"trace", true, OptId::kRejected, "QEMU_TRACE", "qplug has no trace events"},
    OptionDef{"plugin", true, OptId::kPlugin, "QEMU_PLUGIN"},
    OptionDef{"perfmap", false, OptId::kPerfmap, "QEMU_PERFMAP"},
    OptionDef{"jitdump", false, OptId::kRejected, "QEMU_JITDUMP",
              "not implemented; -perfmap writes perf's map"},
    OptionDef{"p", true, OptId::kRejected, {}, "the page size is the host's"},
    OptionDef{"no-follow-exec", false, OptId::kNoFollowExec},
    OptionDef{"log-append", false, OptId::kLogAppend},
    OptionDef{"g", true, OptId::kGdb, "QEMU_GDB"},
};

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
    if (auto r = detail::check_log_items(items, source); !r) return r;
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

  Result<void> set_env(std::string_view list, std::string_view source) {
    // QEMU splits on every comma, so a value can never contain one.
    for (std::string_view token : split(list, ',')) {
      if (token.find('=') == std::string_view::npos) {
        return make_error("qplug: " + std::string(source) + ": '" + std::string(token) +
                          "' is not of the form var=value");
      }
      o_.set_env.emplace_back(token);
    }
    return {};
  }

  Result<void> unset_env(std::string_view list, std::string_view source) {
    for (std::string_view token : split(list, ',')) {
      if (token.find('=') != std::string_view::npos) {
        return make_error("qplug: " + std::string(source) + ": '" + std::string(token) +
                          "' is not a variable name");
      }
      o_.unset_env.emplace_back(token);
    }
    return {};
  }

  // `source` names the option as the user gave it ("-E", or "QEMU_SET_ENV").
  Result<void> option(const OptionDef& def, std::string_view value, std::string_view source) {
    switch (def.id) {
      case OptId::kHelp:
        o_.help = true;
        return {};
      case OptId::kVersion:
        o_.version = true;
        return {};
      case OptId::kSetEnv:
        return set_env(value, source);
      case OptId::kUnsetEnv:
        return unset_env(value, source);
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
        return log(value, source);
      case OptId::kLogFile:
        o_.log_file = std::string(value);
        return {};
      case OptId::kDfilter: {
        auto ranges = detail::parse_dfilter(value, source);
        if (!ranges) return ranges.error();
        o_.dfilter = std::move(*ranges);
        o_.dfilter_spec = std::string(value);
        return {};
      }
      case OptId::kPlugin:
        return plugin(value, source);
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
        return gdb(value, source);
      case OptId::kUname:
        o_.uname_release = std::string(value);
        return {};
      case OptId::kStackSize: {
        auto size = detail::parse_stack_size(value, source);
        if (!size) return size.error();
        o_.stack_size = *size;
        return {};
      }
      case OptId::kCpu:
        return detail::check_cpu(value, source);
      case OptId::kPerfmap:
        o_.perfmap = true;
        return {};
      case OptId::kRejected:
        return make_error("qplug: " + std::string(source) + ": not supported (" +
                          std::string(def.reason) + ")");
    }
    return {};
  }

  bool finished() const { return o_.help || o_.version || o_.plugin_help; }

 private:
  Options& o_;
};

// What QEMU checks once every option is known (qemu_set_log_filename_flags).
Result<Options> check_combination(Options& options) {
  if (options.help || options.version || options.plugin_help) return std::move(options);
  const bool per_thread = has_log_item(options.log_items, "tid");
  if (per_thread || !options.log_file.empty()) {
    if (auto r = detail::check_log_file_template(options.log_file, per_thread); !r)
      return r.error();
  }
  return std::move(options);
}

}  // namespace

Result<Options> parse_command_line(int argc, const char* const* argv,
                                   const std::vector<std::string>& environ) {
  Options options;
  Parser parser(options);

  // The environment is applied first, in qemu-x86_64's table order, so that
  // the command line overrides it, and QEMU_PLUGIN's plugin comes before the
  // command line's, as in QEMU. A variable for an option qplug cannot honour
  // may be set for qemu-x86_64's sake: a warning, and the run goes on.
  for (const OptionDef& def : kOptionTable) {
    if (def.env.empty()) continue;
    const auto v = env_lookup(environ, def.env);
    if (!v) continue;
    if (def.id == OptId::kRejected) {
      options.warnings.push_back("qplug: warning: " + std::string(def.env) +
                                 " ignored: not supported (" + std::string(def.reason) + ")");
      continue;
    }
    if (auto r = parser.option(def, *v, def.env); !r) {
      // A model qemu-x86_64 has and qplug has not: the host's CPU runs the code.
      if (def.id == OptId::kCpu && r.error().exit_status != 0) {
        options.warnings.push_back("qplug: warning: " + r.error().message.substr(7) + "; ignored");
        continue;
      }
      return r.error();
    }
  }
  if (parser.finished()) return check_combination(options);

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
    if (auto r = parser.option(*def, value, "-" + std::string(name)); !r) return r.error();
    // qemu-x86_64 acts on these at once, so later arguments are never looked at.
    if (parser.finished()) return options;
  }

  if (i >= argc) return make_error("qplug: no program given (try 'qplug -h')");
  options.program = argv[i];
  options.guest_argv.assign(argv + i, argv + argc);
  return check_combination(options);
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
  if (!options.dfilter_spec.empty()) add("-dfilter", options.dfilter_spec);
  if (!options.uname_release.empty()) add("-r", options.uname_release);
  if (options.stack_size != 0) add("-s", std::to_string(options.stack_size));
  if (options.perfmap) args.emplace_back("-perfmap");
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
    if (i == item || (i == "all" && item != "tid")) return true;
  return false;
}

bool in_dfilter(const Options& options, uint64_t pc) {
  if (options.dfilter.empty()) return true;
  for (const AddressRange& r : options.dfilter)
    if (pc >= r.first && pc <= r.last) return true;
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
Options: (in parentheses, the environment variable that does the same)
  -h, -help              print this help and exit
  -version               print the version and exit
  -plugin file=F[,k=v]   load plugin F and pass it k=v ('-plugin help') (QEMU_PLUGIN)
  -d item[,item...]      log the given items, e.g. plugin,strace ('-d help') (QEMU_LOG)
  -D logfile             log to logfile, not stderr; %d: the pid, or the tid with -d tid
                         (QEMU_LOG_FILENAME)
  -dfilter range[,...]   in_asm, out_asm, exec and cpu only log pcs in the ranges:
                         start+size, end-size or first..last (QEMU_DFILTER)
  -strace                log every system call and its result (QEMU_STRACE)
  -E var=value[,...]     set environment variables for the program (QEMU_SET_ENV)
  -U var[,...]           remove variables from the program's environment (QEMU_UNSET_ENV)
  -0 argv0               hand argv0 to the program as its argv[0] (QEMU_ARGV0)
  -L path                set the ELF interpreter prefix to path (QEMU_LD_PREFIX)
  -r release             uname(2) reports this kernel release (QEMU_UNAME)
  -s size                initial stack size in bytes, k or M suffix (QEMU_STACK_SIZE)
  -cpu model             host or max: the code runs on the host's CPU ('-cpu help') (QEMU_CPU)
  -one-insn-per-tb       one guest instruction per block, for plugins (QEMU_ONE_INSN_PER_TB);
                         -singlestep and QEMU_SINGLESTEP are its old names
  -perfmap               name translated code in /tmp/perf-PID.map for perf (QEMU_PERFMAP)
  -no-follow-exec        do not translate programs started by execve (qplug only)
  -log-append            append to the -D file instead of truncating it (qplug only)
  -g port                wait for gdb to connect on TCP port (or a Unix socket path)
                         before the first instruction: gdb's `target remote :port` (QEMU_GDB)
  -B, -R, -t, -tb-size, -seed, -trace, -jitdump, -p
                         not supported, an error; their variables are a warning, ignored:
                         QEMU_GUEST_BASE, QEMU_RESERVED_VA, QEMU_RTSIG_MAP, QEMU_TB_SIZE,
                         QEMU_RAND_SEED, QEMU_TRACE, QEMU_JITDUMP
Options override variables; a variable for an option without argument counts when set.

qplug's own variables:
  QPLUG_STATS            at exit, print translation and code cache statistics
  QPLUG_PERF_MAP=1       as -perfmap
)";
}

}  // namespace qplug::cli
