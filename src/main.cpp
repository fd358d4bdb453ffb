// qplug: runs an unmodified x86-64 Linux program from a code cache, with QEMU
// TCG plugins (.so) loaded by the QEMU plugin host, itself a static plugin.
#include "qplug/qplug.h"

int main(int argc, char** argv) {
  return qplug::run<qplug::plugin_list<qplug::QemuPlugins>>(argc, argv);
}
