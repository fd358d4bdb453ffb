#include "gdbstub/signals.h"

namespace qplug::gdb {

namespace {

// gdb's numbers of Linux signals 1-31 (index: the Linux number). SIGSTKFLT
// has no gdb signal; it goes as SIGEMT, which Linux on x86 does not have.
constexpr int kGdbOf[32] = {0, 1,  2,  3,  4,  5,  6,  10, 8,  9,  30, 11, 31, 13, 14, 15,
                            7, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12};

}  // namespace

int to_gdb_signal(int sig) {
  if (sig > 0 && sig < 32) return kGdbOf[sig];
  if (sig == 32) return 77;                     // GDB_SIGNAL_REALTIME_32
  if (sig >= 33 && sig <= 63) return sig + 12;  // REALTIME_33 is 45
  if (sig == 64) return 78;
  return 0;
}

int from_gdb_signal(int g) {
  for (int sig = 1; sig < 32; ++sig)
    if (kGdbOf[sig] == g) return sig;
  if (g == 77) return 32;
  if (g >= 45 && g <= 75) return g - 12;
  if (g == 78) return 64;
  return 0;
}

}  // namespace qplug::gdb
