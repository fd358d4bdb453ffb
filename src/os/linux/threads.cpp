#include "os/linux/threads.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "os/linux/raw_syscall.h"
#include "os/linux/signals.h"
#include "os/linux/syscalls.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "runtime/vcpu_rows.h"

namespace qplug::os {

using runtime::ThreadState;

namespace {

std::mutex vcpu_mutex;
std::set<unsigned> live_vcpus;
std::atomic<unsigned> vcpus_seen{0};

thread_local uint64_t clear_child_tid = 0;

struct ThreadStart {
  uint64_t gpr[runtime::kGprCount];
  uint64_t rip, rflags, gs_base;
  uint8_t* xsave;  // copy of the parent's vector state
  uint64_t flags, ptid, ctid;
  std::atomic<long> tid{0};  // set by the child once it owns copies of everything
};

void release_vcpu(unsigned index) {
  std::lock_guard guard(vcpu_mutex);
  live_vcpus.erase(index);
}

void* thread_main(void* arg) {
  auto* start = static_cast<ThreadStart*>(arg);
  auto& R = runtime::rt();
  ThreadState& ts = runtime::current_thread();
  std::memcpy(ts.gpr, start->gpr, sizeof ts.gpr);
  ts.rip = start->rip;
  ts.rflags = start->rflags;
  ts.xsave_area = start->xsave;
  runtime::attach_routines(ts);
  ts.vcpu_index = allocate_vcpu();
  asm volatile("wrgsbase %0" ::"r"(start->gs_base) : "memory");
  const long tid = raw_syscall(SYS_gettid);
  // Both tid stores happen before any guest code of the child runs, as the
  // kernel does them: the child's exit clears the same word (pthread_join).
  if (start->flags & CLONE_PARENT_SETTID)
    *reinterpret_cast<int*>(start->ptid) = static_cast<int>(tid);
  if (start->flags & CLONE_CHILD_SETTID)
    *reinterpret_cast<int*>(start->ctid) = static_cast<int>(tid);
  if (start->flags & CLONE_CHILD_CLEARTID) clear_child_tid = start->ctid;
  init_thread_signals();
  R.dispatcher->add_thread(&ts);
  start->tid.store(tid, std::memory_order_release);  // the parent frees `start` after this
  runtime::attach_vcpu_row(ts);
  R.tool->vcpu_init(static_cast<unsigned>(ts.vcpu_index));
  R.dispatcher->run(ts);
}

}  // namespace

unsigned allocate_vcpu() {
  std::lock_guard guard(vcpu_mutex);
  const unsigned index = live_vcpus.empty() ? 0 : *live_vcpus.rbegin() + 1;
  live_vcpus.insert(index);
  unsigned seen = vcpus_seen.load();
  while (seen < index + 1 && !vcpus_seen.compare_exchange_weak(seen, index + 1)) {
  }
  return index;
}

unsigned max_vcpus_seen() { return vcpus_seen.load(); }

// glibc installs its SIGCANCEL and SIGSETXID handlers in the process's first
// pthread_create (late_init), over the guest's. A throwaway thread makes that
// happen before any guest thread exists, and the guest's dispositions go back.
static void settle_host_thread_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_t t;
    if (pthread_create(
            &t, nullptr, [](void*) -> void* { return nullptr; }, nullptr) == 0)
      pthread_join(t, nullptr);
    reinstall_reserved_signals();
  });
}

int64_t create_guest_thread(ThreadState& parent, uint64_t flags, uint64_t stack, uint64_t ptid,
                            uint64_t ctid, uint64_t tls) {
  constexpr uint64_t kRequired = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
  if ((flags & kRequired) != kRequired) return -EINVAL;  // CLONE_VM without a thread: not emulated
  settle_host_thread_library();
  auto* start = new ThreadStart;
  std::memcpy(start->gpr, parent.gpr, sizeof start->gpr);
  start->gpr[runtime::kRax] = 0;  // the child's clone returns 0
  if (stack) start->gpr[runtime::kRsp] = stack;
  start->gpr[runtime::kRcx] = parent.rip;  // as the kernel's syscall return leaves them
  start->gpr[runtime::kR11] = parent.rflags;
  start->rip = parent.rip;
  start->rflags = parent.rflags;
  if (flags & CLONE_SETTLS) {
    start->gs_base = tls;
  } else {
    asm volatile("rdgsbase %0" : "=r"(start->gs_base));
  }
  const size_t xsave_size = runtime::rt().xsave_size;
  start->xsave = static_cast<uint8_t*>(std::aligned_alloc(64, (xsave_size + 63) & ~size_t{63}));
  std::memcpy(start->xsave, parent.xsave_area, xsave_size);
  start->flags = flags;
  start->ptid = ptid;
  start->ctid = ctid;

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // glibc carves the static TLS (ThreadState with its lookup table) out
  // of the stack: leave room for it plus the dispatcher's and plugins' stack.
  pthread_attr_setstacksize(&attr, sizeof(ThreadState) + (2 << 20));
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, thread_main, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    std::free(start->xsave);
    delete start;
    return -rc;
  }
  long tid;
  while ((tid = start->tid.load(std::memory_order_acquire)) == 0) sched_yield();
  delete start;
  return tid;
}

int64_t guest_set_tid_address(ThreadState&, uint64_t address) {
  clear_child_tid = address;
  return raw_syscall(SYS_gettid);
}

void exit_guest_thread(ThreadState& ts, int status) {
  auto& R = runtime::rt();
  if (R.dispatcher->live_threads() <= 1) exit_group(status);  // the last thread ends the process
  if (clear_child_tid) {
    __atomic_store_n(reinterpret_cast<int*>(clear_child_tid), 0, __ATOMIC_RELEASE);
    raw_syscall(SYS_futex, static_cast<long>(clear_child_tid), FUTEX_WAKE, 1, 0, 0, 0);
  }
  R.tool->vcpu_exit(static_cast<unsigned>(ts.vcpu_index));
  runtime::detach_vcpu_row(ts);
  R.dispatcher->remove_thread(&ts);
  release_vcpu(static_cast<unsigned>(ts.vcpu_index));
  std::free(ts.xsave_area);
  ts.xsave_area = nullptr;
  pthread_exit(nullptr);
}

}  // namespace qplug::os
