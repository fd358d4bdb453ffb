// qplug/plugin_args.h: parsing `-plugin NAME,key=value,...` arguments in a
// static plugin's install hook, with qemu_plugin_bool_parse's spellings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "qplug/result.h"

namespace qplug {

struct PluginArg {
  std::string_view key;
  std::string_view value;  // empty when the argument has no '='
};

inline PluginArg split_arg(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return {arg, {}};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// "on", "yes", "true", "y" / "off", "no", "false", "n"; nullopt otherwise.
inline std::optional<bool> parse_bool(std::string_view value) {
  for (std::string_view yes : {"on", "yes", "true", "y"})
    if (value == yes) return true;
  for (std::string_view no : {"off", "no", "false", "n"})
    if (value == no) return false;
  return std::nullopt;
}

// The error a plugin returns for an argument it cannot use (the wording of
// QEMU's example plugins).
inline Error bad_plugin_arg(std::string_view arg) {
  return make_error("option parsing failed: " + std::string(arg));
}

}  // namespace qplug
