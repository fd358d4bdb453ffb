#include "runtime/runtime.h"

namespace qplug::runtime {

Runtime& rt() {
  static Runtime runtime;
  return runtime;
}

}  // namespace qplug::runtime
