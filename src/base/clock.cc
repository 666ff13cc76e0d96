#include "base/clock.h"

namespace truthbook {

TimePoint SystemClock::Now() const {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

ManualClock::ManualClock(TimePoint start) : ms_since_epoch_(start.time_since_epoch().count()) {}

TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::milliseconds(ms_since_epoch_.load(std::memory_order_acquire)));
}

void ManualClock::Set(TimePoint t) {
  ms_since_epoch_.store(t.time_since_epoch().count(), std::memory_order_release);
}

void ManualClock::Advance(std::chrono::milliseconds delta) {
  ms_since_epoch_.fetch_add(delta.count(), std::memory_order_acq_rel);
}

}  // namespace truthbook
