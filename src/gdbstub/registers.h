// The guest registers as gdb sees them through the stub: the target
// description (target.xml) and the order of the registers in the `g` packet,
// which is the order of the description. The features and register names are
// the ones gdb's amd64 GNU/Linux support looks for (i386.core, i386.sse,
// i386.linux, i386.segments); values come from the register table plugins use
// (qemu/x86_registers.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qplug::runtime {
struct ThreadState;
}

namespace qplug::gdb {

// The description gdb reads with qXfer:features:read:target.xml.
const std::string& target_xml();

// Number of registers in the description; register n of `p`/`P` packets is
// the n-th.
size_t register_count();
size_t register_size(size_t n);

// A stopped thread's registers. The FS base is not in ThreadState (it lives
// in the host's GS base of the thread that runs the guest thread): the stub
// keeps each thread's and passes it here.
struct ThreadRegs {
  runtime::ThreadState* ts;
  uint64_t* fs_base;
};
// Register n as hex, little-endian.
std::string read_register_hex(const ThreadRegs& t, size_t n);
// Register n from `bytes` (register_size(n) of them). False if the value
// cannot be given to the guest (a segment selector, say).
bool write_register(const ThreadRegs& t, size_t n, const uint8_t* bytes);

}  // namespace qplug::gdb
