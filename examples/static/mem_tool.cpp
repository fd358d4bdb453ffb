// qplug-mem: qplug with the static Mem plugin built in (and .so plugins too).
//   qplug-mem -d plugin -plugin mem,inline=on /bin/ls
#include "mem.h"

int main(int argc, char** argv) {
  return qplug::run<qplug::plugin_list<qplug::examples::Mem, qplug::QemuPlugins>>(argc, argv);
}
