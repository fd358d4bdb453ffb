// Engine: runs an unmodified x86-64 Linux program from a code cache under a
// Tool (qplug/tool.h): parses qplug's command line, installs the tool, loads
// the guest, sets up the first vCPU and enters the dispatcher.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "cli/options.h"
#include "gdbstub/stub.h"
#include "loader/elf_loader.h"
#include "os/linux/code_pages.h"
#include "os/linux/fds.h"
#include "os/linux/signals.h"
#include "os/linux/threads.h"
#include "qplug/tool.h"
#include "runtime/dispatcher.h"
#include "runtime/log_stream.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"
#include "runtime/vcpu_rows.h"
#include "x86_64/xstate.h"

extern char** environ;

namespace {

using namespace qplug;

[[noreturn]] void fail(const Error& e) {
  std::fprintf(stderr, "%s\n", e.message.c_str());
  if (e.signal != 0) {
    // No guest instruction has run: plugins see no exit, as natively nothing started.
    std::fflush(nullptr);
    signal(e.signal, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, e.signal);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(e.signal);
  }
  std::exit(e.exit_status);
}

std::vector<std::string> guest_environment(const cli::Options& o) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  auto remove = [&](const std::string& name) {
    std::erase_if(env, [&](const std::string& kv) { return name_of(kv) == name; });
  };
  for (const auto& u : o.unset_env) remove(u);
  for (const auto& s : o.set_env) {
    remove(name_of(s));
    env.push_back(s);
  }
  return env;
}

// Address space qplug reserves without using it yet (the guest's brk region,
// code cache zones) counts against RLIMIT_AS like any mapping. Under a limit
// (ulimit -v) it takes a share of the limit instead of its usual sizes, so a
// program that runs natively within the limit runs under qplug too.
struct Reservations {
  uint64_t brk = uint64_t{1} << 30;
  size_t code_zone = runtime::CodeCache::kDefaultZoneSize;
};

Reservations reservations_within(uint64_t limit) {
  Reservations r;
  if (limit == RLIM_INFINITY) return r;
  auto share = [&](uint64_t fraction, uint64_t lo, uint64_t hi) {
    return std::clamp<uint64_t>(limit / fraction, lo, hi) & ~uint64_t{0xffff};
  };
  r.brk = share(8, 1u << 20, r.brk);
  r.code_zone = share(32, 1u << 20, r.code_zone);
  return r;
}

Reservations reservations() {
  struct rlimit limit;
  return reservations_within(getrlimit(RLIMIT_AS, &limit) == 0 ? limit.rlim_cur : RLIM_INFINITY);
}

// The guest's program break starts a page after its bss, in the PROT_NONE
// region the loader reserved there (the kernel's brk belongs to the host heap).
// When that region is empty (a fixed-address program with neighbours), any
// address will do.
void reserve_brk(const loader::GuestProgram& program, uint64_t size) {
  auto& b = runtime::rt().brk;
  uint64_t start = program.brk_start;
  uint64_t end = program.brk_reserved_end;
  if (end <= start) {
    void* mem = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fail(make_error(runtime::address_space_problem("the guest's heap")));
    start = reinterpret_cast<uint64_t>(mem);
    end = start + size;
  }
  b.start = b.current = b.mapped = start;
  b.limit = end;
}

uint8_t* new_xsave_area(size_t size) {
  auto* area = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) & ~size_t{63}));
  std::memset(area, 0, size);
  // XSTATE_BV = 0 puts every component in its initial state on xrstor; MXCSR
  // and the x87 control word are loaded from the legacy area regardless.
  const uint16_t fcw = 0x37f;
  const uint32_t mxcsr = 0x1f80;
  std::memcpy(area + 0, &fcw, sizeof fcw);
  std::memcpy(area + 24, &mxcsr, sizeof mxcsr);
  return area;
}

int vector_bytes() {
  const uint64_t saved = x86_64::xstate().mask;
  if ((saved & 0xe6) == 0xe6) return 64;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  if ((saved & 0x6) == 0x6) return 32;
  return 16;  // SSE only
}

}  // namespace

namespace qplug {

namespace runtime {
// The callout routine's entry into C++: each callout action names its runner.
int run_callout(const void* action) {
  const auto& a = *static_cast<const Action*>(action);
  return a.runner(a);
}

void fit_reservations(uint64_t limit) {
  const Reservations r = reservations_within(limit);
  GuestBrk& b = rt().brk;
  const uint64_t keep_until = std::min(b.limit, (b.mapped + r.brk + 4095) & ~uint64_t{4095});
  if (keep_until < b.limit) {
    munmap(reinterpret_cast<void*>(keep_until), b.limit - keep_until);
    b.limit = keep_until;
  }
  if (r.code_zone < rt().cache.zone_size()) {
    rt().cache.set_zone_size(r.code_zone);
    rt().cache.release_unused();
  }
}

void finish_tool() {
  // A clone(CLONE_VM) child shares the plugins' state with its parent, which
  // reports it when it ends.
  if (current_thread().separate_process) return;
  // Once per process, even if an at_exit hook calls exit() (exit_group
  // again), or threads die of a signal and exit at the same time.
  static std::atomic<bool> done{false};
  if (!rt().tool || done.exchange(true)) return;
  flush_all_records();
  rt().tool->at_exit();
}
}  // namespace runtime

void outs(std::string_view text) {
  auto& R = runtime::rt();
  if (!cli::has_log_item(R.options.log_items, "plugin")) return;
  std::fwrite(text.data(), 1, text.size(), R.log);
  std::fflush(R.log);
}

int run_tool(int argc, char** argv, Tool& tool) {
  os::init_fd_reserve();
  // Out of host memory (an address-space limit, say): one line and exit 1,
  // not std::bad_alloc's abort. Nothing here allocates.
  std::set_new_handler([] {
    struct rlimit limit;
    char msg[160];
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      std::snprintf(msg, sizeof msg,
                    "qplug: out of memory within the address space limit (%lu KiB, ulimit -v)\n",
                    static_cast<unsigned long>(limit.rlim_cur >> 10));
    else
      std::snprintf(msg, sizeof msg, "qplug: out of memory\n");
    if (write(2, msg, strlen(msg)) < 0) _exit(1);
    _exit(1);
  });
  std::vector<std::string> env_in;
  for (char** e = environ; *e; ++e) env_in.emplace_back(*e);
  // A followed child gets every option on its command line; QEMU_* variables
  // in the guest's environment would add the same plugin twice, or warn and
  // fail again about what the first process already said.
  Result<cli::Options> parsed = cli::parse_command_line(argc, argv, {});
  if (!parsed || !parsed->log_append) parsed = cli::parse_command_line(argc, argv, env_in);
  if (!parsed) {
    if (parsed.error().exit_status == 0) {  // -d help: the list of log items
      std::printf("%s\n", parsed.error().message.c_str());
      return 0;
    }
    fail(parsed.error());
  }
  cli::Options& o = *parsed;
  if (o.help) {
    cli::ToolInfo info;
    if (argc > 0 && argv[0] && *argv[0]) {
      const char* slash = std::strrchr(argv[0], '/');
      info.name = slash ? slash + 1 : argv[0];
    }
    info.built_in = tool.built_in_plugins();
    info.loads_so_plugins = tool.loads_so_plugins();
    std::fputs(cli::usage_text(info).c_str(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("qplug version 0.1.0 (x86_64 -> x86_64, QEMU plugin API 1-7)\n");
    return 0;
  }
  // Printed as given: QEMU's wording, "qplug: warning: ..." then "Please use ...".
  for (const auto& w : o.warnings) std::fprintf(stderr, "%s\n", w.c_str());
  if (o.plugin_help) {
    std::printf("Plugin options\n  file=<path/to/plugin.so>\n  plugin specific arguments\n");
    return 0;
  }
  if (cli::has_log_item(o.log_items, "strace")) o.strace = true;

  auto& R = runtime::rt();
  if (char* cwd = getcwd(nullptr, 0)) {
    R.start_cwd = cwd;
    std::free(cwd);
  }
  // The first process of a run truncates the -D file, and every process of
  // it (followed children too) appends: O_APPEND, so that nobody writes over
  // what another wrote. Without -D, the log is qplug's own copy of stderr:
  // programs such as coreutils close fd 2 before exiting, and plugins print
  // their results after that. Either way the descriptor is qplug's (fds.h).
  // -d tid: a file per thread, opened by each thread (log_stream.h); else a
  // "%d" in the name is the process id, as in QEMU.
  int log_fd;
  if (cli::has_log_item(o.log_items, "tid")) {
    log_fd = -1;
    // The main thread's file at once: a name that cannot be opened is one
    // error now, not logs lost later.
    std::string name = o.log_file;
    name.replace(name.find("%d"), 2, std::to_string(gettid()));
    const int fd =
        open(name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (o.log_append ? 0 : O_TRUNC), 0666);
    if (fd < 0) fail(make_error("qplug: -D " + name + ": " + std::strerror(errno)));
    close(fd);
    if (FILE* log = runtime::open_per_thread_log_stream(o.log_file, o.log_append)) R.log = log;
  } else if (!o.log_file.empty()) {
    std::string name = o.log_file;
    if (const size_t d = name.find("%d"); d != std::string::npos)
      name.replace(d, 2, std::to_string(getpid()));
    log_fd = open(name.c_str(),
                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (o.log_append ? 0 : O_TRUNC), 0666);
    if (log_fd < 0) fail(make_error("qplug: -D " + name + ": " + std::strerror(errno)));
  } else {
    log_fd = fcntl(2, F_DUPFD_CLOEXEC, 0);
  }
  if (log_fd >= 0) {
    if (FILE* log = runtime::open_log_stream(os::move_to_reserve(log_fd))) R.log = log;
  }
  R.options = o;  // plugins may log from install
  // The guest's environment is taken now, before qplug marks its own.
  std::vector<std::string> guest_env = guest_environment(o);
  // A program reached by following execve: plugins may tell (drcov names its
  // file per process). Only qplug's own environment; the guest never sees it.
  if (o.log_append) setenv("QPLUG_FOLLOWED", "1", 1);
  // QEMU installs plugins before it loads the guest (docs/abi.md, "Plugin entry points").
  R.tool = &tool;
  std::vector<PluginSpec> specs;
  for (const cli::PluginSpec& p : o.plugins) specs.push_back({p.path, p.args});
  if (Result<void> installed = tool.install(specs); !installed) fail(installed.error());
  const Reservations reserved = reservations();
  R.cache.set_zone_size(reserved.code_zone);
  Result<loader::GuestProgram> program =
      loader::load_program(o.program, loader::LoadOptions{o.interp_prefix, reserved.brk});
  if (!program) fail(program.error());
  R.program = std::move(*program);
  R.exe_path = o.program;
  char resolved[PATH_MAX];
  R.exe_realpath = realpath(o.program.c_str(), resolved) ? resolved : o.program;
  ssize_t n = readlink("/proc/self/exe", resolved, sizeof resolved - 1);
  R.qplug_path = n > 0 ? std::string(resolved, static_cast<size_t>(n)) : argv[0];
  reserve_brk(R.program, reserved.brk);

  loader::StackRequest stack;
  stack.argv = o.guest_argv;
  if (stack.argv.empty()) stack.argv.push_back(o.program);
  if (o.argv0_set) stack.argv[0] = o.argv0;
  stack.envp = std::move(guest_env);
  stack.execfn = o.program;
  stack.stack_size = o.stack_size;
  Result<uint64_t> sp = loader::build_initial_stack(R.program, stack);
  if (!sp) fail(sp.error());
  R.options = std::move(o);

  // Translated code and the context switch reach ThreadState through %fs.
  R.env.tls = runtime::tls_offset();
  R.xsave_size = x86_64::xstate().size;
  R.env.vector_bytes = vector_bytes();
  if (const char* v = std::getenv("QPLUG_NO_INLINE"); v && *v == '1') R.env.no_inlining = true;
  void* routines =
      mmap(nullptr, 16384, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (routines == MAP_FAILED) fail(make_error("qplug: cannot map executable memory"));
  R.ctx = x86_64::generate_context_switch(static_cast<uint8_t*>(routines), 16384, R.env.tls,
                                          &runtime::run_callout);
  static runtime::Dispatcher dispatcher;
  R.dispatcher = &dispatcher;

  runtime::ThreadState& ts = runtime::current_thread();
  dispatcher.add_thread(&ts);
  ts.xsave_area = new_xsave_area(R.xsave_size);
  runtime::attach_routines(ts);
  ts.gpr[runtime::kRsp] = *sp;
  ts.rip = R.program.first_pc;
  ts.rflags = 0x202;
  asm volatile("wrgsbase %0" ::"r"(uint64_t{0}) : "memory");
  os::code_pages_init();
  os::install_signal_handlers();
  ts.vcpu_index = os::allocate_vcpu();
  runtime::attach_vcpu_row(ts);
  tool.vcpu_init(0);  // the main vCPU starts just before the first guest instruction
  if (!R.options.gdb.empty()) gdb::start(R.options.gdb.c_str(), ts);
  dispatcher.run(ts);
}

}  // namespace qplug
