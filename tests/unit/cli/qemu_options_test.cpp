// qemu-x86_64's options and environment variables beyond the basic ones
// (options_test.cpp): honoured, or rejected with a reason.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "cli/options.h"

using qplug::Result;
using qplug::cli::Options;
using qplug::cli::parse_command_line;

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

}  // namespace

TEST_CASE("-d items qplug cannot log are errors that say why") {
  CHECK(parse_error({"-d", "in_asm,op", "p"}) ==
        "qplug: -d op: not supported (qplug translates without TCG micro ops; '-d help' lists "
        "what qplug logs)");
  for (const char* item : {"op", "op_opt", "op_ind", "op_plugin", "int", "fpu", "mmu", "pcall",
                           "cpu_reset", "unimp", "guest_errors", "page"}) {
    CHECK(parse_error({"-d", item, "p"})
              .starts_with(std::string("qplug: -d ") + item + ": not supported ("));
  }
  CHECK(parse_error({"-d", "trace:foo*", "p"}) ==
        "qplug: -d trace:foo*: not supported (qplug has no trace events)");
  CHECK(parse_error({"p"}, {"QEMU_LOG=op"}).starts_with("qplug: QEMU_LOG op: not supported ("));
}

TEST_CASE("-d tid: one log file per thread, the -D name with %d") {
  CHECK(parse_error({"-d", "tid", "p"}) ==
        "qplug: -d tid: the -D file name must contain '%d' (the thread id)");
  CHECK(parse_error({"-d", "plugin,tid", "-D", "log", "p"}) ==
        "qplug: -d tid: the -D file name must contain '%d' (the thread id)");
  CHECK(parse_error({"-D", "log.%s", "p"}) ==
        "qplug: -D log.%s: bad log file template (one %d at most)");
  CHECK(parse_error({"-d", "tid", "-D", "%d.%d", "p"}) ==
        "qplug: -D %d.%d: bad log file template (one %d at most)");
  CHECK(parse_error({"-D", "log%", "p"}) ==
        "qplug: -D log%: bad log file template (one %d at most)");
  // Without tid, %d is the process id (engine.cpp); "all" does not mean tid.
  CHECK(parse_ok({"-D", "log.%d", "p"}).log_file == "log.%d");
  CHECK(parse_ok({"-d", "all", "-D", "log", "p"}).log_items == "all");
  CHECK_FALSE(qplug::cli::has_log_item("all", "tid"));
  CHECK(qplug::cli::has_log_item("plugin,tid", "tid"));
}

TEST_CASE("-dfilter: QEMU's range syntax") {
  auto ranges = [](const std::string& spec) {
    std::string out;
    for (const auto& r : parse_ok({"-dfilter", spec, "p"}).dfilter)
      out += std::to_string(r.first) + ".." + std::to_string(r.last) + " ";
    return out;
  };
  CHECK(ranges("0x1000+0x100") == "4096..4351 ");
  CHECK(ranges("0x1000-0x100") == "3841..4096 ");
  CHECK(ranges("10..20,30+1") == "10..20 30..30 ");
  CHECK(ranges("0..0xffffffffffffffff") == "0..18446744073709551615 ");
  CHECK(parse_ok({"p"}, {"QEMU_DFILTER=5..6"}).dfilter.size() == 1);
  CHECK(parse_ok({"-dfilter", "1..2", "p"}, {"QEMU_DFILTER=5..6,7..8"}).dfilter.size() == 1);
  CHECK(parse_error({"-dfilter", "0x1000", "p"}) ==
        "qplug: -dfilter: Bad range specifier '0x1000'");
  CHECK(parse_error({"-dfilter", "x+1", "p"}) ==
        "qplug: -dfilter: Invalid number to the left of + in 'x+1'");
  CHECK(parse_error({"-dfilter", "1..", "p"}) ==
        "qplug: -dfilter: Invalid number to the right of .. in '1..'");
  CHECK(parse_error({"-dfilter", "20..10", "p"}) == "qplug: -dfilter: Invalid range '20..10'");
  CHECK(parse_error({"-dfilter", "0x10-0x20", "p"}) ==
        "qplug: -dfilter: Invalid range '0x10-0x20'");
  CHECK(parse_error({"-dfilter", "5+0", "p"}) == "qplug: -dfilter: Invalid range '5+0'");
  CHECK(parse_error({"-dfilter", "1..2,", "p"}) == "qplug: -dfilter: Bad range specifier ''");
  CHECK(parse_error({"p"}, {"QEMU_DFILTER=9"}) == "qplug: QEMU_DFILTER: Bad range specifier '9'");
  Options o = parse_ok({"-dfilter", "0x1000+0x10,0x2000..0x2000", "p"});
  CHECK(qplug::cli::in_dfilter(o, 0x1000));
  CHECK(qplug::cli::in_dfilter(o, 0x100f));
  CHECK_FALSE(qplug::cli::in_dfilter(o, 0x1010));
  CHECK(qplug::cli::in_dfilter(o, 0x2000));
  CHECK_FALSE(qplug::cli::in_dfilter(o, 0x1fff));
  CHECK(qplug::cli::in_dfilter(parse_ok({"p"}), 0x1234));
}

TEST_CASE("-s, -r, -cpu, -perfmap and their variables") {
  CHECK(parse_ok({"-s", "4096", "p"}).stack_size == 4096);
  CHECK(parse_ok({"-s", "0x2000", "p"}).stack_size == 0x2000);
  CHECK(parse_ok({"-s", "64k", "p"}).stack_size == 64 * 1024);
  CHECK(parse_ok({"-s", "64K", "p"}).stack_size == 64 * 1024);
  CHECK(parse_ok({"-s", "16M", "p"}).stack_size == 16 << 20);
  CHECK(parse_ok({"p"}, {"QEMU_STACK_SIZE=1M"}).stack_size == 1 << 20);
  CHECK(parse_ok({"-s", "2M", "p"}, {"QEMU_STACK_SIZE=1M"}).stack_size == 2 << 20);
  for (const char* bad : {"0", "x", "1G", "-1", "12Mb", ""}) {
    CHECK(parse_error({"-s", bad, "p"}) == std::string("qplug: -s: invalid stack size '") + bad +
                                               "' (bytes, or with a k or M suffix)");
  }
  CHECK(parse_ok({"-r", "6.1.0-qplug", "p"}).uname_release == "6.1.0-qplug");
  CHECK(parse_ok({"p"}, {"QEMU_UNAME=5.0"}).uname_release == "5.0");
  CHECK(parse_ok({"-r", "7", "p"}, {"QEMU_UNAME=5.0"}).uname_release == "7");
  CHECK(parse_ok({"-cpu", "host", "p"}).program == "p");
  CHECK(parse_ok({"-cpu", "max", "p"}).program == "p");
  CHECK(parse_error({"-cpu", "qemu64", "p"}) ==
        "qplug: -cpu: CPU model 'qemu64' not supported: guest code runs on the host's CPU "
        "('-cpu help' lists the models)");
  CHECK(parse_error({"-cpu", "host,+avx", "p"}).starts_with("qplug: -cpu: CPU model 'host,+avx'"));
  for (const char* help : {"help", "?"}) {
    Result<Options> r = parse({"-cpu", help});
    REQUIRE(!r.ok());
    CHECK(r.error().exit_status == 0);
    CHECK(r.error().message.starts_with("Available CPUs:\n  host "));
    CHECK(r.error().message.find("\n  max ") != std::string::npos);
  }
  // A model set for qemu-x86_64's sake: the host CPU runs the code anyway.
  Options o = parse_ok({"p"}, {"QEMU_CPU=Skylake-Client"});
  REQUIRE(o.warnings.size() == 1);
  CHECK(o.warnings[0] ==
        "qplug: warning: QEMU_CPU: CPU model 'Skylake-Client' not supported: guest code runs on "
        "the host's CPU ('-cpu help' lists the models); ignored");
  CHECK(parse_ok({"p"}, {"QEMU_CPU=max"}).warnings.empty());
  CHECK(parse_ok({"-perfmap", "p"}).perfmap);
  CHECK(parse_ok({"p"}, {"QEMU_PERFMAP="}).perfmap);
  CHECK_FALSE(parse_ok({"p"}).perfmap);
}

TEST_CASE("qemu-x86_64 options qplug cannot honour are errors; their variables warnings") {
  const std::vector<std::pair<Strings, std::string>> rejected{
      {{"-B", "0x10000"}, "-B"},        {{"-R", "1G"}, "-R"},      {{"-t", "34 34 1"}, "-t"},
      {{"-tb-size", "64"}, "-tb-size"}, {{"-seed", "1"}, "-seed"}, {{"-trace", "x*"}, "-trace"},
      {{"-jitdump"}, "-jitdump"},       {{"-p", "4096"}, "-p"},    {{"--seed", "1"}, "-seed"},
  };
  for (const auto& [args, name] : rejected) {
    Strings cl = args;
    cl.push_back("prog");
    CHECK(parse_error(cl).starts_with("qplug: " + name + ": not supported ("));
  }
  CHECK(parse_error({"-B", "0", "p"}) ==
        "qplug: -B: not supported (guest addresses are host addresses, there is no guest base)");
  for (const char* var : {"QEMU_GUEST_BASE", "QEMU_RESERVED_VA", "QEMU_RTSIG_MAP", "QEMU_TB_SIZE",
                          "QEMU_RAND_SEED", "QEMU_TRACE", "QEMU_JITDUMP"}) {
    Options o = parse_ok({"prog"}, {std::string(var) + "=1"});
    REQUIRE(o.warnings.size() == 1);
    CHECK(o.warnings[0].starts_with(std::string("qplug: warning: ") + var +
                                    " ignored: not supported ("));
    CHECK(o.program == "prog");
  }
  // Not read: QEMU_VERSION (build scripts set it), QEMU_GDB (the gdb stub's).
  CHECK_FALSE(parse_ok({"prog"}, {"QEMU_VERSION=1"}).version);
}

TEST_CASE("the environment variables of -E, -U, -0") {
  Options o = parse_ok({"-E", "C=3", "-U", "Y", "p"},
                       {"QEMU_SET_ENV=A=1,B=2", "QEMU_UNSET_ENV=X", "QEMU_ARGV0=zero"});
  CHECK(o.set_env == Strings{"A=1", "B=2", "C=3"});  // the command line's come last, and win
  CHECK(o.unset_env == Strings{"X", "Y"});
  CHECK(o.argv0_set);
  CHECK(o.argv0 == "zero");
  CHECK(parse_ok({"-0", "one", "p"}, {"QEMU_ARGV0=zero"}).argv0 == "one");
  CHECK(parse_error({"p"}, {"QEMU_SET_ENV=A"}) ==
        "qplug: QEMU_SET_ENV: 'A' is not of the form var=value");
  CHECK(parse_error({"p"}, {"QEMU_UNSET_ENV=A=1"}) ==
        "qplug: QEMU_UNSET_ENV: 'A=1' is not a variable name");
}
