// The checks of check_api.c, compiled as C++ (C++17 and C++20 targets): the
// header must give C++ plugins the same declarations, with C linkage.
#include "check_api.c"

// C linkage: a C++ plugin's imports and exports must not be mangled.
extern "C" int qemu_plugin_install(qemu_plugin_id_t, const qemu_info_t*, int, char**);
