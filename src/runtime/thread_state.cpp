#include "runtime/thread_state.h"

namespace qplug::runtime {
constinit thread_local ThreadState tls_state __attribute__((tls_model("initial-exec")));

int64_t tls_offset_of(const void* variable) {
  uint64_t thread_pointer;
  // glibc keeps the TCB's self pointer at %fs:0.
  asm volatile("mov %%fs:0, %0" : "=r"(thread_pointer));
  return static_cast<int64_t>(reinterpret_cast<uint64_t>(variable) - thread_pointer);
}

int64_t tls_offset() { return tls_offset_of(&tls_state); }

}  // namespace qplug::runtime
