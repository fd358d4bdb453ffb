#include "cli/strace.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

using qplug::cli::format_syscall_entry;
using qplug::cli::format_syscall_return;
using qplug::cli::read_guest_memory;
using qplug::cli::syscall_name;

namespace {

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

std::string entry(long nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                  uint64_t a4 = 0, uint64_t a5 = 0) {
  const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
  return format_syscall_entry(42, nr, args);
}

// Two pages: the first readable, the second PROT_NONE, to put data right
// before memory that cannot be read.
struct GuardedPage {
  GuardedPage() {
    void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base = static_cast<char*>(p);
    REQUIRE(mprotect(base + 4096, 4096, PROT_NONE) == 0);
  }
  ~GuardedPage() { munmap(base, 8192); }
  // `text` placed so that its last byte is the last readable byte.
  char* at_end(std::string_view text) {
    char* p = base + 4096 - text.size();
    std::memcpy(p, text.data(), text.size());
    return p;
  }
  char* base;
};

}  // namespace

TEST_CASE("syscall names come from the kernel header") {
  CHECK(syscall_name(0) == "read");
  CHECK(syscall_name(1) == "write");
  CHECK(syscall_name(9) == "mmap");
  CHECK(syscall_name(59) == "execve");
  CHECK(syscall_name(158) == "arch_prctl");
  CHECK(syscall_name(231) == "exit_group");
  CHECK(syscall_name(257) == "openat");
  CHECK(syscall_name(435) == "clone3");
  CHECK(syscall_name(SYS_rseq) == "rseq");
}

TEST_CASE("unnamed syscall numbers get a stable fallback name") {
  CHECK(syscall_name(400) == "syscall_400");
  CHECK(syscall_name(100000) == "syscall_100000");
  CHECK(syscall_name(-1) == "syscall_-1");
  std::string_view first = syscall_name(77777);
  CHECK(syscall_name(77777).data() == first.data());
  for (long nr = 200000; nr < 200100; ++nr) (void)syscall_name(nr);
  CHECK(first == "syscall_77777");
}

TEST_CASE("string arguments") {
  const char* path = "/etc/ld.so.cache";
  CHECK(entry(SYS_openat, static_cast<uint64_t>(-100), addr(path), O_RDONLY | O_CLOEXEC) ==
        "42 openat(AT_FDCWD,\"/etc/ld.so.cache\",O_RDONLY|O_CLOEXEC)");
  CHECK(entry(SYS_openat, 3, addr("x"), O_WRONLY | O_CREAT | O_TRUNC, 0644) ==
        "42 openat(3,\"x\",O_WRONLY|O_CREAT|O_TRUNC,0644)");
  CHECK(entry(SYS_open, addr("/tmp"), O_RDWR | __O_TMPFILE | O_DIRECTORY, 0600) ==
        "42 open(\"/tmp\",O_RDWR|O_TMPFILE,0600)");
  CHECK(entry(SYS_access, addr("/etc/passwd"), R_OK | X_OK) ==
        "42 access(\"/etc/passwd\",R_OK|X_OK)");
  CHECK(entry(SYS_access, addr(""), 0) == "42 access(\"\",F_OK)");
  CHECK(entry(SYS_chdir, 0) == "42 chdir(NULL)");
  CHECK(entry(SYS_unlink, addr("a\"b\\c\n\t\x01\x7f")) ==
        "42 unlink(\"a\\\"b\\\\c\\n\\t\\001\\177\")");

  std::string long_name(100, 'a');
  CHECK(entry(SYS_chdir, addr(long_name.c_str())) ==
        "42 chdir(\"" + std::string(64, 'a') + "\"...)");
  std::string exactly_64(64, 'b');
  CHECK(entry(SYS_chdir, addr(exactly_64.c_str())) == "42 chdir(\"" + exactly_64 + "\")");
}

TEST_CASE("bad pointers print as addresses and never fault") {
  CHECK(entry(SYS_chdir, 1) == "42 chdir(0x1)");
  CHECK(entry(SYS_chdir, 0xffffffffffff0000) == "42 chdir(0xffffffffffff0000)");
  CHECK(entry(SYS_write, 1, 0x10, 5) == "42 write(1,0x10,5)");

  GuardedPage page;
  char* guard = page.base + 4096;
  CHECK(entry(SYS_chdir, addr(guard)) == "42 chdir(" + hex(addr(guard)) + ")");
  // A string running into unreadable memory without a NUL is not a string.
  char* unterminated = page.at_end("abc");
  CHECK(entry(SYS_chdir, addr(unterminated)) == "42 chdir(" + hex(addr(unterminated)) + ")");
  // A short string just before the guard page is still read.
  char* terminated = page.at_end(std::string_view("abc", 4));
  CHECK(entry(SYS_chdir, addr(terminated)) == "42 chdir(\"abc\")");
  // A buffer that is only partly readable prints as an address.
  char* tail = page.at_end("hello");
  CHECK(entry(SYS_write, 1, addr(tail), 5) == "42 write(1,\"hello\",5)");
  CHECK(entry(SYS_write, 1, addr(tail), 6) == "42 write(1," + hex(addr(tail)) + ",6)");
  // An argv array whose pointers run into the guard page.
  uint64_t* slots = reinterpret_cast<uint64_t*>(page.at_end(std::string(16, '\0')));
  slots[0] = addr("a");
  slots[1] = addr("b");
  CHECK(entry(SYS_execve, addr("/bin/x"), addr(slots), 0) ==
        "42 execve(\"/bin/x\",{\"a\",\"b\",...},NULL)");
}

TEST_CASE("read_guest_memory stops at the first unreadable byte") {
  GuardedPage page;
  char* p = page.at_end("0123456789");
  char out[32] = {};
  CHECK(read_guest_memory(addr(p), out, sizeof out) == 10);
  CHECK(std::string_view(out, 10) == "0123456789");
  CHECK(read_guest_memory(addr(page.base + 4096), out, 1) == 0);
  CHECK(read_guest_memory(0, out, 8) == 0);
  CHECK(read_guest_memory(~uint64_t{0} - 2, out, 8) == 0);
  CHECK(read_guest_memory(addr(p), out, 0) == 0);
}

TEST_CASE("buffers and argv") {
  CHECK(entry(SYS_write, 1, addr("hello\n"), 6) == "42 write(1,\"hello\\n\",6)");
  std::string big(200, 'z');
  CHECK(entry(SYS_write, 2, addr(big.data()), 200) ==
        "42 write(2,\"" + std::string(64, 'z') + "\"...,200)");
  CHECK(entry(SYS_write, 1, addr("x"), 0) == "42 write(1,\"\",0)");
  char buf[8];
  CHECK(entry(SYS_read, 0, addr(buf), 8) == "42 read(0," + hex(addr(buf)) + ",8)");

  const char* argv[] = {"ls", "-l", nullptr};
  const char* envp[] = {nullptr};
  CHECK(entry(SYS_execve, addr("/bin/ls"), addr(argv), addr(envp)) ==
        "42 execve(\"/bin/ls\",{\"ls\",\"-l\",NULL}," + hex(addr(envp)) + ")");
  CHECK(entry(SYS_execve, addr("/bin/ls"), 0, 0) == "42 execve(\"/bin/ls\",NULL,NULL)");
}

TEST_CASE("memory management") {
  CHECK(entry(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
              static_cast<uint64_t>(-1),
              0) == "42 mmap(NULL,8192,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0)");
  CHECK(entry(SYS_mmap, 0x7f0000001000, 4096, PROT_READ | PROT_EXEC,
              MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 0x26000) ==
        "42 mmap(0x7f0000001000,4096,PROT_READ|PROT_EXEC,MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE,3,"
        "0x26000)");
  CHECK(entry(SYS_mprotect, 0x1000, 4096, PROT_NONE) == "42 mprotect(0x1000,4096,PROT_NONE)");
  CHECK(entry(SYS_mmap, 0, 1, 0x10000000 | PROT_READ, 0x3 | 0x80000000) ==
        "42 mmap(NULL,1,PROT_READ|0x10000000,MAP_SHARED_VALIDATE|0x80000000,0,0)");
  CHECK(entry(SYS_mmap, 0, 1, PROT_READ, MAP_ANONYMOUS) ==
        "42 mmap(NULL,1,PROT_READ,MAP_ANONYMOUS,0,0)");
  CHECK(entry(SYS_mmap, 0, 1, PROT_READ, 5) == "42 mmap(NULL,1,PROT_READ,0x5,0,0)");
  CHECK(entry(SYS_munmap, 0x1000, 4096) == "42 munmap(0x1000,4096)");
  CHECK(entry(SYS_brk, 0) == "42 brk(NULL)");
}

TEST_CASE("symbolic arguments") {
  CHECK(entry(SYS_close, 3) == "42 close(3)");
  CHECK(entry(SYS_lseek, 3, static_cast<uint64_t>(-10), SEEK_END) == "42 lseek(3,-10,SEEK_END)");
  CHECK(entry(SYS_rt_sigaction, SIGINT, 0x1000, 0, 8) == "42 rt_sigaction(SIGINT,0x1000,NULL,8)");
  CHECK(entry(SYS_rt_sigprocmask, SIG_SETMASK, 0x1000, 0, 8) ==
        "42 rt_sigprocmask(SIG_SETMASK,0x1000,NULL,8)");
  CHECK(entry(SYS_kill, static_cast<uint64_t>(-1), 34) == "42 kill(-1,SIGRT_2)");
  CHECK(entry(SYS_tgkill, 7, 8, SIGSEGV) == "42 tgkill(7,8,SIGSEGV)");
  CHECK(entry(SYS_arch_prctl, 0x1002, 0x7fff0000) == "42 arch_prctl(ARCH_SET_FS,0x7fff0000)");
  CHECK(entry(SYS_arch_prctl, 0x9999, 0) == "42 arch_prctl(0x9999,0)");
  CHECK(entry(SYS_fcntl, 3, F_GETFL, 12345) == "42 fcntl(3,F_GETFL)");
  CHECK(entry(SYS_fcntl, 3, F_SETFD, FD_CLOEXEC) == "42 fcntl(3,F_SETFD,FD_CLOEXEC)");
  CHECK(entry(SYS_fcntl, 3, F_SETFL, O_NONBLOCK | O_APPEND) ==
        "42 fcntl(3,F_SETFL,O_APPEND|O_NONBLOCK)");
  CHECK(entry(SYS_fcntl, 3, F_DUPFD_CLOEXEC, 10) == "42 fcntl(3,F_DUPFD_CLOEXEC,10)");
  CHECK(entry(SYS_dup3, 3, 4, O_CLOEXEC) == "42 dup3(3,4,O_CLOEXEC)");
  CHECK(entry(SYS_pipe2, 0x1000, 0) == "42 pipe2(0x1000,0)");
  CHECK(entry(SYS_futex, 0x1000, 128 | 0, 1, 0, 0, 0) ==
        "42 futex(0x1000,FUTEX_PRIVATE_FLAG|FUTEX_WAIT,1,NULL,NULL,0)");
  CHECK(entry(SYS_futex, 0x1000, 1, 2147483647, 0, 0, 0) ==
        "42 futex(0x1000,FUTEX_WAKE,2147483647,NULL,NULL,0)");
  CHECK(entry(SYS_clone, 0x3d0f00 | SIGCHLD, 0x2000, 0x3000, 0x3000, 0x4000) ==
        "42 clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
        "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD,0x2000,0x3000,0x3000,"
        "0x4000)");
  CHECK(entry(SYS_clone, 0) == "42 clone(0,NULL,NULL,NULL,0)");
  CHECK(entry(SYS_wait4, static_cast<uint64_t>(-1), 0x1000, 1 | 0x40000000, 0) ==
        "42 wait4(-1,0x1000,WNOHANG|__WALL,NULL)");
  CHECK(entry(SYS_newfstatat, 3, addr(""), 0x1000, 0x1000) ==
        "42 newfstatat(3,\"\",0x1000,AT_EMPTY_PATH)");
  CHECK(entry(SYS_prlimit64, 0, 3, 0, 0x1000) == "42 prlimit64(0,RLIMIT_STACK,NULL,0x1000)");
  CHECK(entry(SYS_umask, 022) == "42 umask(022)");
  CHECK(entry(SYS_mkdir, addr("d"), 0) == "42 mkdir(\"d\",0)");
  CHECK(entry(SYS_getrandom, 0x1000, 16, 1) == "42 getrandom(0x1000,16,0x1)");
  CHECK(entry(SYS_exit_group, 0) == "42 exit_group(0)\n");
  CHECK(entry(SYS_exit, 3) == "42 exit(3)\n");
  CHECK(entry(SYS_getpid, 1, 2, 3) == "42 getpid()");
  CHECK(entry(SYS_statx, static_cast<uint64_t>(-100), addr("f"), 0x100, 0x7ff, 0x1000) ==
        "42 statx(AT_FDCWD,\"f\",AT_SYMLINK_NOFOLLOW,0x7ff,0x1000)");
}

TEST_CASE("syscalls without a signature print six hex arguments") {
  CHECK(entry(400, 1, 2, 3, 4, 5, 0xff) == "42 syscall_400(0x1,0x2,0x3,0x4,0x5,0xff)");
  CHECK(entry(SYS_sched_setparam, 1) == "42 sched_setparam(0x1,0,0,0,0,0)");
  const uint64_t args[6] = {};
  CHECK(format_syscall_entry(1, -5, args) == "1 syscall_-5(0,0,0,0,0,0)");
}

TEST_CASE("return values") {
  CHECK(format_syscall_return(3) == " = 3\n");
  CHECK(format_syscall_return(0) == " = 0\n");
  CHECK(format_syscall_return(-2) == " = -1 errno=2 (No such file or directory)\n");
  CHECK(format_syscall_return(-14) == " = -1 errno=14 (Bad address)\n");
  CHECK(format_syscall_return(-4095) == " = -1 errno=4095 (Unknown error 4095)\n");
  CHECK(format_syscall_return(-4096) == " = -4096\n");
  CHECK(format_syscall_return(SYS_mmap, 0x7f0000000000) == " = 0x7f0000000000\n");
  CHECK(format_syscall_return(SYS_mmap, -12) == " = -1 errno=12 (Cannot allocate memory)\n");
  CHECK(format_syscall_return(SYS_brk, 0x555555559000) == " = 0x555555559000\n");
  CHECK(format_syscall_return(SYS_openat, 3) == " = 3\n");
  CHECK(format_syscall_return(SYS_read, -11) ==
        " = -1 errno=11 (Resource temporarily unavailable)\n");
}
