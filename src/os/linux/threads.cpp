#include "os/linux/threads.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "gdbstub/stub.h"
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

// A new task's guest state: the parent's at its clone, as the kernel leaves
// the child's (rax 0, rcx and r11 as the syscall return leaves them).
struct GuestStart {
  uint64_t gpr[runtime::kGprCount];
  uint64_t rip, rflags, gs_base;
  uint8_t* xsave;  // copy of the parent's vector state, owned by the child
};

GuestStart start_from(const ThreadState& parent, uint64_t flags, uint64_t stack, uint64_t tls) {
  GuestStart g;
  std::memcpy(g.gpr, parent.gpr, sizeof g.gpr);
  g.gpr[runtime::kRax] = 0;  // the child's clone returns 0
  if (stack) g.gpr[runtime::kRsp] = stack;
  g.gpr[runtime::kRcx] = parent.rip;
  g.gpr[runtime::kR11] = parent.rflags;
  g.rip = parent.rip;
  g.rflags = parent.rflags;
  if (flags & CLONE_SETTLS) {
    g.gs_base = tls;
  } else {
    asm volatile("rdgsbase %0" : "=r"(g.gs_base));
  }
  const size_t xsave_size = runtime::rt().xsave_size;
  g.xsave = static_cast<uint8_t*>(std::aligned_alloc(64, (xsave_size + 63) & ~size_t{63}));
  std::memcpy(g.xsave, parent.xsave_area, xsave_size);
  return g;
}

// Makes the calling host thread's record run `g`.
void adopt(ThreadState& ts, const GuestStart& g) {
  std::memcpy(ts.gpr, g.gpr, sizeof ts.gpr);
  ts.rip = g.rip;
  ts.rflags = g.rflags;
  ts.xsave_area = g.xsave;
  runtime::attach_routines(ts);
  asm volatile("wrgsbase %0" ::"r"(g.gs_base) : "memory");
}

struct ThreadStart {
  GuestStart guest;
  void* signal_actions;
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
  adopt(ts, start->guest);
  use_signal_actions(start->signal_actions);
  ts.vcpu_index = allocate_vcpu();
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
  if (runtime::current_thread().separate_process) {
    std::fprintf(stderr,
                 "qplug: threads of a clone(CLONE_VM) child process are not supported (guest pc "
                 "0x%lx)\n",
                 static_cast<unsigned long>(parent.rip));
    raw_syscall(SYS_exit_group, 1);
  }
  settle_host_thread_library();
  auto* start = new ThreadStart;
  start->guest = start_from(parent, flags, stack, tls);
  start->signal_actions = signal_actions();
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
    std::free(start->guest.xsave);
    delete start;
    return -rc;
  }
  long tid;
  while ((tid = start->tid.load(std::memory_order_acquire)) == 0) sched_yield();
  delete start;
  return tid;
}

// ---- clone(CLONE_VM) without CLONE_THREAD, and vfork ----
//
// The child is a process of its own that shares qplug's memory: vfork and
// posix_spawn (whose child reports a failed exec through that memory),
// AddressSanitizer's leak checker (a tracer task that reads its parent's
// memory). It must run translated on a host thread record of its own, while
// it lives (a vfork parent waits, any other parent runs on). So a donor host
// thread is created for it: the donor sets its record up with the child's
// guest state and makes the child with the kernel's clone plus CLONE_VFORK,
// from a fresh host stack, so that the child inherits the donor's TLS and
// the donor sleeps in the kernel until the child execs or exits; then the
// donor cleans up and ends. The guest's clone flags, tid pointers and exit
// signal go to the kernel as the guest gave them.

// long clone_task(flags, stack, ptid, ctid, fn, arg): the child runs fn(arg)
// on `stack` and never returns; the parent gets the kernel's result.
extern "C" long qplug_clone_task(long flags, void* stack, long ptid, long ctid, void (*fn)(void*),
                                 void* arg);
asm(R"(
  .text
  .globl qplug_clone_task
  .hidden qplug_clone_task
  .type qplug_clone_task, @function
qplug_clone_task:
  mov %rcx, %r10
  sub $16, %rsi
  mov %r8, (%rsi)
  mov %r9, 8(%rsi)
  xor %r8d, %r8d
  mov $56, %eax  # clone(flags, stack, ptid, ctid, tls)
  syscall
  test %rax, %rax
  jnz 1f
  xor %ebp, %ebp
  pop %rax
  pop %rdi
  call *%rax
  hlt
1:
  ret
  .size qplug_clone_task, . - qplug_clone_task
)");

namespace {

struct VmChildStart {
  GuestStart guest;
  uint64_t flags, ptid, ctid;
  bool shares_parent_vcpu;  // vfork: the parent waits, the child runs as its vCPU
  ThreadState* parent;
  void* signal_actions;          // the parent's, or a copy (no CLONE_SIGHAND)
  uint64_t signal_mask;          // the parent's at the clone: the child starts with it
  stack_t host_altstack;         // the donor's, which the child uses while the donor sleeps
  std::atomic<int> tid{0};       // the child's, or -errno; then futex-woken
  std::atomic<int> released{0};  // the child exec'd or exited (vfork's wait)
  std::atomic<int> owners{2};    // the parent and the donor: the last one frees it
  bool own_actions = false;
};

void wake(std::atomic<int>& word, int value) {
  word.store(value, std::memory_order_release);
  raw_syscall(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAKE, 1 << 30, 0, 0, 0);
}

int wait_for(std::atomic<int>& word) {
  int value;
  while ((value = word.load(std::memory_order_acquire)) == 0)
    raw_syscall(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAIT, 0, 0, 0, 0);
  return value;
}

void release(VmChildStart* start) {
  if (start->owners.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (start->own_actions) free_signal_actions(start->signal_actions);
  delete start;
}

// The child, on its own host stack with the donor's TLS.
[[noreturn]] void vm_child_main(void* arg) {
  auto* start = static_cast<VmChildStart*>(arg);
  auto& R = runtime::rt();
  ThreadState& ts = runtime::current_thread();
  ts.separate_process = true;
  sigaltstack(&start->host_altstack, nullptr);  // the kernel reset it for a CLONE_VM child
  set_signal_mask(start->signal_mask);
  const long tid = raw_syscall(SYS_gettid);
  if ((start->flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_VFORK)) ==
      CLONE_CHILD_SETTID)  // the donor took the kernel's word for itself
    *reinterpret_cast<int*>(start->ctid) = static_cast<int>(tid);
  R.dispatcher->add_thread(&ts);
  if (start->shares_parent_vcpu) {
    ts.vcpu_index = start->parent->vcpu_index;
    runtime::lend_vcpu_row(*start->parent, ts);
  } else {
    ts.vcpu_index = allocate_vcpu();
    runtime::attach_vcpu_row(ts);
    R.tool->vcpu_init(static_cast<unsigned>(ts.vcpu_index));
  }
  wake(start->tid, static_cast<int>(tid));
  R.dispatcher->run(ts);
}

void* vm_child_donor(void* arg) {
  auto* start = static_cast<VmChildStart*>(arg);
  // Signals to the guest's process must go to its own threads, not to a
  // donor that sleeps until its child ends.
  set_signal_mask(~uint64_t{0});
  ThreadState& ts = runtime::current_thread();
  adopt(ts, start->guest);
  use_signal_actions(start->signal_actions);
  if (!start->shares_parent_vcpu) ts.vcpu_index = ~uint64_t{0};
  init_thread_signals();
  sigaltstack(nullptr, &start->host_altstack);
  constexpr size_t kHostStack = 2 << 20;
  void* stack = mmap(nullptr, kHostStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  // The donor sleeps until the child execs or exits. With the guest's own
  // vfork that is the kernel's vfork wait, which the guest's parent would be
  // in anyway. Otherwise the donor waits on a word the kernel clears at the
  // child's exec or exit (CLONE_CHILD_CLEARTID), which leaves it stoppable:
  // AddressSanitizer's tracer child ptrace-stops every thread of its parent.
  const uint64_t flags = start->flags & ~uint64_t{CLONE_SETTLS};
  uint64_t kernel_flags = flags;
  uint64_t ctid = start->ctid;
  alignas(4) static thread_local int child_alive;
  const bool wait_on_word = !(flags & (CLONE_VFORK | CLONE_CHILD_CLEARTID));
  if (!wait_on_word) {
    kernel_flags |= CLONE_VFORK;
  } else {
    child_alive = 1;
    kernel_flags = (kernel_flags & ~uint64_t{CLONE_CHILD_SETTID}) | CLONE_CHILD_CLEARTID;
    ctid = reinterpret_cast<uint64_t>(&child_alive);  // the child sets the guest's word itself
  }
  long rc = -ENOMEM;
  if (stack != MAP_FAILED) {
    rc = qplug_clone_task(static_cast<long>(kernel_flags),
                          static_cast<uint8_t*>(stack) + kHostStack, static_cast<long>(start->ptid),
                          static_cast<long>(ctid), vm_child_main, start);
  }
  if (rc > 0 && wait_on_word) {
    while (__atomic_load_n(&child_alive, __ATOMIC_ACQUIRE) != 0)
      raw_syscall(SYS_futex, reinterpret_cast<long>(&child_alive), FUTEX_WAIT, 1, 0, 0, 0);
  }
  // Here the child has exec'd or exited (or was never made).
  auto& R = runtime::rt();
  R.dispatcher->remove_thread(&ts);
  if (start->shares_parent_vcpu && rc > 0) runtime::lend_vcpu_row(ts, *start->parent);
  if (!start->shares_parent_vcpu && ts.vcpu_index != ~uint64_t{0}) {
    runtime::detach_vcpu_row(ts);
    release_vcpu(static_cast<unsigned>(ts.vcpu_index));
  }
  if (stack != MAP_FAILED) munmap(stack, kHostStack);
  std::free(ts.xsave_area);
  ts.xsave_area = nullptr;
  if (rc < 0) wake(start->tid, static_cast<int>(rc));
  wake(start->released, 1);
  release(start);
  return nullptr;
}

}  // namespace

int64_t create_vm_child(ThreadState& parent, uint64_t flags, uint64_t stack, uint64_t ptid,
                        uint64_t ctid, uint64_t tls) {
  settle_host_thread_library();
  auto* start = new VmChildStart;
  start->guest = start_from(parent, flags, stack, tls);
  start->flags = flags;
  start->ptid = ptid;
  start->ctid = ctid;
  start->shares_parent_vcpu = flags & CLONE_VFORK;
  start->parent = &parent;
  start->signal_mask = signal_mask();
  start->own_actions = !(flags & CLONE_SIGHAND);
  start->signal_actions = start->own_actions ? copy_signal_actions() : signal_actions();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, sizeof(ThreadState) + (1 << 20));
  pthread_t donor;
  const int rc = pthread_create(&donor, &attr, vm_child_donor, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    std::free(start->guest.xsave);
    start->owners = 1;
    release(start);
    return -rc;
  }
  const int tid = wait_for(start->tid);
  // vfork: the parent goes on once the child has exec'd or exited; other
  // parents go on now (the donor's record lives as long as the child).
  if (flags & CLONE_VFORK) wait_for(start->released);
  release(start);
  return tid;
}

int64_t guest_set_tid_address(ThreadState&, uint64_t address) {
  clear_child_tid = address;
  return raw_syscall(SYS_gettid);
}

void exit_guest_thread(ThreadState& ts, int status) {
  auto& R = runtime::rt();
  // The last thread ends the process; so does a CLONE_VM child's only one.
  if (ts.separate_process || R.dispatcher->live_threads() <= 1) exit_group(status);
  if (clear_child_tid) {
    __atomic_store_n(reinterpret_cast<int*>(clear_child_tid), 0, __ATOMIC_RELEASE);
    raw_syscall(SYS_futex, static_cast<long>(clear_child_tid), FUTEX_WAKE, 1, 0, 0, 0);
  }
  R.tool->vcpu_exit(static_cast<unsigned>(ts.vcpu_index));
  gdb::on_thread_exit(ts);
  runtime::detach_vcpu_row(ts);
  R.dispatcher->remove_thread(&ts);
  release_vcpu(static_cast<unsigned>(ts.vcpu_index));
  std::free(ts.xsave_area);
  ts.xsave_area = nullptr;
  pthread_exit(nullptr);
}

}  // namespace qplug::os
