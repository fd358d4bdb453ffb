// The initial guest stack, laid out as fs/exec.c and create_elf_tables() in
// fs/binfmt_elf.c do, so that libc start-up code and programs that walk past
// envp see exactly what they would natively.
#include <elf.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "loader/elf_image.h"
#include "loader/elf_loader.h"

namespace qplug::loader {

namespace {

constexpr uint64_t kMinStack = uint64_t{8} << 20;
constexpr uint64_t kMaxStack = uint64_t{256} << 20;
// MAX_ARG_STRLEN: the kernel's limit on one argument or environment string.
constexpr uint64_t kMaxArgStrlen = 32 * 4096;

// Mapped in full, so under an address-space limit (ulimit -v, which counts it
// whole) only a share of the limit; the mapping grows down from there as the
// kernel's own stack does.
uint64_t stack_size() {
  struct rlimit rl;
  uint64_t size = kMaxStack;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    size = std::clamp<uint64_t>(rl.rlim_cur, kMinStack, kMaxStack);
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    size = std::min<uint64_t>(size, std::max<uint64_t>(rl.rlim_cur / 16, 256 * 1024));
  return detail::page_up(size);
}

bool fill_random(uint8_t* buf, size_t size) {
  while (size > 0) {
    ssize_t n = getrandom(buf, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Writes below a moving top-of-stack pointer.
class Writer {
 public:
  explicit Writer(uint64_t top) : p_(top) {}
  uint64_t push_string(const std::string& s) {
    p_ -= s.size() + 1;
    memcpy(reinterpret_cast<void*>(p_), s.c_str(), s.size() + 1);
    return p_;
  }
  uint64_t push_bytes(const void* data, size_t size) {
    p_ -= size;
    memcpy(reinterpret_cast<void*>(p_), data, size);
    return p_;
  }
  void skip(uint64_t bytes) { p_ -= bytes; }
  void align_down(uint64_t a) { p_ &= ~(a - 1); }
  uint64_t pos() const { return p_; }

 private:
  uint64_t p_;
};

}  // namespace

Result<InitialStack> build_initial_stack_ex(const GuestProgram& program,
                                            const StackRequest& request) {
  const uint64_t size = request.stack_size ? detail::page_up(request.stack_size) : stack_size();
  // Like the kernel, strings may use at most a quarter of the stack limit.
  uint64_t strings = sizeof(uint64_t) + request.execfn.size() + 1;
  for (const auto* list : {&request.argv, &request.envp}) {
    for (const std::string& s : *list) {
      if (s.size() + 1 > kMaxArgStrlen) {
        return make_error("qplug: " + request.execfn + ": Argument list too long");
      }
      strings += s.size() + 1;
    }
  }
  const uint64_t pointers = (request.argv.size() + request.envp.size() + 3) * sizeof(uint64_t);
  if (strings + pointers > size / 4) {
    return make_error("qplug: " + request.execfn + ": Argument list too long");
  }

  int prot = PROT_READ | PROT_WRITE;
  if (program.main.executable_stack) prot |= PROT_EXEC;
  void* mem =
      mmap(nullptr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) {
    struct rlimit as;
    if (errno == ENOMEM && getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
      return make_error(detail::format(
          "qplug: no address space left for the guest stack within the address space limit "
          "(%" PRIu64 " KiB, ulimit -v)",
          static_cast<uint64_t>(as.rlim_cur >> 10)));
    return make_error(detail::format("qplug: cannot map the guest stack (%" PRIu64 " bytes): %s",
                                     size, strerror(errno)));
  }
  InitialStack out;
  out.base = reinterpret_cast<uint64_t>(mem);
  out.size = size;

  // fs/exec.c: one NULL pointer at the very top, then the file name, then the
  // environment and argument strings, each list copied from its last entry.
  Writer w(out.base + size);
  w.skip(sizeof(uint64_t));
  *reinterpret_cast<uint64_t*>(w.pos()) = 0;
  out.execfn_addr = w.push_string(request.execfn);
  std::vector<uint64_t> envp(request.envp.size());
  for (size_t i = envp.size(); i-- > 0;) envp[i] = w.push_string(request.envp[i]);
  std::vector<uint64_t> argv(request.argv.size());
  for (size_t i = argv.size(); i-- > 0;) argv[i] = w.push_string(request.argv[i]);

  // create_elf_tables: arch_align_stack (without its random offset), the
  // platform string, then the AT_RANDOM bytes.
  w.align_down(16);
  static const char kPlatform[] = "x86_64";
  const uint64_t platform_addr = w.push_bytes(kPlatform, sizeof kPlatform);
  uint8_t random[16];
  if (!fill_random(random, sizeof random)) {
    int err = errno;
    munmap(mem, size);
    return make_error(std::string("qplug: getrandom failed: ") + strerror(err));
  }
  out.random_addr = w.push_bytes(random, sizeof random);

  std::vector<uint64_t> auxv;
  auto aux = [&auxv](uint64_t type, uint64_t value) {
    auxv.push_back(type);
    auxv.push_back(value);
  };
  // ARCH_DLINFO of x86-64 first. The host vDSO is the guest's: it is mapped
  // in this process already and its code is translated like any other.
  if (unsigned long vdso = getauxval(AT_SYSINFO_EHDR); vdso != 0) aux(AT_SYSINFO_EHDR, vdso);
  if (unsigned long minsig = getauxval(AT_MINSIGSTKSZ); minsig != 0) aux(AT_MINSIGSTKSZ, minsig);
  aux(AT_HWCAP, getauxval(AT_HWCAP));
  aux(AT_PAGESZ, detail::page_size());
  aux(AT_CLKTCK, static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
  aux(AT_PHDR, program.main.phdr_addr);
  aux(AT_PHENT, sizeof(Elf64_Phdr));
  aux(AT_PHNUM, program.main.phnum);
  // The interpreter's load bias, as binfmt_elf gives it (QEMU gives its lowest
  // mapped address, the same whenever its first p_vaddr is 0).
  aux(AT_BASE, program.interp ? program.interp->load_bias : 0);
  aux(AT_FLAGS, 0);
  aux(AT_ENTRY, program.main.entry);
  aux(AT_UID, getuid());
  aux(AT_EUID, geteuid());
  aux(AT_GID, getgid());
  aux(AT_EGID, getegid());
  aux(AT_SECURE, 0);
  aux(AT_RANDOM, out.random_addr);
  aux(AT_HWCAP2, getauxval(AT_HWCAP2));
  aux(AT_EXECFN, out.execfn_addr);
  aux(AT_PLATFORM, platform_addr);
  // Linux 6.3+ advertises rseq; the same entries as the host kernel gave us
  // keep the guest's auxv (and start-up instruction count) identical to native.
  constexpr unsigned long kAtRseqFeatureSize = 27, kAtRseqAlign = 28;
  if (unsigned long v = getauxval(kAtRseqFeatureSize); v != 0) aux(kAtRseqFeatureSize, v);
  if (unsigned long v = getauxval(kAtRseqAlign); v != 0) aux(kAtRseqAlign, v);
  aux(AT_NULL, 0);

  // STACK_ROUND: place the table so that %rsp (at argc) ends 16-byte aligned.
  const uint64_t items = 1 + (argv.size() + 1) + (envp.size() + 1);
  w.skip(auxv.size() * sizeof(uint64_t) + items * sizeof(uint64_t));
  w.align_down(16);
  auto* sp = reinterpret_cast<uint64_t*>(w.pos());
  out.sp = w.pos();
  *sp++ = argv.size();
  for (uint64_t a : argv) *sp++ = a;
  *sp++ = 0;
  for (uint64_t e : envp) *sp++ = e;
  *sp++ = 0;
  memcpy(sp, auxv.data(), auxv.size() * sizeof(uint64_t));
  return out;
}

Result<uint64_t> build_initial_stack(const GuestProgram& program, const StackRequest& request) {
  Result<InitialStack> stack = build_initial_stack_ex(program, request);
  if (!stack) return stack.error();
  return stack->sp;
}

}  // namespace qplug::loader
