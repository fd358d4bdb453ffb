// vCPU rows. Invariant: row_of(v) is the live TLS row of the thread running
// vCPU v, or the copy that thread left when it exited, so a plugin reading a
// counter at any time sees every thread's contribution. Rows change owner
// only under `mutex`; readers of other threads' live rows race benignly with
// the counters' own updates (as QEMU's scoreboards do).
#include "runtime/vcpu_rows.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "qplug/vcpu_storage.h"

namespace qplug {
namespace {

struct Rows {
  std::mutex mutex;
  size_t used = 0;                                  // bytes handed out in every row
  std::vector<uint8_t*> current;                    // per vCPU: live or retired row
  std::vector<std::unique_ptr<uint8_t[]>> retired;  // per vCPU: copy after exit
  std::vector<RecordBuffer*> buffers;
};

Rows& rows() {
  static Rows* r = new Rows;  // never destroyed: threads may exit during static destruction
  return *r;
}

}  // namespace

namespace detail {

uint32_t allocate_row(size_t size, size_t align) {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  const size_t at = (r.used + align - 1) & ~(align - 1);
  if (at + size > kRowBytes) {
    std::fprintf(stderr, "qplug: per-vCPU storage of static plugins is full (%zu bytes per vCPU)\n",
                 kRowBytes);
    std::exit(1);
  }
  r.used = at + size;
  return static_cast<uint32_t>(at);
}

uint8_t* row_of(unsigned vcpu) {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  return vcpu < r.current.size() ? r.current[vcpu] : nullptr;
}

constinit thread_local uint8_t* t_my_row = nullptr;

unsigned vcpus_seen() {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  return static_cast<unsigned>(r.current.size());
}

}  // namespace detail

RecordBuffer::RecordBuffer(size_t entries, FlushFn flush, void* userdata)
    : entries_(entries ? entries : 1), flush_(flush), userdata_(userdata) {
  cursor_ = detail::allocate_row(sizeof(int64_t), 8);
  end_ = detail::allocate_row(entries_ * sizeof(uint64_t), 8) +
         static_cast<uint32_t>(entries_ * sizeof(uint64_t));
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  r.buffers.push_back(this);
}

RecordBuffer::~RecordBuffer() {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  std::erase(r.buffers, this);
}

void RecordBuffer::flush(unsigned vcpu) {
  uint8_t* row = detail::row_of(vcpu);
  if (!row) return;
  auto* cursor = reinterpret_cast<int64_t*>(row + cursor_);
  const int64_t full = -static_cast<int64_t>(entries_ * sizeof(uint64_t));
  // The cursor is minus the free bytes; 0 means full.
  const size_t used = static_cast<size_t>(*cursor - full) / sizeof(uint64_t);
  *cursor = full;
  if (used && flush_)
    flush_(vcpu, reinterpret_cast<const uint64_t*>(row + end_) - entries_, used, userdata_);
}

namespace runtime {

void attach_vcpu_row(ThreadState& ts) {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  const size_t v = ts.vcpu_index;
  if (r.current.size() <= v) {
    r.current.resize(v + 1, nullptr);
    r.retired.resize(v + 1);
  }
  if (r.retired[v]) std::memcpy(ts.vcpu_row, r.retired[v].get(), detail::kRowBytes);
  for (RecordBuffer* b : r.buffers) {
    const int64_t full = -static_cast<int64_t>(b->entries() * sizeof(uint64_t));
    std::memcpy(ts.vcpu_row + b->cursor_offset(), &full, sizeof full);
  }
  r.current[v] = ts.vcpu_row;
  detail::t_my_row = ts.vcpu_row;
}

void detach_vcpu_row(ThreadState& ts) {
  const auto v = static_cast<unsigned>(ts.vcpu_index);
  std::vector<RecordBuffer*> buffers;
  {
    std::lock_guard guard(rows().mutex);
    buffers = rows().buffers;
  }
  for (RecordBuffer* b : buffers) b->flush(v);
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  if (v >= r.current.size()) return;
  if (!r.retired[v]) r.retired[v] = std::make_unique<uint8_t[]>(detail::kRowBytes);
  std::memcpy(r.retired[v].get(), ts.vcpu_row, detail::kRowBytes);
  r.current[v] = r.retired[v].get();
}

void lend_vcpu_row(const ThreadState& from, ThreadState& to) {
  Rows& r = rows();
  std::lock_guard guard(r.mutex);
  std::memcpy(to.vcpu_row, from.vcpu_row, detail::kRowBytes);
  std::memcpy(to.scoreboard_element, from.scoreboard_element, sizeof to.scoreboard_element);
  if (from.vcpu_index < r.current.size()) r.current[from.vcpu_index] = to.vcpu_row;
  detail::t_my_row = to.vcpu_row;  // meaningful on the thread about to run `to`
}

void flush_all_records() {
  std::vector<RecordBuffer*> buffers;
  unsigned n;
  {
    std::lock_guard guard(rows().mutex);
    buffers = rows().buffers;
    n = static_cast<unsigned>(rows().current.size());
  }
  for (unsigned v = 0; v < n; ++v)
    for (RecordBuffer* b : buffers) b->flush(v);
}

}  // namespace runtime
}  // namespace qplug
