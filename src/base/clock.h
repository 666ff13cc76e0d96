// Clock: the single source of "now", injected so that code reading the time can be tested
// without sleeping (userver's mock_now). SystemClock reads the real UTC clock; ManualClock is
// set and advanced by tests. Every Clock is thread-safe: Now() may race with itself and, for
// ManualClock, with Set() and Advance().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace truthbook {

// A UTC instant with millisecond resolution: the precision every timestamp in truthbook has.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;

  // Returns the current UTC time. Never fails.
  virtual TimePoint Now() const = 0;
};

// The real wall clock (std::chrono::system_clock), truncated to whole milliseconds.
// It may jump backwards when the host's time is corrected; callers needing monotonic ids
// (UuidV7Generator) guard against that themselves.
class SystemClock final : public Clock {
 public:
  // Returns system_clock::now() rounded down to the millisecond. Never fails.
  TimePoint Now() const override;
};

// A clock that only moves when told to. Lock-free: the time is one std::atomic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);

  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  // Returns the last time given to the constructor, Set() or reached by Advance().
  TimePoint Now() const override;

  // Moves the clock to `t`, which may be earlier than Now() (to test clock steps back).
  void Set(TimePoint t);

  // Moves the clock by `delta` atomically; a negative delta moves it back.
  void Advance(std::chrono::milliseconds delta);

 private:
  std::atomic<std::int64_t> ms_since_epoch_;
};

}  // namespace truthbook
