#include "runtime/runtime.h"

#include <sys/resource.h>

namespace qplug::runtime {

Runtime& rt() {
  static Runtime runtime;
  return runtime;
}

std::string address_space_problem(const std::string& what) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    return "qplug: no address space left for " + what + " within the address space limit (" +
           std::to_string(limit.rlim_cur >> 10) + " KiB, ulimit -v)";
  }
  return "qplug: cannot map memory for " + what;
}

}  // namespace qplug::runtime
