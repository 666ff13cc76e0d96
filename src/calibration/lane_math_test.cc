#include "calibration/lane_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

// See lane_math.h: the wide-lane helpers are always inlined.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace truthbook::calibration::internal {
namespace {

using Vec = std::vector<double>;

// The distance from `value` to `expected` in units of expected's last place.
double Ulps(double value, double expected) {
  const double ulp = std::nextafter(std::abs(expected), std::numeric_limits<double>::infinity()) -
                     std::abs(expected);
  return std::abs(value - expected) / ulp;
}

class LaneMathTest : public ::testing::Test {
 protected:
  void TearDown() override { SetWideLanesAllowed(true); }

  // Arguments spread over [lo, hi], with the ends.
  static Vec Spread(double lo, double hi, size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    Vec v = {lo, hi};
    while (v.size() < n) v.push_back(lo + (hi - lo) * unit(rng));
    return v;
  }

  // f on every lane of both widths (where the CPU has the wide one), against the scalar form.
  template <typename Kernel>
  static void ExpectEveryLaneGivesTheScalarBits(const Vec& args, const Kernel& kernel) {
    for (const bool wide : {false, true}) {
      SetWideLanesAllowed(wide);
      const Vec lanes = RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
        Vec out(args.size());
        for (size_t i = 0; i < args.size(); i += kLanesOf<V>) {
          StoreLanes<V>(kernel(LoadLanes<V>(args.data(), i, args.size())), out.data(), i,
                        args.size());
        }
        return out;
      });
      for (size_t i = 0; i < args.size(); ++i) {
        const double scalar = kernel(Broadcast<Lanes>(args[i]))[0];
        EXPECT_EQ(std::bit_cast<uint64_t>(lanes[i]), std::bit_cast<uint64_t>(scalar))
            << "at " << args[i] << (wide ? " (wide)" : "");
      }
    }
  }
};

TEST_F(LaneMathTest, ExpIsWithinOneUlpOfTheLibrary) {
  for (const double x : Spread(-708, 0, 20000, 1)) {
    EXPECT_LE(Ulps(ExpNonPositive(x), std::exp(x)), 1) << x;
  }
  for (const double x : Spread(-1e-6, 0, 2000, 2)) {
    EXPECT_LE(Ulps(ExpNonPositive(x), std::exp(x)), 1) << x;
  }
  EXPECT_EQ(ExpNonPositive(0.0), 1);
  EXPECT_EQ(ExpNonPositive(-0.0), 1);
}

TEST_F(LaneMathTest, ExpBelowMinus708IsExpOfMinus708) {
  EXPECT_EQ(ExpNonPositive(-709.0), ExpNonPositive(-708.0));
  EXPECT_EQ(ExpNonPositive(-std::numeric_limits<double>::infinity()), ExpNonPositive(-708.0));
  EXPECT_GT(ExpNonPositive(-708.0), 0);
  EXPECT_TRUE(std::isnan(ExpNonPositive(std::numeric_limits<double>::quiet_NaN())));
}

TEST_F(LaneMathTest, Log1pIsWithinOneUlpOfTheLibrary) {
  for (const double x : Spread(0, 1, 20000, 3)) {
    EXPECT_LE(Ulps(Log1pUnit(x), std::log1p(x)), 1) << x;
  }
  for (int e = -1074; e <= 0; e += 7) {
    const double x = std::ldexp(1.3, e);
    if (x > 1) continue;
    EXPECT_LE(Ulps(Log1pUnit(x), std::log1p(x)), 1) << x;
  }
  EXPECT_EQ(Log1pUnit(0.0), 0);
}

TEST_F(LaneMathTest, LogIsWithinOneUlpOfTheLibrary) {
  for (const double x : Spread(1e-12, 1e12, 20000, 4)) {
    EXPECT_LE(Ulps(LogPositive(x), std::log(x)), 1) << x;
  }
  for (int e = -1022; e <= 1023; e += 3) {
    for (const double m : {1.0, 1.2, 1.4142135623730951, 1.9999999999999998}) {
      const double x = std::ldexp(m, e);
      EXPECT_LE(Ulps(LogPositive(x), std::log(x)), 1) << x;
    }
  }
  EXPECT_EQ(LogPositive(1.0), 0);
}

TEST_F(LaneMathTest, EveryLaneGivesTheScalarBits) {
  const Vec args = Spread(0, 1, 1003, 5);  // not a multiple of any lane count
  // Functions of lanes must be inlined into the caller compiled for their width (lane_math.h).
  ExpectEveryLaneGivesTheScalarBits(
      args, [](const auto& v) __attribute__((always_inline)) { return ExpNonPositive(-30 * v); });
  ExpectEveryLaneGivesTheScalarBits(
      args, [](const auto& v) __attribute__((always_inline)) { return Log1pUnit(v); });
  ExpectEveryLaneGivesTheScalarBits(
      args, [](const auto& v) __attribute__((always_inline)) { return LogPositive(v + 1e-9); });
}

class ReproducibleSumTest : public ::testing::Test {
 protected:
  void TearDown() override { SetWideLanesAllowed(true); }

  static double Sum(const Vec& terms, double bound, bool wide) {
    SetWideLanesAllowed(wide);
    return RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
      ReproducibleSum<V> sum(bound, terms.size());
      for (size_t i = 0; i < terms.size(); i += kLanesOf<V>) {
        sum.Add(LoadLanes<V>(terms.data(), i, terms.size()));
      }
      return sum.Total();
    });
  }

  // Terms of mixed signs and magnitudes within [-bound, bound].
  static Vec Terms(size_t n, double bound, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(-1, 1);
    Vec terms;
    for (size_t i = 0; i < n; ++i) {
      terms.push_back(bound * unit(rng) * std::pow(10.0, -8 * std::abs(unit(rng))));
    }
    return terms;
  }
};

TEST_F(ReproducibleSumTest, AnyOrderAndEitherLaneWidthGiveTheSameBits) {
  Vec terms = Terms(100003, 3.5, 1);
  const double first = Sum(terms, 3.5, false);
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 3; ++trial) {
    std::shuffle(terms.begin(), terms.end(), rng);
    EXPECT_EQ(std::bit_cast<uint64_t>(Sum(terms, 3.5, false)), std::bit_cast<uint64_t>(first));
    EXPECT_EQ(std::bit_cast<uint64_t>(Sum(terms, 3.5, true)), std::bit_cast<uint64_t>(first));
  }
}

TEST_F(ReproducibleSumTest, IntegersTimesAPowerOfTwoSumToTheRoundedExactSum) {
  // k * 2^-40 with |k| <= 2^40: the exact sum is an integer that no double holds, so the
  // result must be that integer rounded once.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> k(-(int64_t{1} << 40), int64_t{1} << 40);
  Vec terms;
  int64_t exact = 0;  // |exact| <= 100000 * 2^40 < 2^57
  for (int i = 0; i < 100000; ++i) {
    const int64_t units = k(rng);
    exact += units;
    terms.push_back(std::ldexp(static_cast<double>(units), -40));
  }
  const double expected = std::ldexp(static_cast<double>(exact), -40);
  EXPECT_EQ(Sum(terms, 1, false), expected);
  EXPECT_EQ(Sum(terms, 1, true), expected);
}

TEST_F(ReproducibleSumTest, CancellingTermsLeaveTheSmallOneToTheLastBits) {
  Vec terms = Terms(50000, 1, 4);
  const size_t n = terms.size();
  for (size_t i = 0; i < n; ++i) terms.push_back(-terms[i]);
  EXPECT_EQ(Sum(terms, 1, false), 0);
  terms.push_back(1e-10);
  std::shuffle(terms.begin(), terms.end(), std::mt19937_64(5));
  // A plain double sum of these terms is off by ~1e-13; the second fold's grid is ~1e-26.
  EXPECT_NEAR(Sum(terms, 1, false), 1e-10, 1e-25);
}

TEST_F(ReproducibleSumTest, ZeroBoundAndNoTermsSumToZero) {
  EXPECT_EQ(Sum({0.0, -0.0, 0.0}, 0, false), 0);
  EXPECT_EQ(Sum({}, 1, false), 0);
  EXPECT_EQ(Sum({1e-300, 2e-300}, 2e-300, false), 3e-300);
}

TEST_F(ReproducibleSumTest, TermsAtTheBoundAreExact) {
  const Vec terms(1000, 0.75);
  EXPECT_EQ(Sum(terms, 0.75, false), 750);
  const Vec negative(1000, -0.75);
  EXPECT_EQ(Sum(negative, 0.75, true), -750);
}

}  // namespace
}  // namespace truthbook::calibration::internal
