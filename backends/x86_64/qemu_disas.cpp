#include "x86_64/qemu_disas.h"

#include <capstone.h>

#include <algorithm>
#include <mutex>

namespace qplug::x86_64 {

namespace {

// Options as QEMU's Capstone front end sets them for x86: 64-bit mode,
// little-endian, data skipping (".byte"), AT&T syntax.
class Disassembler {
 public:
  Disassembler() {
    // Capstone 4 fills its architecture tables on the first cs_open without
    // a lock; translation runs on every guest thread.
    static std::mutex open_mutex;
    std::lock_guard guard(open_mutex);
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) return;
    cs_option(handle_, CS_OPT_SKIPDATA, CS_OPT_ON);
    cs_option(handle_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    insn_ = cs_malloc(handle_);
  }
  ~Disassembler() {
    if (insn_) cs_free(insn_, 1);
    if (handle_) cs_close(&handle_);
  }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  std::string text(const uint8_t* code, size_t size, uint64_t pc) {
    if (!insn_) return "";
    // QEMU reads at most 32 bytes of the instruction into its buffer.
    size = std::min<size_t>(size, 32);
    if (!cs_disasm_iter(handle_, &code, &size, &pc, insn_)) return "";
    std::string out = insn_->mnemonic;
    out += ' ';
    out += insn_->op_str;
    return out;
  }

 private:
  csh handle_ = 0;
  cs_insn* insn_ = nullptr;
};

}  // namespace

std::string qemu_disas_text(const uint8_t* code, size_t size, uint64_t pc) {
  thread_local Disassembler disassembler;
  return disassembler.text(code, size, pc);
}

}  // namespace qplug::x86_64
