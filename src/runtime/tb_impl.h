// The engine's side of a qplug::Tb view: the decoded block being translated
// and the instrumentation its tb_trans hooks add to.
#pragma once

#include <span>
#include <vector>

#include "qplug/translation.h"
#include "runtime/instrumentation.h"
#include "x86_64/decoder.h"

namespace qplug::detail {

struct TbImpl {
  std::span<const x86_64::DecodedInsn> insns;
  runtime::BlockInstrumentation* instr;
};

}  // namespace qplug::detail
