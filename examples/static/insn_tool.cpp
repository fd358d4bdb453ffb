// qplug-insn: qplug with the static InsnCount plugin built in (and .so plugins too).
//   qplug-insn -d plugin -plugin insn,inline=on /bin/ls
#include "insn.h"

int main(int argc, char** argv) {
  return qplug::run<qplug::plugin_list<qplug::examples::InsnCount, qplug::QemuPlugins>>(argc, argv);
}
