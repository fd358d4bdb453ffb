#include "runtime/translation_log.h"

#include <cinttypes>
#include <span>

#include "runtime/guest_symbols.h"

namespace qplug::runtime {

namespace {

void log_insn(std::FILE* log, const x86_64::DecodedInsn& d, const x86_64::Decoder& decoder) {
  std::fprintf(log, "0x%016" PRIx64 ":  %-30s %s\n", d.pc,
               x86_64::hex_bytes(d.bytes, d.length()).c_str(), decoder.format(d, true).c_str());
}

}  // namespace

void log_guest_code(std::FILE* log, std::span<const x86_64::DecodedInsn> insns,
                    const x86_64::Decoder& decoder) {
  const char* symbol = insns.empty() ? nullptr : guest_symbol(insns.front().pc);
  std::fprintf(log, "----------------\nIN: %s\n", symbol ? symbol : "");
  for (const x86_64::DecodedInsn& d : insns) {
    if (d.length() == 0) {
      std::fprintf(log, "0x%016" PRIx64 ":  (undecodable or unreadable)\n", d.pc);
      continue;
    }
    log_insn(log, d, decoder);
  }
  std::fputc('\n', log);
  std::fflush(log);
}

namespace {

void log_code(std::FILE* log, const uint8_t* code, size_t size, const uint8_t* marked,
              const x86_64::Decoder& decoder) {
  size_t offset = 0;
  while (offset < size) {
    x86_64::DecodedInsn d;
    const uint64_t at = reinterpret_cast<uint64_t>(code + offset);
    if (!decoder.decode(code + offset, size - offset, at, d)) {
      std::fprintf(log, "0x%016" PRIx64 ":  .byte 0x%02x\n", at, code[offset]);
      ++offset;
      continue;
    }
    if (code + offset == marked) std::fputs("  -- body (direct entry)\n", log);
    log_insn(log, d, decoder);
    offset += d.length();
  }
}

}  // namespace

void log_host_code(std::FILE* log, const Block& block, const x86_64::Decoder& decoder) {
  std::fprintf(log, "OUT: [size=%u]\n", block.host_size + block.cold_size);
  log_code(log, block.hot_code, block.host_size, block.body, decoder);
  if (block.cold_size) {
    std::fputs("  -- cold: exit slow paths (and the checked entry, when not before the body)\n",
               log);
    log_code(log, block.cold_code, block.cold_size, nullptr, decoder);
  }
  std::fputc('\n', log);
  std::fflush(log);
}

}  // namespace qplug::runtime
