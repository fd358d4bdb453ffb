// qplug/vcpu_storage.h: per-vCPU storage that translated code reaches with no
// register: counters and record buffers of static plugins.
//
// Every vCPU (guest thread) has a row of kRowBytes in the thread's static TLS;
// a PerVcpu<T> or RecordBuffer is an offset into every row, handed out when
// the object is constructed (before the guest starts). Translated code adds to
// a counter with one instruction, `add qword %fs:(row + offset), imm`, where
// QEMU's scoreboards need a base pointer load and an index multiply.
//
// Rows outlive their threads: when a guest thread exits its row is copied out,
// and a later thread that reuses the vCPU index continues from it, so reading
// a counter after the run sees every thread's contribution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace qplug {

namespace detail {
inline constexpr size_t kRowBytes = 16384;
// Offset of `size` bytes aligned to `align` in every vCPU row; aborts with a
// clear message when the rows are full.
uint32_t allocate_row(size_t size, size_t align);
// This vCPU's row (live in its thread's TLS, or its copy once the thread
// exited), or nullptr for a vCPU that never ran.
uint8_t* row_of(unsigned vcpu_index);
// The calling thread's row, as a variable: mine() reads it inline, also from
// functions compiled for general registers only (which cannot inline calls).
extern constinit thread_local uint8_t* t_my_row;
// Number of vCPU indices used so far (max index + 1).
unsigned vcpus_seen();
}  // namespace detail

// How many vCPU indices have been used so far (the highest + 1): the range
// to iterate over when reading every vCPU's value, e.g. in atexit.
inline unsigned vcpu_count() { return detail::vcpus_seen(); }

// One T per vCPU. T must be trivially copyable (rows are copied when threads
// exit). Only 8-byte integral T can be the target of inline add/store.
template <class T>
class PerVcpu {
  static_assert(std::is_trivially_copyable_v<T>,
                "qplug::PerVcpu<T>: T must be trivially copyable (rows are copied)");

 public:
  PerVcpu() : offset_(detail::allocate_row(sizeof(T), alignof(T))) {}
  PerVcpu(const PerVcpu&) = delete;
  PerVcpu& operator=(const PerVcpu&) = delete;

  // The value of vCPU `vcpu_index`; valid while the run lasts. A vCPU that
  // never ran reads as a value-initialised T.
  T get(unsigned vcpu_index) const {
    const uint8_t* row = detail::row_of(vcpu_index);
    return row ? *reinterpret_cast<const T*>(row + offset_) : T{};
  }
  // The calling vCPU's own value, from code running on it (a direct call or
  // a hook): no lock.
  T& mine() { return *reinterpret_cast<T*>(detail::t_my_row + offset_); }

  // Sum over every vCPU that ran (arithmetic T).
  T sum() const {
    T total{};
    for (unsigned v = 0; v < vcpu_count(); ++v) total += get(v);
    return total;
  }

  uint32_t row_offset() const { return offset_; }

 private:
  uint32_t offset_;
};

using Counter = PerVcpu<uint64_t>;

// Called with a vCPU's full buffer (or what is left of it at vCPU exit and at
// program exit). `records` is valid only during the call.
using FlushFn = void (*)(unsigned vcpu_index, const uint64_t* records, size_t count,
                         void* userdata);

// A per-vCPU buffer of 64-bit records. Translated code appends with a
// flag-free inline "buffer full" check and calls `flush` only when it fills,
// so tracing costs a few stores per record instead of a call.
class RecordBuffer {
 public:
  // `entries` records per vCPU (at least 1); they come out of the vCPU rows.
  RecordBuffer(size_t entries, FlushFn flush, void* userdata = nullptr);
  RecordBuffer(const RecordBuffer&) = delete;
  RecordBuffer& operator=(const RecordBuffer&) = delete;
  ~RecordBuffer();

  // Layout in the row: int64 cursor (minus the bytes still free), then the
  // entries, ending at end_offset.
  uint32_t cursor_offset() const { return cursor_; }
  uint32_t end_offset() const { return end_; }
  size_t entries() const { return entries_; }

  // Flushes what `vcpu_index` has buffered (the runtime does this at vCPU
  // exit and program exit; a hook may do it earlier).
  void flush(unsigned vcpu_index);

 private:
  uint32_t cursor_;
  uint32_t end_;
  size_t entries_;
  FlushFn flush_;
  void* userdata_;
};

}  // namespace qplug
