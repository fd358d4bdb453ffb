// EXPECT: listed twice
// EXPECT: Twice
#include "qplug/qplug.h"
struct Twice {
  void at_exit() {}
};
qplug::plugin_list<Twice, Twice> list;
