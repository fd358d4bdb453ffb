// Microbenchmarks of instrumentation hooks: the cost of one event (a block
// entry, an instruction, a memory access, a system call) with each hook kind
// of the QEMU plugin C ABI, under qplug and under qemu-x86_64, against the
// native cost of the same event. See bench/README.md.
//
// Every benchmark runs a freestanding guest (bench/micro/*.S) as a
// subprocess with two loop lengths x1 < x2; start-up and translation are the
// same in both runs and cancel: cost per event = (t(x2) - t(x1)) / events.
// The Time column is that cost (manual time, nanoseconds); counters:
//   native_ns  the native cost of the same event (uninstrumented event)
//   x_native   Time / native_ns
//   hook_ns    Time minus the same runner's cost without the plugin
//   start_ms   the fitted time at x = 0 (process start-up and translation)
//   events     events between the two runs (checked against the plugin's count)
//
// Options (before Google Benchmark's own): --quick (one run per point, small
// loops: a smoke test), --markdown (summary tables in Markdown), --no-qemu.
// Environment: QPLUG, QEMU (binaries), QPLUG_BENCH_REPS (runs per point,
// default 5), QPLUG_BENCH_TARGET_S (seconds of the long run, default 0.2),
// QPLUG_BENCH_CLOCK=cpu|wall (default cpu: user + system time of the child,
// which other processes on a shared machine disturb less than wall time).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "process.hpp"

namespace qplug_bench {
namespace {
std::string Num(double v, const char* fmt = "%.2f");

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------
struct Settings {
  bool quick = false;
  bool markdown = false;
  bool use_qemu = true;
  int reps = 5;
  double target_s = 0.2;
  bool cpu_clock = true;
};
Settings g_settings;
int g_errors = 0;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// ---------------------------------------------------------------------------
// Guests and hooks
// ---------------------------------------------------------------------------
enum class Guest { kLoop, kSyscall, kChain };

std::string GuestPath(Guest g) {
  switch (g) {
    case Guest::kLoop:
      return QPLUG_BENCH_GUEST_LOOP;
    case Guest::kSyscall:
      return QPLUG_BENCH_GUEST_SYSCALL;
    case Guest::kChain:
      return QPLUG_BENCH_GUEST_CHAIN;
  }
  return {};
}

constexpr uint64_t kChainBlocks = 8192;  // CHAIN_BLOCKS in chain.S
constexpr int kLoopInsns = 8;            // loop.S: instructions per iteration
constexpr int kLoopAccesses = 2;         // loop.S: memory accesses per iteration

enum class Check { kNone, kCount, kZero };

// One hook kind of hook_plugin.c, the guest it runs on, and how many of its
// events one guest iteration has. kind == nullptr: no plugin (the baseline).
struct Hook {
  const char* name;
  const char* kind;
  int min_api;
  Guest guest;
  int events_per_iter;
  const char* unit;
  Check check;
};

const Hook kHooks[] = {
    {"loop", nullptr, 0, Guest::kLoop, 1, "iteration", Check::kNone},
    {"syscall", nullptr, 0, Guest::kSyscall, 1, "syscall", Check::kNone},
    {"trans", "trans", 1, Guest::kLoop, 1, "iteration", Check::kZero},
    {"tb-inline-add", "tb-inline-add", 1, Guest::kLoop, 1, "block", Check::kCount},
    {"tb-inline-store", "tb-inline-store", 3, Guest::kLoop, 1, "block", Check::kNone},
    {"insn-inline-add", "insn-inline-add", 1, Guest::kLoop, kLoopInsns, "insn", Check::kCount},
    {"tb-cond-taken", "tb-cond-taken", 3, Guest::kLoop, 1, "block", Check::kCount},
    {"tb-cond-not-taken", "tb-cond-not-taken", 3, Guest::kLoop, 1, "block", Check::kZero},
    {"insn-cond-taken", "insn-cond-taken", 3, Guest::kLoop, kLoopInsns, "insn", Check::kCount},
    {"insn-cond-not-taken", "insn-cond-not-taken", 3, Guest::kLoop, kLoopInsns, "insn",
     Check::kZero},
    {"tb-cb", "tb-cb", 1, Guest::kLoop, 1, "block", Check::kCount},
    {"insn-cb", "insn-cb", 1, Guest::kLoop, kLoopInsns, "insn", Check::kCount},
    {"mem-cb", "mem-cb", 1, Guest::kLoop, kLoopAccesses, "access", Check::kCount},
    {"mem-cb-value", "mem-cb-value", 4, Guest::kLoop, kLoopAccesses, "access", Check::kCount},
    {"syscall-cb", "syscall-cb", 1, Guest::kSyscall, 1, "syscall", Check::kCount},
};

// The uninstrumented hook on the same guest.
const Hook& Baseline(const Hook& h) { return h.guest == Guest::kSyscall ? kHooks[1] : kHooks[0]; }

// Translation benchmarks: the chain guest with these hooks.
const Hook kChainHooks[] = {
    {"none", nullptr, 0, Guest::kChain, 1, "block", Check::kNone},
    {"tb-cb", "tb-cb", 1, Guest::kChain, 1, "block", Check::kNone},
    {"insn-cb", "insn-cb", 1, Guest::kChain, 1, "block", Check::kNone},
};

// ---------------------------------------------------------------------------
// Runners: how a guest runs, with or without a hook. A new runner kind (e.g.
// qplug with a statically linked C++ plugin) is one entry in Runners().
// ---------------------------------------------------------------------------
struct Runner {
  std::string name;
  int api;  // highest plugin API version of its plugin; 0: runs no plugin
  // The command prefix for a run with hook kind `kind` (nullptr: no plugin),
  // the plugin's output going to `log`.
  std::function<Argv(const char* kind, const std::string& log)> prefix;
  std::vector<std::string> unsupported = {};  // hook kinds it has no counterpart of

  bool Supports(const Hook& h) const {
    if (h.kind && std::find(unsupported.begin(), unsupported.end(), h.kind) != unsupported.end())
      return false;
    return h.kind == nullptr || (api > 0 && h.min_api <= api);
  }
};

// A QEMU-compatible command line: BINARY [-d plugin -D LOG -plugin PLUGIN,hook=KIND].
Runner TranslatorRunner(std::string name, std::string binary, std::string plugin, int api) {
  return Runner{
      std::move(name), api, [binary, plugin](const char* kind, const std::string& log) {
        Argv a{binary};
        if (kind) {
          a.insert(a.end(), {"-d", "plugin", "-D", log, "-plugin", plugin + ",hook=" + kind});
        }
        return a;
      }};
}

const std::vector<Runner>& Runners() {
  static const std::vector<Runner> runners = [] {
    std::vector<Runner> r;
    r.push_back(Runner{"native", 0, [](const char*, const std::string&) { return Argv{}; }});
    std::string qplug = EnvOr("QPLUG", QPLUG_BENCH_QPLUG);
    r.push_back(TranslatorRunner("qplug", qplug, QPLUG_BENCH_HOOK_PLUGIN, 7));
    // The same hooks as a static C++ plugin (static_hooks.cpp), in its own tool.
    Runner static_tool =
        TranslatorRunner("static", EnvOr("QPLUG_STATIC", QPLUG_BENCH_STATIC), "hook", 7);
    static_tool.unsupported = {"mem-cb-value"};
    r.push_back(std::move(static_tool));
    std::string qemu = EnvOr("QEMU", QPLUG_BENCH_QEMU);
    if (g_settings.use_qemu && !qemu.empty() && access(qemu.c_str(), X_OK) == 0) {
      r.push_back(TranslatorRunner("qemu", qemu, QPLUG_BENCH_HOOK_PLUGIN_V1, 1));
    }
    return r;
  }();
  return runners;
}

const Runner& NativeRunner() { return Runners()[0]; }

// ---------------------------------------------------------------------------
// Measurement: medians of repeated runs at two points, and the line through them
// ---------------------------------------------------------------------------
struct Fit {
  double slope_s = 0;      // seconds per unit of x
  double intercept_s = 0;  // seconds at x = 0
  uint64_t x1 = 0, x2 = 0;
  std::optional<uint64_t> count1, count2;  // the plugin's event counts
};

// One run of the guest with arguments args; its time and the plugin's count.
std::optional<double> RunOnce(const Runner& r, const Hook& h, const Argv& args,
                              std::optional<uint64_t>* count, std::string* error) {
  const std::string log = ScratchDir() + "/plugin.log";
  unlink(log.c_str());
  Argv argv = r.prefix(h.kind, log);
  argv.insert(argv.end(), args.begin(), args.end());
  std::optional<RunTime> t = RunTimed(argv, error);
  if (!t) return std::nullopt;
  if (h.kind) {
    *count = FindCount(ReadFile(log).value_or(""), "count");
    if (!*count) {
      *error = Join(argv) + ": no \"count=\" in the plugin's output " + log;
      return std::nullopt;
    }
  }
  return g_settings.cpu_clock ? t->cpu_s : t->wall_s;
}

// Measures the guest at x1 and x2 (x2 == 0: the x that makes a run take
// about target_s longer than at x1, found by growing x from x_probe).
std::optional<Fit> Measure(const Runner& r, const Hook& h,
                           const std::function<Argv(uint64_t)>& args, uint64_t x1, uint64_t x2,
                           uint64_t x_probe, std::string* error) {
  Fit f;
  f.x1 = x1;
  std::optional<double> t1 = RunOnce(r, h, args(x1), &f.count1, error);  // warms the caches
  if (!t1) return std::nullopt;
  if (x2 == 0) {
    t1 = RunOnce(r, h, args(x1), &f.count1, error);
    if (!t1) return std::nullopt;
    uint64_t x = x_probe;
    for (;;) {
      std::optional<double> t = RunOnce(r, h, args(x), &f.count2, error);
      if (!t) return std::nullopt;
      double dt = *t - *t1;
      if (dt >= g_settings.target_s / 4 || x >= (uint64_t{1} << 36)) {
        x2 = dt > 0 ? uint64_t(double(x - x1) * g_settings.target_s / dt) + x1 : x;
        x2 = std::max(x2, x1 + 1);
        break;
      }
      x *= 8;
    }
  }
  f.x2 = x2;
  std::vector<double> s1, s2;
  for (int i = 0; i < g_settings.reps; i++) {  // interleaved: drift affects both alike
    std::optional<double> a = RunOnce(r, h, args(x1), &f.count1, error);
    if (!a) return std::nullopt;
    std::optional<double> b = RunOnce(r, h, args(x2), &f.count2, error);
    if (!b) return std::nullopt;
    s1.push_back(*a);
    s2.push_back(*b);
  }
  double m1 = Median(s1), m2 = Median(s2);
  f.slope_s = (m2 - m1) / double(x2 - x1);
  f.intercept_s = m1 - f.slope_s * double(x1);
  return f;
}

enum class Mode { kEvent, kCold, kWarm };

// A guest argument: zero-padded to 20 digits, so that the guest's argument
// parsing runs the same instructions for every value.
std::string Arg(uint64_t x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(x));
  return buf;
}

// Results by runner/hook/mode: each combination is measured once and shared
// between the benchmark that reports it and those that compare with it.
std::map<std::string, Fit> g_fits;

const Fit* GetFit(const Runner& r, const Hook& h, Mode mode, std::string* error) {
  const std::string key = r.name + "/" + h.name + "/" + std::to_string(int(mode));
  auto it = g_fits.find(key);
  if (it != g_fits.end()) return &it->second;
  const std::string guest = GuestPath(h.guest);
  const bool quick = g_settings.quick;
  auto loop_args = [&](uint64_t x) { return Argv{guest, Arg(x)}; };
  auto cold_args = [&](uint64_t x) { return Argv{guest, Arg(x), Arg(1)}; };  // x blocks, once
  auto warm_args = [&](uint64_t x) { return Argv{guest, Arg(kChainBlocks), Arg(x)}; };  // x times
  std::optional<Fit> f;
  switch (mode) {
    case Mode::kEvent:
      f = Measure(r, h, loop_args, 1000, quick ? 20000 : 0,
                  h.guest == Guest::kSyscall ? 1 << 12 : 1 << 16, error);
      break;
    case Mode::kCold:
      f = Measure(r, h, cold_args, quick ? 64 : 512, quick ? 512 : kChainBlocks, 0, error);
      break;
    case Mode::kWarm:
      f = Measure(r, h, warm_args, 1, quick ? 3 : 0, 8, error);
      if (f) f->slope_s /= double(kChainBlocks);  // per block
      break;
  }
  if (!f) return nullptr;
  if (mode == Mode::kEvent && h.check != Check::kNone) {
    uint64_t want = h.check == Check::kZero ? 0 : (f->x2 - f->x1) * h.events_per_iter;
    uint64_t got = *f->count2 - *f->count1;
    if (got != want || (h.check == Check::kZero && *f->count2 != 0)) {
      *error = r.name + " " + h.name + ": the plugin counted " + std::to_string(*f->count1) +
               " and " + std::to_string(*f->count2) + " events at " + std::to_string(f->x1) +
               " and " + std::to_string(f->x2) + " iterations, expected a difference of " +
               std::to_string(want);
      return nullptr;
    }
  }
  return &g_fits.emplace(key, *f).first->second;
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------
struct Row {
  std::string runner, hook, unit;
  double ns = NAN, native_ns = NAN, hook_ns = NAN, start_ms = NAN;
};
std::vector<Row> g_event_rows;
std::map<std::pair<std::string, std::string>, std::pair<double, double>> g_chain;  // cold, warm

void Fail(benchmark::State& state, const std::string& error) {
  std::fprintf(stderr, "micro_bench: %s\n", error.c_str());
  g_errors++;
  state.SkipWithError(error.c_str());
}

void EventBenchmark(benchmark::State& state, const Runner* r, const Hook* h) {
  std::string error;
  const Fit* native = GetFit(NativeRunner(), Baseline(*h), Mode::kEvent, &error);
  const Fit* plain = native ? GetFit(*r, Baseline(*h), Mode::kEvent, &error) : nullptr;
  const Fit* f = plain ? GetFit(*r, *h, Mode::kEvent, &error) : nullptr;
  if (!f) return Fail(state, "event/" + std::string(h->name) + "/" + r->name + ": " + error);
  Row row{r->name, h->name, h->unit};
  row.ns = f->slope_s * 1e9 / h->events_per_iter;
  row.native_ns = native->slope_s * 1e9 / h->events_per_iter;
  if (h->kind) row.hook_ns = row.ns - plain->slope_s * 1e9 / h->events_per_iter;
  row.start_ms = f->intercept_s * 1e3;
  for (auto _ : state) state.SetIterationTime(row.ns * 1e-9);
  state.counters["native_ns"] = row.native_ns;
  state.counters["x_native"] = row.ns / row.native_ns;
  if (h->kind) state.counters["hook_ns"] = row.hook_ns;
  state.counters["start_ms"] = row.start_ms;
  state.counters["events"] = double((f->x2 - f->x1) * h->events_per_iter);
  g_event_rows.push_back(row);
}

void ChainBenchmark(benchmark::State& state, const Runner* r, const Hook* h, Mode mode) {
  std::string error;
  const Fit* native = GetFit(NativeRunner(), kChainHooks[0], mode, &error);
  const Fit* plain = native ? GetFit(*r, kChainHooks[0], mode, &error) : nullptr;
  const Fit* f = plain ? GetFit(*r, *h, mode, &error) : nullptr;
  if (!f) return Fail(state, "translate/" + std::string(h->name) + "/" + r->name + ": " + error);
  double ns = f->slope_s * 1e9;
  for (auto _ : state) state.SetIterationTime(f->slope_s);
  state.counters["native_ns"] = native->slope_s * 1e9;
  state.counters["x_native"] = f->slope_s / native->slope_s;
  if (h->kind) state.counters["hook_ns"] = ns - plain->slope_s * 1e9;
  state.counters["start_ms"] = f->intercept_s * 1e3;
  auto& cell = g_chain[{r->name, h->name}];
  (mode == Mode::kCold ? cell.first : cell.second) = ns;
}

void RegisterAll() {
  for (const Runner& r : Runners()) {
    for (const Hook& h : kHooks) {
      if (!r.Supports(h)) continue;
      benchmark::RegisterBenchmark(("event/" + std::string(h.name) + "/" + r.name).c_str(),
                                   EventBenchmark, &r, &h)
          ->UseManualTime()
          ->Iterations(1)
          ->Unit(benchmark::kNanosecond);
    }
  }
  for (Mode mode : {Mode::kCold, Mode::kWarm}) {
    for (const Runner& r : Runners()) {
      for (const Hook& h : kChainHooks) {
        if (!r.Supports(h)) continue;
        std::string name = std::string("translate/") + (mode == Mode::kCold ? "cold/" : "warm/") +
                           h.name + "/" + r.name;
        benchmark::RegisterBenchmark(name.c_str(), ChainBenchmark, &r, &h, mode)
            ->UseManualTime()
            ->Iterations(1)
            ->Unit(benchmark::kNanosecond);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Summary tables
// ---------------------------------------------------------------------------
// A ratio with 2-3 significant digits: 1234x, 123x, 12.3x, 1.23x, 0.012x.
std::string Ratio(double v) {
  const char* fmt = v >= 99.5 ? "%.0fx" : v >= 9.95 ? "%.1fx" : v >= 0.0995 ? "%.2fx" : "%.3fx";
  return Num(v, fmt);
}

std::string Num(double v, const char* fmt) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, int header_rows = 1) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], row[i].size());
  }
  for (size_t n = 0; n < rows.size(); n++) {
    const auto& row = rows[n];
    for (size_t i = 0; i < row.size(); i++) {
      if (g_settings.markdown) {
        std::printf("| %s ", row[i].c_str());
      } else {
        std::printf(i ? " %*s" : "%-*s", int(width[i]), row[i].c_str());
      }
    }
    std::printf(g_settings.markdown ? "|\n" : "\n");
    if (g_settings.markdown && int(n) + 1 == header_rows) {
      for (size_t i = 0; i < row.size(); i++) std::printf(i ? "|---:" : "|---");
      std::printf("|\n");
    }
  }
}

void PrintSummary() {
  std::vector<std::string> translators;
  for (const Runner& r : Runners()) {
    if (r.api > 0) translators.push_back(r.name);
  }
  std::map<std::pair<std::string, std::string>, const Row*> by;
  for (const Row& row : g_event_rows) by[{row.runner, row.hook}] = &row;
  std::vector<std::vector<std::string>> t;
  std::vector<std::string> head{"hook", "event", "native ns"};
  for (const std::string& n : translators) {
    head.insert(head.end(), {n + " ns", n + " x native", n + " hook ns"});
  }
  for (const std::string& n : translators) {
    if (n != "qemu" && by.count({"qemu", "loop"})) head.push_back("qemu/" + n);
  }
  // The .so plugin against the same plugin compiled in statically.
  const bool so_vs_static = by.count({"qplug", "loop"}) && by.count({"static", "loop"});
  if (so_vs_static) head.push_back(".so/static");
  t.push_back(head);
  for (const Hook& h : kHooks) {
    std::vector<std::string> line{h.name, h.unit, "-"};
    bool any = false;
    for (const std::string& n : translators) {
      auto it = by.find({n, h.name});
      if (it == by.end()) {
        line.insert(line.end(), {"-", "-", "-"});
        continue;
      }
      const Row& row = *it->second;
      any = true;
      line[2] = Num(row.native_ns);
      line.insert(line.end(), {Num(row.ns), Ratio(row.ns / row.native_ns), Num(row.hook_ns)});
    }
    for (const std::string& n : translators) {
      if (n == "qemu" || !by.count({"qemu", "loop"})) continue;
      auto a = by.find({"qemu", h.name}), b = by.find({n, h.name});
      line.push_back(a != by.end() && b != by.end() ? Ratio(a->second->ns / b->second->ns) : "-");
    }
    if (so_vs_static) {
      auto a = by.find({"qplug", h.name}), b = by.find({"static", h.name});
      line.push_back(a != by.end() && b != by.end() ? Ratio(a->second->ns / b->second->ns) : "-");
    }
    if (any) t.push_back(line);
  }
  std::printf(
      "\nCost per event (ns; x native = per-event time over the native time of the "
      "same event; hook ns = added to the runner's own uninstrumented cost)\n\n");
  PrintTable(t);

  if (g_chain.empty()) return;
  t.clear();
  t.push_back(
      {"runner", "hook", "cold ns/block", "warm ns/block", "cold - warm (us)", "cold x native"});
  double native_cold = g_chain.count({"native", "none"}) ? g_chain[{"native", "none"}].first : NAN;
  for (const Runner& r : Runners()) {
    for (const Hook& h : kChainHooks) {
      auto it = g_chain.find({r.name, h.name});
      if (it == g_chain.end()) continue;
      auto [cold, warm] = it->second;
      t.push_back({r.name, h.name, Num(cold, "%.1f"), Num(warm, "%.2f"),
                   Num((cold - warm) / 1e3, "%.2f"), Ratio(cold / native_cold)});
    }
  }
  std::printf(
      "\nTranslation: the first execution of distinct blocks (cold) against executing "
      "them again (warm), per block of 3 instructions\n\n");
  PrintTable(t);
}

}  // namespace
}  // namespace qplug_bench

int main(int argc, char** argv) {
  using qplug_bench::g_settings;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_settings.quick = true;
    } else if (std::strcmp(argv[i], "--markdown") == 0) {
      g_settings.markdown = true;
    } else if (std::strcmp(argv[i], "--no-qemu") == 0) {
      g_settings.use_qemu = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  const char* quick = std::getenv("QPLUG_BENCH_QUICK");
  if (quick && *quick && std::strcmp(quick, "0") != 0) g_settings.quick = true;
  g_settings.reps =
      g_settings.quick ? 1 : std::atoi(qplug_bench::EnvOr("QPLUG_BENCH_REPS", "5").c_str());
  g_settings.target_s = std::atof(qplug_bench::EnvOr("QPLUG_BENCH_TARGET_S", "0.2").c_str());
  g_settings.cpu_clock = qplug_bench::EnvOr("QPLUG_BENCH_CLOCK", "cpu") != "wall";
  if (g_settings.reps < 1 || !(g_settings.target_s > 0)) {
    std::fprintf(stderr, "micro_bench: QPLUG_BENCH_REPS must be >= 1, QPLUG_BENCH_TARGET_S > 0\n");
    return 2;
  }
  int n = int(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 2;
  qplug_bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  qplug_bench::PrintSummary();
  if (qplug_bench::g_errors) {
    std::fprintf(stderr, "micro_bench: %d benchmark(s) failed\n", qplug_bench::g_errors);
    return 1;
  }
  return 0;
}
