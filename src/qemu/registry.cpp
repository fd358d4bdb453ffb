#include "qemu/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "qemu/plugin_host.h"
#include "qplug/tool.h"
#include "runtime/dispatcher.h"
#include "runtime/runtime.h"
#include "runtime/thread_state.h"

namespace qplug::qemu {
constinit thread_local PluginContext* running_plugin = nullptr;

Registry& registry() {
  static Registry r;
  return r;
}

PluginContext* Registry::find(uint64_t id) const {
  for (const auto& p : plugins_)
    if (p->id == id) return p.get();
  return nullptr;
}

PluginContext& Registry::get(uint64_t id, const char* function) const {
  PluginContext* p = find(id);
  if (!p) {
    std::fprintf(stderr, "qplug: %s: unknown plugin id 0x%lx\n", function,
                 static_cast<unsigned long>(id));
    std::exit(1);
  }
  return *p;
}

void Registry::set(PluginContext& p, Event e, void* fn, void* userdata) {
  auto& list = lists_[static_cast<int>(e)];
  Callback& cb = p.callbacks[static_cast<int>(e)];
  const bool listed = std::find(list.begin(), list.end(), &p) != list.end();
  cb.fn = fn;
  cb.userdata = userdata;
  if (!fn && listed) list.erase(std::find(list.begin(), list.end(), &p));
  if (fn && !listed) list.insert(list.begin(), &p);
}

PluginContext& Registry::add(std::unique_ptr<PluginContext> p) {
  plugins_.push_back(std::move(p));
  return *plugins_.back();
}

void reset_plugin(PluginContext& p, void* cb, void* userdata, bool uninstall) {
  auto finish = [&p, cb, userdata, uninstall] {
    for (int e = 0; e < static_cast<int>(Event::kCount); ++e)
      registry().set(p, static_cast<Event>(e), nullptr, nullptr);
    runtime::rt().dispatcher->flush_all();
    runtime::rt().tool->flush();  // every plugin of the tool, static ones too
    if (cb) {
      ScopedPlugin running(&p);
      if (p.version >= 7)
        reinterpret_cast<void (*)(void*)>(cb)(userdata);
      else
        reinterpret_cast<void (*)(uint64_t)>(cb)(p.id);
    }
    if (uninstall && p.handle) {
      unload_library(p.handle);
      p.handle = nullptr;
    }
  };
  auto& ts = runtime::current_thread();
  if (!runtime::rt().dispatcher) {  // no vCPU yet: synchronously
    finish();
    return;
  }
  runtime::rt().dispatcher->at_next_exit(reinterpret_cast<const uint8_t*>(ts.callout_return),
                                         finish);
}


void log_plugin_output(const char* text) { qplug::outs(text); }

}  // namespace qplug::qemu
