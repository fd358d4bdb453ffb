// qplug/events.h: the event set, as a compile-time type list.
//
// One type per QEMU plugin event (VCPU_INIT ... ATEXIT). Each carries the
// name of the member function a static plugin defines to receive it, and that
// hook's signature; plugin_list uses them to detect hooks (`requires`), to
// check their signatures, and to generate the dispatch folds. Hooks are
// optional: a plugin defines only those it needs.
//
// Execution-time hooks are not events: a plugin asks for them while a block is
// translated (tb_trans) and the emitter generates them into the block
// (qplug/translation.h).
#pragma once

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "qplug/result.h"
#include "qplug/tool.h"

namespace qplug {

// QPLUG_EVENT(Type, member, Ret, Args...) defines an event type whose hook is
// `Ret P::member(Args...)`.
#define QPLUG_EVENT(Type, member, Ret, ...)                                       \
  struct Type {                                                                   \
    static constexpr std::string_view name = #member;                             \
    using result = Ret;                                                           \
    using signature = Ret(__VA_ARGS__);                                           \
    /* A member of that name that can be named unambiguously (not overloaded). */ \
    template <class P>                                                            \
    static constexpr bool named = requires {                                      \
      &P::member;                                                                 \
    };                                                                            \
    template <class P, class... A>                                                \
    static constexpr bool accepts = requires(P & p, A&&... a) {                   \
      { p.member(std::forward<A>(a)...) } -> std::convertible_to<Ret>;            \
    };                                                                            \
    template <class P, class... A>                                                \
    static Ret invoke(P& p, A&&... a) {                                           \
      if constexpr (std::is_void_v<Ret>)                                          \
        p.member(std::forward<A>(a)...);                                          \
      else                                                                        \
        return p.member(std::forward<A>(a)...);                                   \
    }                                                                             \
  }

QPLUG_EVENT(VcpuInit, vcpu_init, void, unsigned);
QPLUG_EVENT(VcpuExit, vcpu_exit, void, unsigned);
QPLUG_EVENT(VcpuTbTrans, tb_trans, void, Tb&);
QPLUG_EVENT(VcpuIdle, vcpu_idle, void, unsigned);  // never in user mode (as in QEMU)
QPLUG_EVENT(VcpuResume, vcpu_resume, void, unsigned);
QPLUG_EVENT(VcpuSyscall, vcpu_syscall, void, unsigned, int64_t, const SyscallArgs&);
QPLUG_EVENT(VcpuSyscallRet, vcpu_syscall_ret, void, unsigned, int64_t, int64_t);
// (vcpu, type, from_pc, to_pc); in user mode, exceptions (see DisconType).
QPLUG_EVENT(VcpuDiscon, vcpu_discon, void, unsigned, DisconType, uint64_t, uint64_t);
QPLUG_EVENT(Flush, flush, void);
QPLUG_EVENT(Atexit, at_exit, void);

// Hooks of the tool's life that are not QEMU events:
// - install(args): once before the guest loads, with the key=value arguments
//   of `-plugin NAME,args` where NAME is the plugin's `name`; an Error ends
//   the run.
QPLUG_EVENT(Install, install, Result<void>, const std::vector<std::string>&);
// - load_dynamic(specs): the -plugin options that name no static plugin (the
//   QEMU plugin host loads them as .so files); an exclusive resource.
QPLUG_EVENT(LoadDynamic, load_dynamic, Result<void>, const std::vector<PluginSpec>&);
// - syscall_filter(): may skip a syscall (see SyscallVerdict); an exclusive
//   resource, so at most one plugin of a list defines it.
QPLUG_EVENT(SyscallFilter, syscall_filter, SyscallVerdict, unsigned, int64_t, const SyscallArgs&,
            int64_t*);

#undef QPLUG_EVENT

inline constexpr auto events =
    boost::hana::tuple_t<VcpuInit, VcpuExit, VcpuTbTrans, VcpuIdle, VcpuResume, VcpuSyscall,
                         VcpuSyscallRet, VcpuDiscon, Flush, Atexit>;
inline constexpr auto lifecycle_hooks = boost::hana::tuple_t<Install, LoadDynamic, SyscallFilter>;

// Exclusive resources: at most one plugin of a list may claim each. A plugin
// claims with `using claims = qplug::claims<...>;`; defining syscall_filter
// claims resource::SyscallFilter.
namespace resource {
struct SyscallFilter {};   // decides whether guest syscalls run
struct DynamicPlugins {};  // loads the -plugin .so files
struct ProgramCounter {};  // may redirect guest execution (set_pc)
}  // namespace resource

template <class... R>
using claims = decltype(boost::hana::tuple_t<R...>);

}  // namespace qplug
