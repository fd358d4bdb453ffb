/*
 * dlopen_check PLUGIN VERSION: loads PLUGIN with RTLD_LAZY (its qemu_plugin_*
 * imports stay unresolved until first called, so no host is needed) and
 * checks that it exports qemu_plugin_install and an int qemu_plugin_version
 * equal to VERSION, as a host's loader reads them.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PLUGIN VERSION\n", argv[0]);
    return 2;
  }
  const int want = atoi(argv[2]);
  void *handle = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
    return 1;
  }
  int status = 0;
  const int *version = (const int *)dlsym(handle, "qemu_plugin_version");
  if (!version) {
    fprintf(stderr, "FAIL: no qemu_plugin_version: %s\n", dlerror());
    status = 1;
  } else if (*version != want) {
    fprintf(stderr, "FAIL: qemu_plugin_version is %d, expected %d\n", *version, want);
    status = 1;
  }
  if (!dlsym(handle, "qemu_plugin_install")) {
    fprintf(stderr, "FAIL: no qemu_plugin_install: %s\n", dlerror());
    status = 1;
  }
  if (status == 0) {
    printf("%s: qemu_plugin_version = %d, qemu_plugin_install present\n", argv[1], *version);
  }
  dlclose(handle);
  return status;
}
