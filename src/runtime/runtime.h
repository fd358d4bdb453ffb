// Runtime: the process-wide state of one qplug run (one guest program).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/options.h"
#include "loader/elf_loader.h"
#include "qplug/tool.h"
#include "runtime/code_cache.h"
#include "x86_64/context_switch.h"
#include "x86_64/emitter.h"

namespace qplug::runtime {

class Dispatcher;

// The guest's emulated program break (docs/guest-state.md: the kernel's brk belongs to
// the host heap).
struct GuestBrk {
  uint64_t start = 0;    // initial break
  uint64_t current = 0;  // current break
  uint64_t mapped = 0;   // end of the pages made accessible
  uint64_t limit = 0;    // end of the reserved region
};

struct Runtime {
  cli::Options options;
  loader::GuestProgram program;
  std::string exe_path;      // guest program as given on the command line (AT_EXECFN)
  std::string exe_realpath;  // what the guest's /proc/self/exe resolves to
  std::string qplug_path;    // this executable, for following execve
  std::string start_cwd;     // where relative -plugin and -D paths were given
  CodeCache cache;
  x86_64::ContextSwitch ctx;
  x86_64::EmitEnv env;
  Dispatcher* dispatcher = nullptr;
  Tool* tool = nullptr;  // what the run instruments with (qplug/tool.h)
  GuestBrk brk;
  size_t xsave_size = 0;
  FILE* log = stderr;  // -D file, else stderr
  // Names the plugin whose code faulted at a host pc (and stops calling it),
  // or says nothing: set by the tool that loads plugins.
  std::string (*describe_plugin_crash)(const void* host_pc) = nullptr;
};

Runtime& rt();

// The one-line error for memory qplug could not map for `what` ("the code
// cache"), naming the address-space limit (ulimit -v) when one is set, as the
// likely cause.
std::string address_space_problem(const std::string& what);

// The guest sets an address-space limit (RLIMIT_AS) of `limit` bytes: what
// qplug holds in reserve and does not use (the guest's brk region, code cache
// zones) shrinks to its share of that limit. Under the dispatcher's lock.
void fit_reservations(uint64_t limit);

// Ends the tool's run: flushes record buffers and runs its at_exit hooks,
// once (exit_group, or death by signal; a hook may itself call exit).
void finish_tool();

}  // namespace qplug::runtime
