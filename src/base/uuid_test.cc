#include "base/uuid.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace truthbook {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kStartMs = 1'764'185'400'123;  // 2025-11-26T19:30:00.123Z

class UuidV7Test : public ::testing::Test {
 protected:
  static std::uint64_t HexField(const std::string& uuid, size_t pos, size_t length) {
    return std::stoull(uuid.substr(pos, length), nullptr, 16);
  }
  // unix_ts_ms: the first 48 bits, i.e. "xxxxxxxx-xxxx".
  static std::int64_t TimestampMs(const std::string& uuid) {
    return static_cast<std::int64_t>((HexField(uuid, 0, 8) << 16) | HexField(uuid, 9, 4));
  }
  static int Version(const std::string& uuid) { return uuid[14] - '0'; }
  // The top two bits of byte 8, the first character of the fourth group.
  static int Variant(const std::string& uuid) {
    return static_cast<int>(HexField(uuid, 19, 1) >> 2);
  }

  ManualClock clock_{TimePoint(milliseconds(kStartMs))};
  UuidV7Generator generator_{clock_};
};

TEST_F(UuidV7Test, IsLowercaseCanonicalForm) {
  const std::string id = generator_.Next();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_TRUE(IsUuid(id)) << id;
}

TEST_F(UuidV7Test, HasVersion7AndVariant10) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = generator_.Next();
    EXPECT_EQ(Version(id), 7) << id;
    EXPECT_EQ(Variant(id), 0b10) << id;
  }
}

TEST_F(UuidV7Test, TimestampFieldEqualsClockMilliseconds) {
  EXPECT_EQ(TimestampMs(generator_.Next()), kStartMs);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(TimestampMs(generator_.Next()), kStartMs + 1);
  clock_.Advance(milliseconds(86'400'000));
  EXPECT_EQ(TimestampMs(generator_.Next()), kStartMs + 1 + 86'400'000);
}

TEST_F(UuidV7Test, MonotonicWhileTheClockStandsStill) {
  std::string previous = generator_.Next();
  for (int i = 0; i < 100'000; ++i) {
    std::string next = generator_.Next();
    ASSERT_LT(previous, next) << "after " << i << " ids";
    previous = std::move(next);
  }
}

TEST_F(UuidV7Test, CounterOverflowBorrowsTheNextMillisecond) {
  // A fresh counter starts below 0x800, so 4096 ids in one millisecond must overflow it.
  std::string last;
  for (int i = 0; i < 4096; ++i) last = generator_.Next();
  EXPECT_GT(TimestampMs(last), kStartMs);
  // Once the real clock passes the borrowed millisecond the timestamp follows it again.
  clock_.Advance(milliseconds(10));
  EXPECT_EQ(TimestampMs(generator_.Next()), kStartMs + 10);
}

TEST_F(UuidV7Test, MonotonicWhenTheClockStepsBack) {
  const std::string before = generator_.Next();
  clock_.Advance(milliseconds(-5000));
  const std::string after = generator_.Next();
  EXPECT_LT(before, after);
  EXPECT_EQ(TimestampMs(after), kStartMs);
}

TEST_F(UuidV7Test, UniqueOverOneHundredThousand) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 100'000; ++i) {
    if (i % 1000 == 0) clock_.Advance(milliseconds(1));
    ASSERT_TRUE(seen.insert(generator_.Next()).second) << "duplicate after " << i << " ids";
  }
}

TEST_F(UuidV7Test, TwoGeneratorsDoNotCollide) {
  UuidV7Generator other(clock_);
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(seen.insert(generator_.Next()).second);
    ASSERT_TRUE(seen.insert(other.Next()).second);
  }
}

TEST_F(UuidV7Test, ConcurrentCallersGetDistinctIds) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, &ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(generator_.Next());
    });
  }
  for (auto& thread : threads) thread.join();
  std::unordered_set<std::string> seen;
  for (const auto& per_thread : ids) {
    for (size_t i = 0; i < per_thread.size(); ++i) {
      ASSERT_TRUE(seen.insert(per_thread[i]).second);
      if (i > 0) {
        EXPECT_LT(per_thread[i - 1], per_thread[i]);
      }
    }
  }
}

TEST_F(UuidV7Test, ClockBeforeEpochEncodesZeroTimestamp) {
  clock_.Set(TimePoint(milliseconds(-1)));
  UuidV7Generator generator(clock_);
  EXPECT_EQ(TimestampMs(generator.Next()), 0);
}

TEST(IsUuidTest, AcceptsCanonicalLowercaseOfAnyVersion) {
  EXPECT_TRUE(IsUuid("01890a5d-ac96-774b-bcce-b302099a8057"));  // v7
  EXPECT_TRUE(IsUuid("f47ac10b-58cc-4372-a567-0e02b2c3d479"));  // v4
  EXPECT_TRUE(IsUuid("00000000-0000-0000-0000-000000000000"));  // nil
}

TEST(IsUuidTest, RejectsEverythingElse) {
  for (std::string_view text : {
           "",
           "01890A5D-AC96-774B-BCCE-B302099A8057",    // uppercase
           "01890a5dac96774bbcceb302099a8057",        // no hyphens
           "{01890a5d-ac96-774b-bcce-b302099a8057}",  // braces
           "urn:uuid:01890a5d-ac96-774b-bcce-b302099a8057",
           "01890a5d-ac96-774b-bcce-b302099a805",    // short
           "01890a5d-ac96-774b-bcce-b302099a80577",  // long
           "01890a5d-ac96-774b-bcceb-302099a8057",   // hyphen misplaced
           "01890a5g-ac96-774b-bcce-b302099a8057",   // not hex
           " 1890a5d-ac96-774b-bcce-b302099a8057",
       }) {
    EXPECT_FALSE(IsUuid(text)) << text;
  }
}

}  // namespace
}  // namespace truthbook
