// Guest symbols: function symbols of the images qplug itself loads (the
// program and its interpreter), read from their ELF symbol tables, as QEMU's
// lookup_symbol does in linux-user. Like QEMU, only when logging is enabled
// (-d or -D); libraries mapped later by the guest's ld.so are not covered.
// Used by qemu_plugin_insn_symbol and the `-d in_asm` log.
#pragma once

#include <cstdint>

namespace qplug::runtime {

// The function containing `pc`, or nullptr. The name lives as long as the run.
const char* guest_symbol(uint64_t pc);

}  // namespace qplug::runtime
