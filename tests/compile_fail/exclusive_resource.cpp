// EXPECT: claim the same exclusive resource
// EXPECT: FilterA
// EXPECT: FilterB
#include "qplug/qplug.h"
struct FilterA {
  qplug::SyscallVerdict syscall_filter(unsigned, int64_t, const qplug::SyscallArgs&, int64_t*);
};
struct FilterB {
  qplug::SyscallVerdict syscall_filter(unsigned, int64_t, const qplug::SyscallArgs&, int64_t*);
};
qplug::plugin_list<FilterA, FilterB> list;
