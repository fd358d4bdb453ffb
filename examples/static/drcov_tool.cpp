// qplug-drcov: qplug with the static Drcov plugin built in (and .so plugins too).
//   qplug-drcov -plugin drcov,filename=ls.%p.drcov /bin/ls
#include "drcov.h"

int main(int argc, char** argv) {
  return qplug::run<qplug::plugin_list<qplug::examples::Drcov, qplug::QemuPlugins>>(argc, argv);
}
