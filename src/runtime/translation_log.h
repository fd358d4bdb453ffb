// Translation log: `-d in_asm` and `-d out_asm`, laid out as QEMU lays them
// out (a dashed line, "IN:" and the guest instructions; "OUT: [size=N]" and
// the host code), so that scripts reading QEMU's logs read ours.
#pragma once

#include <cstdio>
#include <span>
#include <vector>

#include "runtime/block.h"
#include "x86_64/decoder.h"

namespace qplug::runtime {

// Guest instructions of a block just translated.
void log_guest_code(std::FILE* log, std::span<const x86_64::DecodedInsn> insns,
                    const x86_64::Decoder& decoder);

// Host code of a block just translated: its entry, body, exits and slow paths
// (its hot code, then its cold code).
void log_host_code(std::FILE* log, const Block& block, const x86_64::Decoder& decoder);

}  // namespace qplug::runtime
