// EXPECT: Fn must be a function void(unsigned vcpu_index, uint64_t arg)
#include "qplug/qplug.h"
void takes_a_pointer(unsigned, void*);
struct CallsWrongFunction {
  void tb_trans(qplug::Tb& tb) { tb.call<&takes_a_pointer>(1); }
};
qplug::plugin_list<CallsWrongFunction> list;
