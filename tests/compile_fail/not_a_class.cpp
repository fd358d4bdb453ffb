// EXPECT: must be a class type
#include "qplug/qplug.h"
qplug::plugin_list<int> list;
