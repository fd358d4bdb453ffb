// Loader: opens each plugin as qemu-x86_64 does (docs/abi.md, "Plugin entry points"), with QEMU's
// checks and messages, and runs its qemu_plugin_install. Boost.DLL does the
// loading (rtld_now | rtld_local, like QEMU's G_MODULE_BIND_LOCAL); it stays in
// this file, out of widely included headers.
#define BOOST_DLL_USE_STD_FS
#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <deque>
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

// dlerror()'s text, which QEMU prints (g_module_error); Boost.DLL reports
// failures as error codes and leaves the text for us.
std::string last_dlerror() {
  const char* e = dlerror();
  return e ? e : "unknown error";
}

// Libraries stay loaded for the process's life unless a plugin uninstalls.
std::deque<boost::dll::shared_library>& libraries() {
  static std::deque<boost::dll::shared_library> loaded;
  return loaded;
}

Result<void> load_one(const cli::PluginSpec& spec) {
  namespace dll = boost::dll;
  dll::shared_library lib;
  dll::fs::error_code ec;
  dlerror();
  lib.load(dll::fs::path(spec.path), ec, dll::load_mode::rtld_now | dll::load_mode::rtld_local);
  if (ec || !lib.is_loaded()) return load_error(spec.path, last_dlerror());
  dlerror();
  if (!lib.has("qemu_plugin_install")) return load_error(spec.path, last_dlerror());
  auto install = reinterpret_cast<InstallFn>(lib.get<void()>("qemu_plugin_install"));
  if (!install) return load_error(spec.path, "qemu_plugin_install is NULL");
  if (!lib.has("qemu_plugin_version"))
    return load_error(spec.path, "plugin does not declare API version " + last_dlerror());
  const int* version = &lib.get<int>("qemu_plugin_version");
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
  ctx->handle = lib.native();
  libraries().push_back(std::move(lib));
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

std::string describe_plugin_crash(const void* pc) {
  Dl_info at{};
  const bool named = dladdr(pc, &at) != 0;
  // The running-plugin word is left set after a direct call: a fault in
  // qplug's own code is qplug's, whatever it says.
  Dl_info self{};
  if (named && dladdr(reinterpret_cast<const void*>(&describe_plugin_crash), &self) &&
      self.dli_fbase == at.dli_fbase)
    return {};
  PluginContext* p = current_plugin();
  if (!p && named) {  // by the library the code is in
    for (const auto& candidate : registry().plugins()) {
      Dl_info lib{};
      void* install = candidate->handle ? dlsym(candidate->handle, "qemu_plugin_install") : nullptr;
      if (install && dladdr(install, &lib) && lib.dli_fbase == at.dli_fbase) p = candidate.get();
    }
  }
  if (!p) return {};
  p->crashed = true;
  std::string where = "an unknown place";
  if (named) {
    const char* file = at.dli_fname ? std::strrchr(at.dli_fname, '/') : nullptr;
    char offset[32];
    std::snprintf(offset, sizeof offset, "+0x%lx",
                  static_cast<unsigned long>(static_cast<const char*>(pc) -
                                             static_cast<const char*>(at.dli_fbase)));
    const std::string object = std::string(file           ? file + 1
                                           : at.dli_fname ? at.dli_fname
                                                          : "?") +
                               offset;
    where = at.dli_sname ? std::string(at.dli_sname) + " (" + object + ")" : object;
  }
  return "plugin " + p->path + " crashed in " + where;
}

Result<void> load_plugins(const std::vector<cli::PluginSpec>& specs) {
  for (const auto& spec : specs) {
    Result<void> r = load_one(spec);
    if (!r) return r;
  }
  return {};
}

bool active() { return !registry().plugins().empty(); }

void unload_library(void* handle) {
  auto& libs = libraries();
  for (auto it = libs.begin(); it != libs.end(); ++it) {
    if (it->native() == handle) {
      it->unload();  // runs the library's destructors, as QEMU's dlclose does
      libs.erase(it);
      return;
    }
  }
}

}  // namespace qplug::qemu
