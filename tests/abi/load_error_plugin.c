/* Plugins that qplug must refuse, one per load error (built with -D flags):
 * NO_VERSION (no qemu_plugin_version), VERSION=N (out of range),
 * NO_INSTALL (no qemu_plugin_install), INSTALL_RC=N (install fails). */
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

#ifndef NO_VERSION
#ifndef VERSION
#define VERSION 7
#endif
EXPORT int qemu_plugin_version = VERSION;
#endif

#ifndef NO_INSTALL
#ifndef INSTALL_RC
#define INSTALL_RC 0
#endif
EXPORT int qemu_plugin_install(uint64_t id, const void *info, int argc, char **argv) {
  (void)id, (void)info, (void)argc, (void)argv;
  return INSTALL_RC;
}
#else
EXPORT int unrelated_symbol = 1;
#endif
