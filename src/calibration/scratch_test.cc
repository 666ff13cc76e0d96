#include "calibration/scratch.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace truthbook::calibration::internal {
namespace {

constexpr size_t kLarge = kMinScratchCacheBytes / sizeof(double) * 2;  // 2 MiB of doubles

// Runs `body` on a new thread, whose cache starts empty.
template <typename Body>
void InFreshThread(const Body& body) {
  std::thread(body).join();
}

TEST(ScratchTest, AFreedLargeBlockServesTheNextLargeArrayOfThisThread) {
  InFreshThread([] {
    const double* first = nullptr;
    {
      ScratchArray<double> a(kLarge);
      first = a.data();
    }
    ScratchArray<double> b(kLarge / 2);  // smaller: the cached block still serves it
    EXPECT_EQ(b.data(), first);
    ScratchArray<double> c(kLarge);  // the block is taken: a fresh one
    EXPECT_NE(c.data(), first);
  });
}

TEST(ScratchTest, ABlockGoesBackWholeAfterServingASmallerArray) {
  InFreshThread([] {
    const double* block = nullptr;
    {
      ScratchArray<double> a(kLarge);
      block = a.data();
    }
    { ScratchArray<double> b(kLarge / 2); }
    ScratchArray<double> c(kLarge);  // the whole block again
    EXPECT_EQ(c.data(), block);
  });
}

TEST(ScratchTest, ArraysAreWritableToTheEndAndMove) {
  ScratchArray<uint32_t> a(kLarge);
  std::memset(a.data(), 0xab, a.size() * sizeof(uint32_t));
  a.Truncate(3);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2], 0xababababu);
  ScratchArray<uint32_t> b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.size(), 3u);
  ScratchArray<uint32_t> small(10);
  small[9] = 7;
  b = std::move(small);
  EXPECT_EQ(b[9], 7u);
  ScratchArray<double> none(0);
  EXPECT_TRUE(none.empty());
}

TEST(ScratchTest, TheCacheHoldsNoMoreThanItsCap) {
  // More than the cap in blocks, all freed: the cache keeps some and frees the rest; later
  // arrays still come out valid and writable.
  InFreshThread([] {
    std::vector<ScratchArray<char>> arrays;
    const size_t block = kMaxScratchCacheBytes / 4;
    for (int i = 0; i < 6; ++i) arrays.emplace_back(block);
    arrays.clear();
    for (int i = 0; i < 6; ++i) {
      arrays.emplace_back(block);
      std::memset(arrays.back().data(), i, block);
    }
    EXPECT_EQ(arrays[5][block - 1], 5);
  });
}

TEST(ScratchTest, AnArrayFreedOnAnotherThreadIsFine) {
  ScratchArray<double> a(kLarge);
  a[kLarge - 1] = 1;
  std::thread([moved = std::move(a)]() mutable { EXPECT_EQ(moved[kLarge - 1], 1); }).join();
  ScratchArray<double> b(kLarge);
  b[0] = 2;
  EXPECT_EQ(b[0], 2);
}

}  // namespace
}  // namespace truthbook::calibration::internal
