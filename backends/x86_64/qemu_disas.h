// The disassembly text QEMU gives plugins (qemu_plugin_insn_disas) for x86-64
// code: Capstone in AT&T syntax, "<mnemonic> <operands>" with exactly one
// space even when there are no operands ("ret " is "retq "), undecodable
// bytes as Capstone's ".byte" data, and "" if Capstone cannot run at all.
// Plugins filter on this text (execlog ifilter=, insn match=), so it must be
// QEMU's to the byte; Debian's qemu-x86_64 7.2 uses the same Capstone 4.
//
// Capstone stays behind this function: no Capstone header here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qplug::x86_64 {

// The text of the instruction at `code` (its `size` bytes as translated),
// whose guest address is `pc` (branch targets are absolute). Callable from
// any thread: each thread keeps its own Capstone handle.
std::string qemu_disas_text(const uint8_t* code, size_t size, uint64_t pc);

}  // namespace qplug::x86_64
