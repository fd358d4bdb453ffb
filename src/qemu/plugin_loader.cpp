// Loader: opens each plugin as qemu-x86_64 does (qemu-abi.md 1.3), with QEMU's
// checks and messages, and runs its qemu_plugin_install.
#include <dlfcn.h>

#include <cstring>
#include <string>

#include "qemu/plugin_host.h"
#include "qemu/registry.h"

namespace qplug::qemu {
namespace {

constexpr int kMinVersion = 1;
constexpr int kCurrentVersion = 7;

// qemu_info_t, identical in every API version (32 bytes).
struct QemuInfo {
  const char* target_name;
  struct {
    int min;
    int cur;
  } version;
  bool system_emulation;
  struct {
    int smp_vcpus;
    int max_vcpus;
  } system;
};
static_assert(sizeof(QemuInfo) == 32 && offsetof(QemuInfo, system_emulation) == 16 &&
              offsetof(QemuInfo, system) == 20);

using InstallFn = int (*)(uint64_t id, const QemuInfo* info, int argc, char** argv);

uint64_t xorshift64star(uint64_t x) {
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x * 0x2545F4914F6CDD1Dull;
}

Error load_error(const std::string& path, const std::string& what) {
  return make_error("qplug: Could not load plugin " + path + ": " + what);
}

std::string last_dlerror() {
  const char* e = dlerror();
  return e ? e : "unknown error";
}

Result<void> load_one(const cli::PluginSpec& spec) {
  dlerror();
  void* handle = dlopen(spec.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return load_error(spec.path, last_dlerror());
  dlerror();
  auto install = reinterpret_cast<InstallFn>(dlsym(handle, "qemu_plugin_install"));
  if (!install) {
    const char* e = dlerror();
    return load_error(spec.path, e ? e : "qemu_plugin_install is NULL");
  }
  const auto* version = static_cast<const int*>(dlsym(handle, "qemu_plugin_version"));
  if (!version) return load_error(spec.path, "plugin does not declare API version " + last_dlerror());
  if (*version < kMinVersion)
    return load_error(spec.path, "plugin requires API version " + std::to_string(*version) +
                                     ", but this QEMU supports only a minimum version of " +
                                     std::to_string(kMinVersion));
  if (*version > kCurrentVersion)
    return load_error(spec.path, "plugin requires API version " + std::to_string(*version) +
                                     ", but this QEMU supports only up to version " +
                                     std::to_string(kCurrentVersion));

  auto ctx = std::make_unique<PluginContext>();
  ctx->version = *version;
  ctx->path = spec.path;
  ctx->handle = handle;
  uint64_t id = reinterpret_cast<uint64_t>(ctx.get());
  do {
    id = xorshift64star(id);
  } while (id == 0 || registry().find(id));
  ctx->id = id;
  ctx->args = spec.args;
  for (auto& a : ctx->args) ctx->argv.push_back(a.data());
  ctx->argv.push_back(nullptr);
  PluginContext& p = registry().add(std::move(ctx));

  // qemu_info_t is valid only during install; argv for the plugin's lifetime.
  QemuInfo info{"x86_64", {kMinVersion, kCurrentVersion}, false, {0, 0}};
  p.installing = true;
  int rc;
  {
    ScopedPlugin running(&p);
    rc = install(p.id, &info, static_cast<int>(p.args.size()), p.argv.data());
  }
  p.installing = false;
  if (rc != 0)
    return load_error(spec.path, "qemu_plugin_install returned error code " + std::to_string(rc));
  return {};
}

}  // namespace

Result<void> load_plugins(const std::vector<cli::PluginSpec>& specs) {
  for (const auto& spec : specs) {
    Result<void> r = load_one(spec);
    if (!r) return r;
  }
  return {};
}

bool active() { return !registry().plugins().empty(); }

}  // namespace qplug::qemu
