// qplug/plugin_list.h: static plugins composed at compile time.
//
// A static plugin is a plain C++ class with optional hooks named after the
// events (qplug/events.h), e.g.
//
//   struct BbCount {
//     static constexpr std::string_view name = "bb";  // -plugin bb,key=val
//     qplug::Counter blocks;
//     void tb_trans(qplug::Tb& tb) { tb.add(blocks, 1); }
//     void at_exit() { std::printf("bb %lu\n", blocks.sum()); }
//   };
//
// plugin_list<P...> holds one of each and dispatches an event with a fold
// that calls each plugin's hook directly, in list order; plugins without the
// hook cost nothing. Misuse is a compile error from a rule below whose
// template arguments name the plugin (and the event or resource):
//   - rules::HookHasEventSignature<Plugin, Event>: a hook named like an event
//     cannot be called with the event's signature;
//   - rules::ExclusiveResourceClaimedOnce<Resource, PluginA, PluginB>: two
//     plugins claim one exclusive resource;
//   - rules::KnownEvent<E>: fire<E> with an E that is not an event;
//   - rules::ListedOnce<Plugin>: a plugin type appears twice;
//   - rules::PluginIsClass<Plugin>: a plugin is not a class type.
#pragma once

#include <boost/hana/append.hpp>
#include <boost/hana/concat.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "qplug/events.h"

namespace qplug {

namespace detail {

template <class P, class E, class Sig>
struct AcceptsSignature;
template <class P, class E, class R, class... A>
struct AcceptsSignature<P, E, R(A...)> {
  static constexpr bool value = E::template accepts<P, A...>;
};

template <class P, class E>
inline constexpr bool has_hook = AcceptsSignature<P, E, typename E::signature>::value;

template <class>
inline constexpr bool dependent_false = false;

template <class P>
constexpr auto claims_of() {
  constexpr auto declared = [] {
    if constexpr (requires { typename P::claims; })
      return typename P::claims{};
    else
      return boost::hana::tuple_t<>;
  }();
  constexpr auto with_filter = [&] {
    if constexpr (has_hook<P, SyscallFilter>)
      return boost::hana::append(declared, boost::hana::type_c<resource::SyscallFilter>);
    else
      return declared;
  }();
  if constexpr (has_hook<P, LoadDynamic>)
    return boost::hana::append(with_filter, boost::hana::type_c<resource::DynamicPlugins>);
  else
    return with_filter;
}

template <class P>
constexpr std::string_view name_of() {
  if constexpr (requires { std::string_view{P::name}; })
    return P::name;
  else
    return {};
}

}  // namespace detail

namespace rules {

template <class Plugin>
struct PluginIsClass {
  static_assert(
      std::is_class_v<Plugin>,
      "qplug: a static plugin must be a class type (see Plugin in PluginIsClass<Plugin>)");
  static constexpr bool value = true;
};

template <class Plugin, class Event>
struct HookHasEventSignature {
  static constexpr bool value = !Event::template named<Plugin> || detail::has_hook<Plugin, Event>;
  static_assert(value,
                "qplug: a plugin's hook has the wrong signature for its event (see Plugin and "
                "Event in HookHasEventSignature<Plugin, Event>; the hook must be callable as "
                "Event::signature)");
};

template <class Resource, class PluginA, class PluginB>
struct ExclusiveResourceClaimedOnce {
  static_assert(detail::dependent_false<Resource>,
                "qplug: two plugins claim the same exclusive resource (see Resource, PluginA and "
                "PluginB in ExclusiveResourceClaimedOnce<Resource, PluginA, PluginB>)");
  static constexpr bool value = false;
};

template <class E>
struct KnownEvent {
  static constexpr bool value = decltype(boost::hana::contains(
      boost::hana::concat(events, lifecycle_hooks), boost::hana::type_c<E>))::value;
  static_assert(value,
                "qplug: not an event (see E in KnownEvent<E>; the events are qplug::events)");
};

template <class Plugin>
struct ListedOnce {
  static_assert(detail::dependent_false<Plugin>,
                "qplug: a plugin type is listed twice in one plugin_list (see Plugin in "
                "ListedOnce<Plugin>)");
  static constexpr bool value = false;
};

template <class A, class B>
constexpr bool check_pair() {
  if constexpr (std::is_same_v<A, B>) {
    return ListedOnce<A>::value;
  } else {
    bool ok = true;
    boost::hana::for_each(detail::claims_of<A>(), [&](auto resource) {
      using R = typename decltype(resource)::type;
      if constexpr (decltype(boost::hana::contains(detail::claims_of<B>(),
                                                   boost::hana::type_c<R>))::value)
        ok = ExclusiveResourceClaimedOnce<R, A, B>::value;
    });
    return ok;
  }
}

template <class Plugin>
constexpr bool check_plugin() {
  static_assert(PluginIsClass<Plugin>::value);
  bool ok = true;
  boost::hana::for_each(boost::hana::concat(events, lifecycle_hooks), [&](auto event) {
    ok = ok && HookHasEventSignature<Plugin, typename decltype(event)::type>::value;
  });
  return ok;
}

template <class... P>
struct CheckPairs;
template <>
struct CheckPairs<> {
  static constexpr bool value = true;
};
template <class A, class... Rest>
struct CheckPairs<A, Rest...> {
  static constexpr bool value =
      (check_pair<A, Rest>() && ... && true) && CheckPairs<Rest...>::value;
};

}  // namespace rules

template <class... P>
class plugin_list {
  static_assert((rules::check_plugin<P>() && ... && true));
  static_assert(rules::CheckPairs<P...>::value);

 public:
  static constexpr size_t size = sizeof...(P);

  // Calls every plugin's hook for event E, in list order.
  template <class E, class... A>
  void fire(A&&... args) {
    static_assert(rules::KnownEvent<E>::value);
    std::apply([&](auto&... plugin) { (fire_one<E>(plugin, args...), ...); }, plugins_);
  }

  // True if some plugin has a hook for E.
  template <class E>
  static constexpr bool any = (detail::has_hook<P, E> || ... || false);

  template <class T>
  T& get() {
    return std::get<T>(plugins_);
  }

  // f(plugin) for each plugin, in list order.
  template <class F>
  void for_each(F&& f) {
    std::apply([&](auto&... plugin) { (f(plugin), ...); }, plugins_);
  }

 private:
  template <class E, class Plugin, class... A>
  static void fire_one(Plugin& plugin, A&... args) {
    if constexpr (detail::has_hook<Plugin, E>) E::invoke(plugin, args...);
  }

  std::tuple<P...> plugins_;
};

}  // namespace qplug
