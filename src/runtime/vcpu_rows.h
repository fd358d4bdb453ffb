// vCPU rows: the per-vCPU storage of static plugins (qplug/vcpu_storage.h).
#pragma once

#include "runtime/thread_state.h"

namespace qplug::runtime {

// A thread starts running vCPU ts.vcpu_index: its row continues from the
// row of the last thread that had that index, and record buffers are reset.
void attach_vcpu_row(ThreadState& ts);
// The thread stops (after its vcpu_exit hooks): flushes its record buffers
// and keeps a copy of its row.
void detach_vcpu_row(ThreadState& ts);
// A vfork child runs its waiting parent's vCPU: `to` takes the row over from
// `from` (its contents, record buffers included), and later gives it back
// the same way.
void lend_vcpu_row(const ThreadState& from, ThreadState& to);
// Flushes every vCPU's record buffers (program exit, before at_exit hooks).
void flush_all_records();

}  // namespace qplug::runtime
