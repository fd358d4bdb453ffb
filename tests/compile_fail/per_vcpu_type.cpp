// EXPECT: T must be trivially copyable
#include <string>

#include "qplug/qplug.h"
struct KeepsStrings {
  qplug::PerVcpu<std::string> names;
};
KeepsStrings plugin;
