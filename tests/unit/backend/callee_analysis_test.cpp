// Callee analysis on hand-written functions: what it bounds, and that a
// path ending in a function that never returns is not held against the
// caller (glib's mutex unlock: `fwrite(...); abort()` on a broken mutex).
#include "x86_64/callee_analysis.h"

#include <doctest/doctest.h>

extern "C" {
void qplug_test_writes_xmm3();
void qplug_test_unknown_call();
void qplug_test_unknown_then_abort();
void qplug_test_abort_tail();
}

// Global asm: the analysis reads the code itself, so the bytes must be
// exactly these. The calls to abort go through the GOT (bound at load).
asm(R"(
  .text
  .globl qplug_test_writes_xmm3
qplug_test_writes_xmm3:
  pxor %xmm3, %xmm3
  ret

  .globl qplug_test_unknown_call
qplug_test_unknown_call:
  test %edi, %edi
  jne 1f
  call *%rax
1:
  ret

  .globl qplug_test_unknown_then_abort
qplug_test_unknown_then_abort:
  test %edi, %edi
  jne 2f
  call qplug_test_unknown_call
  call *abort@GOTPCREL(%rip)
2:
  pxor %xmm5, %xmm5
  ret

  .globl qplug_test_abort_tail
qplug_test_abort_tail:
  test %edi, %edi
  jne 3f
  call *abort@GOTPCREL(%rip)
3:
  ret
)");

using qplug::x86_64::clobbers_of;

TEST_CASE("callee analysis: registers written are named") {
  const auto c = clobbers_of(reinterpret_cast<const void*>(&qplug_test_writes_xmm3));
  CHECK_FALSE(c.unknown);
  CHECK(c.vector == (1u << 3));
  CHECK_FALSE(c.vex);
}

TEST_CASE("callee analysis: a call through a register is unknown code") {
  CHECK(clobbers_of(reinterpret_cast<const void*>(&qplug_test_unknown_call)).unknown);
}

TEST_CASE("callee analysis: a path that ends in abort() does not count") {
  const auto c = clobbers_of(reinterpret_cast<const void*>(&qplug_test_unknown_then_abort));
  CHECK_FALSE(c.unknown);  // the unknown callee is followed by abort: never back
  CHECK(c.vector == (1u << 5));
  CHECK_FALSE(clobbers_of(reinterpret_cast<const void*>(&qplug_test_abort_tail)).unknown);
}
