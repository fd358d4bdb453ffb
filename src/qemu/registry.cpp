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
  std::lock_guard guard(mutex_);
  set_locked(p, e, fn, userdata);
}

void Registry::clear(PluginContext& p) {
  std::lock_guard guard(mutex_);
  for (int e = 0; e < static_cast<int>(Event::kCount); ++e)
    set_locked(p, static_cast<Event>(e), nullptr, nullptr);
}

std::vector<std::pair<PluginContext*, Callback>> Registry::snapshot(Event e) const {
  std::lock_guard guard(mutex_);
  std::vector<std::pair<PluginContext*, Callback>> out;
  for (PluginContext* p : lists_[static_cast<int>(e)])
    out.emplace_back(p, p->callbacks[static_cast<int>(e)]);
  return out;
}

void Registry::set_locked(PluginContext& p, Event e, void* fn, void* userdata) {
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
  // No event calls the plugin from now on; translated code may, until the
  // translations go (at this thread's next exit from the cache: it may be in
  // one of them now) and every thread has left them. Then the plugin's code
  // cannot be running anywhere, as when QEMU has stopped every vCPU.
  registry().clear(p);
  auto after_quiescence = [&p, cb, userdata, uninstall] {
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
  auto* dispatcher = runtime::rt().dispatcher;
  if (!dispatcher) {  // no vCPU yet: synchronously
    after_quiescence();
    return;
  }
  auto drop_translations = [dispatcher, after_quiescence] {
    dispatcher->flush_all();
    dispatcher->when_quiescent(after_quiescence);
  };
  // From a callback of translated code: dropping the translations now also
  // makes this thread leave the cache at its next block exit (their code
  // stays until it has). From the dispatcher's side (an event, a translation
  // under way): at its next pass through the dispatcher loop.
  if (runtime::current_thread().in_cache)
    drop_translations();
  else
    dispatcher->at_next_exit(nullptr, drop_translations);
}

void log_plugin_output(const char* text) { qplug::outs(text); }

}  // namespace qplug::qemu
