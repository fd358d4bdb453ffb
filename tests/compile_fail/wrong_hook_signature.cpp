// EXPECT: wrong signature for its event
// EXPECT: BadSignature
#include "qplug/qplug.h"
struct BadSignature {
  void vcpu_init(int a, int b);  // the event passes one vCPU index
};
qplug::plugin_list<BadSignature> list;
