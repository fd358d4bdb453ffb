// qplug-bb: qplug with the static Bb plugin built in (and .so plugins too).
//   qplug-bb -d plugin -plugin bb,inline=on /bin/ls
#include "bb.h"

int main(int argc, char** argv) {
  return qplug::run<qplug::plugin_list<qplug::examples::Bb, qplug::QemuPlugins>>(argc, argv);
}
