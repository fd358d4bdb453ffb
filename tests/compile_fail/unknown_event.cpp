// EXPECT: not an event
// EXPECT: NotAnEvent
#include "qplug/qplug.h"
struct Counter {
  void at_exit() {}
};
struct NotAnEvent {};
void fire(qplug::plugin_list<Counter>& list) { list.fire<NotAnEvent>(); }
