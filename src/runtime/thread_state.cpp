#include "runtime/thread_state.h"

#include <algorithm>

#include "runtime/runtime.h"

namespace qplug::runtime {
constinit thread_local ThreadState tls_state __attribute__((tls_model("initial-exec")));

int64_t tls_offset_of(const void* variable) {
  uint64_t thread_pointer;
  // glibc keeps the TCB's self pointer at %fs:0.
  asm volatile("mov %%fs:0, %0" : "=r"(thread_pointer));
  return static_cast<int64_t>(reinterpret_cast<uint64_t>(variable) - thread_pointer);
}

int64_t tls_offset() { return tls_offset_of(&tls_state); }

void attach_routines(ThreadState& ts) {
  const x86_64::ContextSwitch& ctx = rt().ctx;
  ts.exit_common = reinterpret_cast<uint64_t>(ctx.exit_common);
  ts.lookup_miss = reinterpret_cast<uint64_t>(ctx.lookup_miss);
  ts.callout_routine = reinterpret_cast<uint64_t>(ctx.callout);
  ts.host_mxcsr = 0x1f80;
  clear_lookup_table(ts);
}

void clear_lookup_table(ThreadState& ts) {
  std::fill(std::begin(ts.lookup), std::end(ts.lookup), ts.lookup_miss);
}

}  // namespace qplug::runtime
