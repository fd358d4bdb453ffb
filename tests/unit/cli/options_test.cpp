#include "cli/options.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <sstream>

using qplug::Result;
using qplug::cli::Options;
using qplug::cli::options_to_args;
using qplug::cli::parse_command_line;
using qplug::cli::PluginSpec;
using qplug::cli::usage_text;

namespace {

using Strings = std::vector<std::string>;

Result<Options> parse(const Strings& args, const Strings& environ = {}) {
  std::vector<const char*> argv{"qplug"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(argv.size() - 1), argv.data(), environ);
}

Options parse_ok(const Strings& args, const Strings& environ = {}) {
  Result<Options> r = parse(args, environ);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  return std::move(r).value();
}

std::string parse_error(const Strings& args, const Strings& environ = {}) {
  Result<Options> r = parse(args, environ);
  REQUIRE(!r.ok());
  CHECK(r.error().exit_status == 1);
  return r.error().message;
}

// Everything but the warnings, which describe how the options were spelled.
std::string describe(const Options& o) {
  std::ostringstream s;
  auto list = [&](const char* name, const Strings& v) {
    s << name << "=[";
    for (const std::string& e : v) s << '<' << e << '>';
    s << "] ";
  };
  s << "program=<" << o.program << "> ";
  list("guest_argv", o.guest_argv);
  list("set_env", o.set_env);
  list("unset_env", o.unset_env);
  s << "argv0=<" << o.argv0 << "> argv0_set=" << o.argv0_set << " prefix=<" << o.interp_prefix
    << "> strace=" << o.strace << " log=<" << o.log_items << "> log_file=<" << o.log_file
    << "> follow_exec=" << o.follow_exec << " help=" << o.help << " version=" << o.version
    << " plugin_help=" << o.plugin_help << " dfilter=<" << o.dfilter_spec << "> uname=<"
    << o.uname_release << "> stack=" << o.stack_size << " perfmap=" << o.perfmap
    << " one_insn=" << o.one_insn_per_tb << " plugins=";
  for (const PluginSpec& p : o.plugins) {
    s << "{<" << p.path << ">";
    list("", p.args);
    s << "}";
  }
  return s.str();
}

Strings plugin_args(const Strings& args, size_t index = 0) {
  Options o = parse_ok(args);
  REQUIRE(o.plugins.size() > index);
  return o.plugins[index].args;
}

}  // namespace

TEST_CASE("program and guest arguments") {
  Options o = parse_ok({"/bin/echo", "-n", "hi"});
  CHECK(o.program == "/bin/echo");
  CHECK(o.guest_argv == Strings{"/bin/echo", "-n", "hi"});
  CHECK(o.follow_exec);
  CHECK(!o.strace);
  CHECK(o.plugins.empty());
  CHECK(o.warnings.empty());

  // Parsing stops at the program: its options are not qplug's.
  o = parse_ok({"-strace", "prog", "-strace", "-bogus"});
  CHECK(o.guest_argv == Strings{"prog", "-strace", "-bogus"});

  o = parse_ok({"-strace", "--", "-prog", "x"});
  CHECK(o.program == "-prog");
  CHECK(o.guest_argv == Strings{"-prog", "x"});
  CHECK(o.strace);

  o = parse_ok({"--", "--"});
  CHECK(o.program == "--");
}

TEST_CASE("each option") {
  Options o = parse_ok({"-E", "A=1", "-E", "B=2,C=x=y", "-U", "D", "-U", "E,F", "-0", "zero", "-L",
                        "/sysroot", "-strace", "-d", "plugin,in_asm", "-D", "/tmp/log",
                        "-no-follow-exec", "prog"});
  CHECK(o.set_env == Strings{"A=1", "B=2", "C=x=y"});
  CHECK(o.unset_env == Strings{"D", "E", "F"});
  CHECK(o.argv0 == "zero");
  CHECK(o.argv0_set);
  CHECK(o.interp_prefix == "/sysroot");
  CHECK(o.strace);
  CHECK(o.log_items == "plugin,in_asm");
  CHECK(o.log_file == "/tmp/log");
  CHECK(!o.follow_exec);
  CHECK(o.guest_argv == Strings{"prog"});

  o = parse_ok({"-0", "", "prog"});
  CHECK(o.argv0_set);
  CHECK(o.argv0.empty());

  // The last -d wins, as in QEMU.
  CHECK(parse_ok({"-d", "exec", "-d", "cpu,nochain", "p"}).log_items == "cpu,nochain");
  for (const char* item :
       {"plugin", "strace", "in_asm", "out_asm", "exec", "cpu", "nochain", "all"}) {
    CHECK(parse_ok({"-d", item, "p"}).log_items == item);
  }
  CHECK(parse_ok({"-d", "tid", "-D", "log.%d", "p"}).log_items == "tid");
}

TEST_CASE("double-dash spellings") {
  Options o = parse_ok({"--strace", "--plugin", "a.so", "--d", "plugin", "--no-follow-exec", "p"});
  CHECK(o.strace);
  CHECK(o.plugins.size() == 1);
  CHECK(o.log_items == "plugin");
  CHECK(!o.follow_exec);
  CHECK(parse_ok({"--help"}).help);
  CHECK(parse_ok({"--version"}).version);
}

TEST_CASE("one instruction per block: both spellings, the environment, and followed children") {
  CHECK_FALSE(parse_ok({"prog"}).one_insn_per_tb);
  CHECK(parse_ok({"-one-insn-per-tb", "prog"}).one_insn_per_tb);
  CHECK(parse_ok({"-singlestep", "prog"}).one_insn_per_tb);
  CHECK(parse_ok({"prog"}, {"QEMU_ONE_INSN_PER_TB=1"}).one_insn_per_tb);
  CHECK(parse_ok({"prog"}, {"QEMU_SINGLESTEP=1"}).one_insn_per_tb);
  const std::vector<std::string> args = options_to_args(parse_ok({"-singlestep", "prog"}));
  CHECK(std::find(args.begin(), args.end(), "-one-insn-per-tb") != args.end());
}

TEST_CASE("-g: a port or a socket path, QEMU_GDB, and not passed to followed programs") {
  CHECK(parse_ok({"prog"}).gdb.empty());
  CHECK(parse_ok({"-g", "1234", "prog"}).gdb == "1234");
  CHECK(parse_ok({"-g", "/tmp/gdb.sock", "prog"}).gdb == "/tmp/gdb.sock");
  CHECK(parse_ok({"prog"}, {"QEMU_GDB=4321"}).gdb == "4321");
  CHECK(parse_ok({"-g", "1234", "prog"}, {"QEMU_GDB=4321"}).gdb == "1234");
  CHECK(parse_error({"-g", "0", "prog"}).find("not a TCP port") != std::string::npos);
  CHECK(parse_error({"-g", "65536", "prog"}).find("not a TCP port") != std::string::npos);
  CHECK(parse_error({"-g", "", "prog"}).find("not a TCP port") != std::string::npos);
  const std::vector<std::string> args = options_to_args(parse_ok({"-g", "1234", "prog"}));
  CHECK(std::find(args.begin(), args.end(), "-g") == args.end());
}

TEST_CASE("help and version end parsing") {
  Options o = parse_ok({"-h"});
  CHECK(o.help);
  CHECK(o.program.empty());
  CHECK(parse_ok({"-help"}).help);
  // Like qemu-x86_64, which exits while parsing -h: later mistakes do not matter.
  CHECK(parse_ok({"-strace", "-h", "-bogus"}).help);
  CHECK(parse_ok({"-version"}).version);
  CHECK(!parse_ok({"-version"}).help);
}

TEST_CASE("command line errors") {
  CHECK(parse_error({}) == "qplug: no program given (try 'qplug -h')");
  CHECK(parse_error({"-strace"}) == "qplug: no program given (try 'qplug -h')");
  CHECK(parse_error({"-strace", "--"}) == "qplug: no program given (try 'qplug -h')");
  CHECK(parse_error({"-foo", "prog"}) == "qplug: unknown option '-foo' (try 'qplug -h')");
  CHECK(parse_error({"--foo", "prog"}) == "qplug: unknown option '--foo' (try 'qplug -h')");
  CHECK(parse_error({"---strace", "prog"}) == "qplug: unknown option '---strace' (try 'qplug -h')");
  CHECK(parse_error({"-", "prog"}) == "qplug: unknown option '-' (try 'qplug -h')");
  CHECK(parse_error({"-E"}) == "qplug: option '-E' needs an argument");
  CHECK(parse_error({"--plugin"}) == "qplug: option '--plugin' needs an argument");
  for (const char* opt : {"-U", "-0", "-L", "-d", "-D", "-s", "-B", "-R", "-cpu", "-seed", "-p",
                          "-r", "-dfilter", "-t", "-tb-size", "-trace"}) {
    CHECK(parse_error({opt}) == std::string("qplug: option '") + opt + "' needs an argument");
  }
  CHECK(parse_error({"-E", "A=1,B", "p"}) == "qplug: -E: 'B' is not of the form var=value");
  CHECK(parse_error({"-E", "A=1,,B=2", "p"}) == "qplug: -E: '' is not of the form var=value");
  CHECK(parse_error({"-U", "A,B=1", "p"}) == "qplug: -U: 'B=1' is not a variable name");
  CHECK(parse_error({"-d", "x", "p"}) == "qplug: -d: unknown log item 'x'");
  CHECK(parse_error({"-d", "plugin,bogus", "p"}) == "qplug: -d: unknown log item 'bogus'");
  CHECK(parse_error({"-d", "", "p"}) == "qplug: -d: unknown log item ''");
  CHECK(parse_error({"-d", "plugin,", "p"}) == "qplug: -d: unknown log item ''");
}

TEST_CASE("-d help lists the log items and exits successfully") {
  Result<Options> r = parse({"-d", "help"});
  REQUIRE(!r.ok());
  CHECK(r.error().exit_status == 0);
  const std::string& text = r.error().message;
  CHECK(text.starts_with("Log items (comma separated):\n"));
  CHECK(text.back() != '\n');
  for (const char* item :
       {"plugin", "strace", "in_asm", "out_asm", "exec", "cpu", "nochain", "tid", "all"}) {
    CHECK_MESSAGE(text.find(std::string("\n") + item + " ") != std::string::npos, item);
  }
  // Only what qplug logs.
  for (const char* item : {"op", "page", "unimp", "guest_errors", "trace:"}) {
    CHECK_MESSAGE(text.find(std::string("\n") + item) == std::string::npos, item);
  }
  CHECK(parse({"-d", "plugin,help", "prog"}).error().exit_status == 0);
}

TEST_CASE("-plugin: implied file key and key=value arguments") {
  Options o = parse_ok({"-plugin", "./libbb.so,inline=on", "prog"});
  REQUIRE(o.plugins.size() == 1);
  CHECK(o.plugins[0].path == "./libbb.so");
  CHECK(o.plugins[0].args == Strings{"inline=on"});
  CHECK(o.warnings.empty());

  o = parse_ok({"-plugin", "file=./libbb.so,inline=on", "prog"});
  CHECK(o.plugins[0].path == "./libbb.so");
  CHECK(o.plugins[0].args == Strings{"inline=on"});

  CHECK(plugin_args({"-plugin", "a.so,b=2,a=1,c=x=y,d=", "p"}) ==
        Strings{"b=2", "a=1", "c=x=y", "d="});
  CHECK(plugin_args({"-plugin", "a.so,", "p"}).empty());
  CHECK(plugin_args({"-plugin", "a.so,=v", "p"}) == Strings{"=v"});
}

TEST_CASE("-plugin: doubled commas escape a comma") {
  Options o = parse_ok({"-plugin", "./a,,b.so,out=x,,y,,,,z,k=v", "prog"});
  REQUIRE(o.plugins.size() == 1);
  CHECK(o.plugins[0].path == "./a,b.so");
  CHECK(o.plugins[0].args == Strings{"out=x,y,,z", "k=v"});
  CHECK(parse_ok({"-plugin", "a.so,,", "p"}).plugins[0].path == "a.so,");
}

TEST_CASE("-plugin: short-form booleans") {
  Options o = parse_ok({"-plugin", "a.so,inline,noverbose", "prog"});
  CHECK(o.plugins[0].args == Strings{"inline=on", "verbose=off"});
  CHECK(o.warnings == Strings{"qplug: warning: short-form boolean option 'inline' deprecated",
                              "Please use inline=on instead",
                              "qplug: warning: short-form boolean option 'noverbose' deprecated",
                              "Please use verbose=off instead"});
  // QEMU's special wording for "delay", and no warning for a bare "help".
  o = parse_ok({"-plugin", "a.so,delay,nodelay,help", "prog"});
  CHECK(o.plugins[0].args == Strings{"delay=on", "delay=off", "help=on"});
  CHECK(o.warnings == Strings{"qplug: warning: short-form boolean option 'delay' deprecated",
                              "Please use nodelay=off instead",
                              "qplug: warning: short-form boolean option 'nodelay' deprecated",
                              "Please use nodelay=on instead"});
}

TEST_CASE("-plugin: deprecated arg= form") {
  Options o = parse_ok({"-plugin", "a.so,arg=foo", "prog"});
  CHECK(o.plugins[0].args == Strings{"foo=on"});
  CHECK(o.warnings ==
        Strings{"qplug: warning: using 'arg=foo' is deprecated", "Please use 'foo=on' directly"});

  o = parse_ok({"-plugin", "a.so,arg=foo=bar", "prog"});
  CHECK(o.plugins[0].args == Strings{"foo=bar"});
  CHECK(o.warnings == Strings{"qplug: warning: using 'arg=foo=bar' is deprecated",
                              "Please use 'foo=bar' directly"});

  o = parse_ok({"-plugin", "a.so,arg=on,arg=off,arg=yes,arg=n", "prog"});
  CHECK(o.plugins[0].args == Strings{"arg=on", "arg=off", "arg=yes", "arg=n"});
  CHECK(o.warnings.empty());

  // QEMU's own drcov example.
  o = parse_ok({"-plugin", "./libdrcov.so,arg=filename=/tmp/target.drcov.trace", "prog"});
  CHECK(o.plugins[0].args == Strings{"filename=/tmp/target.drcov.trace"});
}

TEST_CASE("-plugin: errors") {
  CHECK(parse_error({"-plugin", "inline=on", "p"}) ==
        "qplug: -plugin: missing earlier '-plugin file=' option");
  CHECK(parse_error({"-plugin", "a.so", "-plugin", "x=1", "p"}) ==
        "qplug: -plugin: missing earlier '-plugin file=' option");
  CHECK(parse_error({"-plugin", "file=", "p"}) ==
        "qplug: -plugin: file requires a non-empty argument");
  CHECK(parse_error({"-plugin", ",x=1", "p"}) ==
        "qplug: -plugin: file requires a non-empty argument");
  CHECK(parse_error({"-plugin", "a.so,file=,x=1", "p"}) ==
        "qplug: -plugin: file requires a non-empty argument");
  CHECK(parse_error({"-plugin", "a.so,id=1x", "p"}) ==
        "qplug: -plugin: Parameter 'id' expects an identifier");
  CHECK(parse_error({"-plugin"}) == "qplug: option '-plugin' needs an argument");
}

TEST_CASE("-plugin help") {
  for (const char* spec : {"help", "?", "a.so,x=help", "file=help"}) {
    Options o = parse_ok({"-plugin", spec});
    CHECK_MESSAGE(o.plugin_help, spec);
    CHECK(o.program.empty());
  }
  CHECK(parse_ok({"-plugin", "help", "-bogus"}).plugin_help);
}

TEST_CASE("-plugin: several plugins and repeated paths") {
  Options o = parse_ok({"-plugin", "a.so,x=1", "-plugin", "b.so,y=2", "-plugin", "a.so,z=3",
                        "-plugin", "a.so", "p"});
  REQUIRE(o.plugins.size() == 2);
  CHECK(o.plugins[0].path == "a.so");
  CHECK(o.plugins[0].args == Strings{"x=1", "z=3"});
  CHECK(o.plugins[1].path == "b.so");
  CHECK(o.plugins[1].args == Strings{"y=2"});

  // One spec may name several files; a later file= switches the target.
  o = parse_ok({"-plugin", "file=a.so,x=1,file=b.so,y=2,file=a.so,z=3", "p"});
  REQUIRE(o.plugins.size() == 2);
  CHECK(o.plugins[0].args == Strings{"x=1", "z=3"});
  CHECK(o.plugins[1].args == Strings{"y=2"});

  // The same file under another spelling is another plugin, as in QEMU.
  CHECK(parse_ok({"-plugin", "a.so", "-plugin", "./a.so", "p"}).plugins.size() == 2);
  // QemuOpts drops id= and ignores an empty spec.
  CHECK(plugin_args({"-plugin", "a.so,id=p1,x=1", "p"}) == Strings{"x=1"});
  CHECK(parse_ok({"-plugin", "", "p"}).plugins.empty());
}

TEST_CASE("environment variables") {
  Options o = parse_ok({"-plugin", "b.so", "-plugin", "a.so,y=2", "p"},
                       {"PATH=/bin", "QEMU_PLUGIN=a.so,x=1", "QEMU_STRACE=", "QEMU_LOG=plugin",
                        "QEMU_LOG_FILENAME=/tmp/l", "QEMU_LD_PREFIX=/root"});
  REQUIRE(o.plugins.size() == 2);
  CHECK(o.plugins[0].path == "a.so");
  CHECK(o.plugins[0].args == Strings{"x=1", "y=2"});
  CHECK(o.plugins[1].path == "b.so");
  CHECK(o.strace);
  CHECK(o.log_items == "plugin");
  CHECK(o.log_file == "/tmp/l");
  CHECK(o.interp_prefix == "/root");

  o = parse_ok({"-d", "exec", "-D", "/x", "-L", "/y", "p"},
               {"QEMU_LOG=plugin", "QEMU_LOG_FILENAME=/tmp/l", "QEMU_LD_PREFIX=/root"});
  CHECK(o.log_items == "exec");
  CHECK(o.log_file == "/x");
  CHECK(o.interp_prefix == "/y");

  // Look-alike names do not count; the first definition does, as with getenv().
  o = parse_ok(
      {"p"}, {"QEMU_STRACEX=1", "XQEMU_STRACE=1", "QEMU_LOG_FILENAME=/a", "QEMU_LOG_FILENAME=/b"});
  CHECK(!o.strace);
  CHECK(o.log_file == "/a");

  CHECK(parse_error({"p"}, {"QEMU_LOG=nope"}) == "qplug: QEMU_LOG: unknown log item 'nope'");
  CHECK(parse_error({"p"}, {"QEMU_PLUGIN=x=1"}) ==
        "qplug: QEMU_PLUGIN: missing earlier '-plugin file=' option");
  CHECK(parse_ok({}, {"QEMU_PLUGIN=help"}).plugin_help);
  o = parse_ok({"p"}, {"QEMU_PLUGIN=a.so,arg=v"});
  CHECK(o.plugins[0].args == Strings{"v=on"});
  CHECK(o.warnings.size() == 2);
}

TEST_CASE("usage text") {
  std::string text = usage_text();
  CHECK(text.starts_with("usage: qplug [options] [--] program [arguments...]\n"));
  CHECK(text.find("Built-in") == std::string::npos);
  // A custom tool: its own name, and its static plugins listed as always active.
  const std::string tool = usage_text({"mytool", {"bb", "drcov"}, false});
  CHECK(tool.starts_with("usage: mytool [options] [--] program [arguments...]\n"));
  CHECK(tool.find("\nBuilt-in plugins, always active (-plugin NAME,k=v passes them arguments): "
                  "bb drcov\n(this tool loads no .so plugins)\n") != std::string::npos);
  std::istringstream lines(text);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    CHECK_MESSAGE(line.size() <= 100, line);
  }
  CHECK(count <= 40);
  for (const char* opt : {"-h",
                          "-help",
                          "-version",
                          "-E",
                          "-U",
                          "-0",
                          "-L",
                          "-strace",
                          "-d",
                          "-D",
                          "-dfilter",
                          "-plugin",
                          "-no-follow-exec",
                          "-log-append",
                          "-s",
                          "-r",
                          "-cpu",
                          "-perfmap",
                          "-one-insn-per-tb",
                          "-singlestep",
                          "-B",
                          "-R",
                          "-t",
                          "-tb-size",
                          "-seed",
                          "-trace",
                          "-jitdump",
                          "-p",
                          "-g",
                          "QEMU_GDB",
                          "QEMU_PLUGIN",
                          "QEMU_LOG",
                          "QEMU_LOG_FILENAME",
                          "QEMU_DFILTER",
                          "QEMU_STRACE",
                          "QEMU_LD_PREFIX",
                          "QEMU_SET_ENV",
                          "QEMU_UNSET_ENV",
                          "QEMU_ARGV0",
                          "QEMU_UNAME",
                          "QEMU_STACK_SIZE",
                          "QEMU_CPU",
                          "QEMU_ONE_INSN_PER_TB",
                          "QEMU_SINGLESTEP",
                          "QEMU_PERFMAP",
                          "QEMU_GUEST_BASE",
                          "QEMU_RESERVED_VA",
                          "QEMU_RTSIG_MAP",
                          "QEMU_TB_SIZE",
                          "QEMU_RAND_SEED",
                          "QEMU_TRACE",
                          "QEMU_JITDUMP"}) {
    bool listed = false;
    for (const char* before : {" ", "("}) {
      for (const char* after : {" ", ",", "=", "\n", ")", ";"}) {
        listed = listed || text.find(before + std::string(opt) + after) != std::string::npos;
      }
    }
    CHECK_MESSAGE(listed, opt);
  }
}

namespace {

void check_round_trip(const Options& o) {
  Strings args = options_to_args(o);
  CHECK(args.back() == "--");
  args.insert(args.end(), o.guest_argv.begin(), o.guest_argv.end());
  Result<Options> r = parse(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  CHECK(describe(r.value()) == describe(o));
}

}  // namespace

TEST_CASE("options_to_args round-trips parsed command lines") {
  const std::vector<Strings> command_lines{
      {"prog"},
      {"-strace", "-d", "plugin,strace", "-D", "/tmp/a b", "-L", "/", "-no-follow-exec", "p", "x"},
      {"-E", "A=1,B=2=3", "-E", "C=", "-U", "X,Y", "-0", "", "prog"},
      {"-0", "-dash", "--", "-prog", "--", "-x"},
      {"-plugin", "./a,,b.so,out=x,,y,arg=z,arg=k=v,arg=arg=w,flag,noflag,arg=on,=e", "p"},
      {"-plugin", "file=a.so,x=1,file=b.so,y=,file=a.so,z=3", "-plugin", "c.so", "prog"},
      {"-plugin", "a.so,help=on,file=on,id=q,arg=arg=on", "p"},
      {"-dfilter", "0x10+4,1..2", "-r", "6.0-x", "-s", "64k", "-perfmap", "-one-insn-per-tb", "p"},
      {"-d", "tid,plugin", "-D", "/tmp/log.%d", "p"},
  };
  for (const Strings& cl : command_lines) {
    CAPTURE(cl.size());
    Options o = parse_ok(cl);
    check_round_trip(o);
  }
  check_round_trip(parse_ok({"p"}, {"QEMU_PLUGIN=e.so,a=,,", "QEMU_LOG=all", "QEMU_STRACE=0"}));
}

TEST_CASE("options_to_args round-trips generated options") {
  std::mt19937 rng(12345);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::string alphabet = "ab,=- ./?x";
  auto text = [&](size_t max_len, std::string_view forbidden) {
    std::string s;
    for (size_t n = pick(max_len + 1); s.size() < n;) {
      char c = alphabet[pick(alphabet.size())];
      if (forbidden.find(c) == std::string_view::npos) s.push_back(c);
    }
    return s;
  };
  const Strings log_items{"plugin", "strace,plugin", "in_asm,out_asm,nochain", "all", "exec,cpu"};
  for (int iteration = 0; iteration < 500; ++iteration) {
    CAPTURE(iteration);
    Options o;
    o.program = pick(4) == 0 ? "-" + text(6, "") : "/bin/" + text(6, "");
    o.guest_argv.push_back(o.program);
    for (size_t n = pick(3); n > 0; --n) o.guest_argv.push_back(text(5, ""));
    for (size_t n = pick(3); n > 0; --n) o.set_env.push_back(text(4, ",=") + "=" + text(4, ","));
    for (size_t n = pick(3); n > 0; --n) o.unset_env.push_back(text(4, ",="));
    o.argv0_set = pick(2) == 0;
    if (o.argv0_set) o.argv0 = text(6, "");
    o.interp_prefix = pick(2) ? text(6, "") : "";
    o.strace = pick(2) == 0;
    o.log_items = pick(2) ? log_items[pick(log_items.size())] : "";
    o.log_file = pick(2) ? text(6, "") : "";
    o.follow_exec = pick(2) == 0;
    if (pick(3) == 0)
      o.dfilter_spec = std::to_string(pick(100)) + ".." + std::to_string(100 + pick(9));
    if (pick(3) == 0) o.uname_release = "x" + text(6, "");
    if (pick(3) == 0) o.stack_size = 4096 * (1 + pick(100));
    o.perfmap = pick(2) == 0;
    o.one_insn_per_tb = pick(2) == 0;
    for (size_t n = pick(4); n > 0; --n) {
      PluginSpec p{"lib" + std::to_string(o.plugins.size()) + text(5, ""), {}};
      for (size_t m = pick(5); m > 0; --m) {
        std::string key = pick(4) == 0 ? "arg" : text(4, ",=");
        std::string value = text(6, "?");
        if (key == "file" || key == "id" || value == "help") continue;
        p.args.push_back(key + "=" + value);
      }
      o.plugins.push_back(std::move(p));
    }
    check_round_trip(o);
  }
}

TEST_CASE("log items are whole words of the -d list") {
  CHECK(qplug::cli::has_log_item("plugin", "plugin"));
  CHECK(qplug::cli::has_log_item("in_asm,out_asm", "out_asm"));
  CHECK(qplug::cli::has_log_item("all", "in_asm"));
  CHECK_FALSE(qplug::cli::has_log_item("op_plugin", "plugin"));
  CHECK_FALSE(qplug::cli::has_log_item("in_asm", "out_asm"));
  CHECK_FALSE(qplug::cli::has_log_item("", "plugin"));
}
