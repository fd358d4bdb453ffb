// qplug-cov-bb: two static plugins composed at compile time, Drcov and Bb,
// in one tool (and .so plugins too). Each is configured by its own -plugin:
//   qplug-cov-bb -d plugin -plugin drcov,filename=ls.drcov -plugin bb,inline=on /bin/ls
#include "bb.h"
#include "drcov.h"

int main(int argc, char** argv) {
  using Tool = qplug::plugin_list<qplug::examples::Drcov, qplug::examples::Bb, qplug::QemuPlugins>;
  return qplug::run<Tool>(argc, argv);
}
