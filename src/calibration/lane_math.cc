#include "calibration/lane_math.h"

#include <atomic>

namespace truthbook::calibration::internal {

namespace {

std::atomic<bool> wide_lanes_allowed{true};

bool CpuHasWideLanes() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

}  // namespace

bool UseWideLanes() {
  static const bool cpu_has_them = CpuHasWideLanes();
  return cpu_has_them && wide_lanes_allowed.load(std::memory_order_relaxed);
}

void SetWideLanesAllowed(bool allowed) {
  wide_lanes_allowed.store(allowed, std::memory_order_relaxed);
}

}  // namespace truthbook::calibration::internal
