// ELF header validation: shared by load_program and by execve following,
// where a guest exec of a foreign binary must fail with a readable message.
#include <elf.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "loader/elf_image.h"
#include "loader/elf_loader.h"

namespace qplug::loader {
namespace detail {

namespace {

// Names users recognise for the foreign binaries they are most likely to try.
const char* machine_name(uint16_t machine) {
  switch (machine) {
    case EM_386:
      return "i386";
    case EM_ARM:
      return "arm";
    case EM_AARCH64:
      return "aarch64";
    case EM_RISCV:
      return "riscv";
    case EM_PPC:
      return "ppc";
    case EM_PPC64:
      return "ppc64";
    case EM_S390:
      return "s390x";
    case EM_MIPS:
      return "mips";
    case EM_SPARCV9:
      return "sparc64";
    case EM_IA_64:
      return "ia64";
    case 258:  // EM_LOONGARCH, missing from older <elf.h>
      return "loongarch";
    default:
      return nullptr;
  }
}

const char* type_name(uint16_t type) {
  switch (type) {
    case ET_NONE:
      return "ET_NONE";
    case ET_REL:
      return "ET_REL, a relocatable object";
    case ET_CORE:
      return "ET_CORE, a core dump";
    default:
      return "unknown";
  }
}

}  // namespace

std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) vsnprintf(out.data(), out.size() + 1, fmt, again);
  va_end(again);
  return out;
}

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

Error exec_failure(std::string message) {
  Error e = make_error(std::move(message));
  e.signal = SIGSEGV;
  return e;
}

std::string header_problem(const uint8_t* bytes, size_t size, uint64_t file_size, Role role) {
  if (bytes == nullptr || size < SELFMAG || memcmp(bytes, ELFMAG, SELFMAG) != 0) {
    return "not an ELF file";
  }
  Elf64_Ehdr eh{};
  memcpy(&eh, bytes, std::min(size, sizeof eh));
  std::string problem;
  if (eh.e_machine != EM_X86_64) {
    const char* name = machine_name(eh.e_machine);
    problem =
        name != nullptr
            ? format("ELF for machine %u (%s) is not supported, only x86-64", eh.e_machine, name)
            : format("ELF for machine %u is not supported, only x86-64", eh.e_machine);
  } else if (role == Role::kProgram && eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    problem = format("ELF type %u (%s) is not an executable (ET_EXEC or ET_DYN)", eh.e_type,
                     type_name(eh.e_type));
  } else if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    problem = format("corrupt ELF header: e_phentsize is %u, expected %zu", eh.e_phentsize,
                     sizeof(Elf64_Phdr));
  } else if (eh.e_phnum == 0) {
    problem = "corrupt ELF header: no program headers";
  } else if (uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > kMaxPhdrTableBytes) {
    problem = format("corrupt ELF header: too many program headers (%u, at most %" PRIu64 ")",
                     eh.e_phnum, kMaxPhdrTableBytes / sizeof(Elf64_Phdr));
  } else if (eh.e_phoff > UINT64_MAX - uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr)) {
    problem = format("corrupt ELF header: program header table (offset 0x%" PRIx64
                     ") is outside the file",
                     eh.e_phoff);
  }
  if (problem.empty()) return "";
  // The kernel reads any header as 64-bit little-endian x86-64 (it accepts one
  // whose EI_CLASS or EI_DATA says otherwise); a real foreign one fails above,
  // and is named for what it is.
  if (size > EI_CLASS && bytes[EI_CLASS] == ELFCLASS32) {
    return "32-bit ELF (ELFCLASS32) is not supported, only x86-64";
  }
  if (size > EI_DATA && bytes[EI_DATA] == ELFDATA2MSB) {
    return "big-endian ELF (ELFDATA2MSB) is not supported, only x86-64";
  }
  if (file_size < sizeof(Elf64_Ehdr)) {
    return format("corrupt ELF header: truncated to %" PRIu64 " bytes (the ELF header has %zu)",
                  file_size, sizeof(Elf64_Ehdr));
  }
  return problem;
}

}  // namespace detail

Result<void> check_elf_header(const std::string& path, const uint8_t* bytes, size_t size) {
  std::string problem = detail::header_problem(bytes, size, size);
  if (problem.empty()) return {};
  return make_error("qplug: " + path + ": " + problem);
}

}  // namespace qplug::loader
