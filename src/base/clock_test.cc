#include "base/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace truthbook {
namespace {

using std::chrono::milliseconds;

TimePoint At(std::int64_t ms_since_epoch) { return TimePoint(milliseconds(ms_since_epoch)); }

TEST(ManualClockTest, StartsAtTheGivenTime) {
  ManualClock clock(At(1'764'185'400'000));
  EXPECT_EQ(clock.Now(), At(1'764'185'400'000));
}

TEST(ManualClockTest, StandsStillUntilMoved) {
  ManualClock clock(At(42));
  EXPECT_EQ(clock.Now(), clock.Now());
  EXPECT_EQ(clock.Now(), At(42));
}

TEST(ManualClockTest, AdvanceMovesForwardAndBack) {
  ManualClock clock(At(1000));
  clock.Advance(milliseconds(250));
  EXPECT_EQ(clock.Now(), At(1250));
  clock.Advance(milliseconds(-2000));
  EXPECT_EQ(clock.Now(), At(-750));
}

TEST(ManualClockTest, SetReplacesTheTimeEvenBackwards) {
  ManualClock clock(At(5000));
  clock.Set(At(7));
  EXPECT_EQ(clock.Now(), At(7));
}

TEST(ManualClockTest, ConcurrentAdvancesAreNotLost) {
  ManualClock clock(At(0));
  constexpr int kThreads = 8;
  constexpr int kStepsPerThread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < kStepsPerThread; ++i) {
        clock.Advance(milliseconds(1));
        (void)clock.Now();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.Now(), At(kThreads * kStepsPerThread));
}

TEST(SystemClockTest, TracksSystemClockToTheMillisecond) {
  SystemClock clock;
  const auto before = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
  const TimePoint now = clock.Now();
  const auto after = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(SystemClockTest, UsableThroughTheClockInterface) {
  SystemClock system;
  const Clock& clock = system;
  EXPECT_GT(clock.Now().time_since_epoch().count(), 0);
}

}  // namespace
}  // namespace truthbook
