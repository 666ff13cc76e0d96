// Double vectors of two or eight lanes for the fits' hot loops (RunOnLanes picks the width),
// e^x for x <= 0, ln(1 + x) on [0, 1] and ln x on them, and a sum whose bits do not depend on
// the order of its terms. All plain IEEE-754 arithmetic (no table, no library call; ISO C++
// does not fuse a·b + c), so every lane, width and machine gives the same bits, and a fit can be
// refitted bit-identically elsewhere. Pure functions and value types; safe from any thread
// (SetWideLanesAllowed, for tests, excepted).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace truthbook::calibration::internal {

// Returning a 64-byte vector is ABI-dependent without AVX-512 (GCC's -Wpsabi warning). Every
// function here that does is always inlined into one compiled for its lane width, so no such
// call is ever made; a caller's own function (or lambda) of lanes must be too. Lanes are taken
// by const reference: GCC notes a by-value one whatever the pragmas say.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// GCC and Clang vector extensions: + - * / apply per lane, a comparison gives a mask of
// all-ones (true) or zero per lane, `mask ? a : b` selects per lane, and a C-style cast
// between vectors of one size reinterprets the bits. Two lanes are one SSE2 or NEON
// register, the baseline of x86-64 and arm64; eight are one AVX-512 register, used where the
// CPU has it (RunOnLanes). The functions below take either type and are always inlined, so
// each caller compiles them for its own lane width.
using Lanes = double __attribute__((vector_size(16)));
using WideLanes = double __attribute__((vector_size(64)));

// The vector of 64-bit masks a comparison of two V gives.
template <typename V>
using MaskOf = decltype(V{} < V{});

// The vector of unsigned 64-bit integers as wide as V (wraps around modulo 2^64).
template <typename V>
struct UnsignedLanes;
template <>
struct UnsignedLanes<Lanes> {
  using Type = uint64_t __attribute__((vector_size(16)));
};
template <>
struct UnsignedLanes<WideLanes> {
  using Type = uint64_t __attribute__((vector_size(64)));
};

template <typename V>
inline constexpr size_t kLanesOf = sizeof(V) / sizeof(double);

// {v[i], ..., v[i + lanes - 1]}, with 0 for an index at or past n.
// REQUIRES: i < n.
template <typename V>
[[gnu::always_inline]] inline V LoadLanes(const double* v, size_t i, size_t n) {
  V lanes;
  if (i + kLanesOf<V> <= n) {
    __builtin_memcpy(&lanes, v + i, sizeof(V));
  } else {
    // Through an array, so that the full loads above stay plain register loads.
    double tail[kLanesOf<V>] = {};
    for (size_t l = 0; i + l < n; ++l) tail[l] = v[i + l];
    __builtin_memcpy(&lanes, tail, sizeof(V));
  }
  return lanes;
}

// Stores the lanes of `lanes` below n at v[i], v[i + 1], ...
template <typename V>
[[gnu::always_inline]] inline void StoreLanes(const V& lanes, double* v, size_t i, size_t n) {
  if (i + kLanesOf<V> <= n) {
    __builtin_memcpy(v + i, &lanes, sizeof(V));
  } else {
    for (size_t l = 0; i + l < n; ++l) v[i + l] = lanes[l];
  }
}

template <typename V>
[[gnu::always_inline]] inline V Broadcast(double v) {
  return V{} + v;
}

// Each lane clamped to [lo, hi], as std::clamp (NaN stays NaN).
template <typename V>
[[gnu::always_inline]] inline V Clamp(const V& x, double lo, double hi) {
  const V above_lo = x < lo ? Broadcast<V>(lo) : x;
  return above_lo > hi ? Broadcast<V>(hi) : above_lo;
}

template <typename V>
[[gnu::always_inline]] inline V Abs(const V& x) {
  using Mask = MaskOf<V>;
  return (V)((Mask)x & ~(Mask{} + std::numeric_limits<int64_t>::min()));
}

// e^x for x <= 0 (fdlibm's e_exp.c kernel: error below 1 ulp). x below -708 is taken as -708
// (e^-708 = 3.3e-308, the result stays a normal number); NaN gives NaN.
template <typename V>
[[gnu::always_inline]] inline V ExpNonPositive(const V& exponent) {
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 bits: k * kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kP1 = 1.66666666666666019037e-01;
  constexpr double kP2 = -2.77777777770155933842e-03;
  constexpr double kP3 = 6.61375632143793436117e-05;
  constexpr double kP4 = -1.65339022054652515390e-06;
  constexpr double kP5 = 4.13813679705723846039e-08;
  // Adding 1.5 * 2^52 rounds to an integer, which then sits in the low mantissa bits.
  constexpr double kShifter = 0x1.8p52;
  using Mask = MaskOf<V>;
  const V x = exponent < -708.0 ? Broadcast<V>(-708.0) : exponent;
  const V shifted = x * kInvLn2 + kShifter;
  const V k = shifted - kShifter;  // x / ln 2 rounded to an integer
  const V hi = x - k * kLn2Hi;
  const V lo = k * kLn2Lo;
  const V r = hi - lo;  // |r| <= ln(2) / 2
  const V t = r * r;
  const V c = r - t * (kP1 + t * (kP2 + t * (kP3 + t * (kP4 + t * kP5))));
  const V y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);  // e^r
  // 2^k: k + 1023 in the exponent field. The low bits of `shifted` hold k (two's complement,
  // modulo 2^52), and the shift drops the rest.
  const Mask scale = ((Mask)shifted + 1023) << 52;
  return y * (V)scale;
}

namespace lane_math_detail {

constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kSqrt2 = 1.41421356237309514547e+00;

// fdlibm's log kernel: ln(1 + f) + k ln 2 + c for f in [sqrt(2)/2 - 1, sqrt(2) - 1], with c a
// small correction (e_log.c and s_log1p.c). Error below 1 ulp.
template <typename V>
[[gnu::always_inline]] inline V LogKernel(const V& f, const V& k, const V& c) {
  constexpr double kLg1 = 6.666666666666735130e-01;
  constexpr double kLg2 = 3.999999999940941908e-01;
  constexpr double kLg3 = 2.857142874366239149e-01;
  constexpr double kLg4 = 2.222219843214978396e-01;
  constexpr double kLg5 = 1.818357216161805012e-01;
  constexpr double kLg6 = 1.531383769920937332e-01;
  constexpr double kLg7 = 1.479819860511658591e-01;
  const V s = f / (2.0 + f);
  const V z = s * s;
  const V r =
      z * (kLg1 + z * (kLg2 + z * (kLg3 + z * (kLg4 + z * (kLg5 + z * (kLg6 + z * kLg7))))));
  const V hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + (k * kLn2Lo + c))) - f);
}

}  // namespace lane_math_detail

// ln(1 + x) for x in [0, 1] (fdlibm's s_log1p.c on this range: error below 1 ulp).
template <typename V>
[[gnu::always_inline]] inline V Log1pUnit(const V& x) {
  using namespace lane_math_detail;
  const V u = 1.0 + x;              // in [1, 2]; u - 1 is exact
  const V c = (x - (u - 1.0)) / u;  // what rounding 1 + x lost, relative to u
  const auto halve = u > kSqrt2;    // then ln u = ln(u / 2) + ln 2
  return LogKernel<V>((halve ? u * 0.5 : u) - 1.0, halve ? Broadcast<V>(1) : Broadcast<V>(0), c);
}

// ln x for a positive normal x (fdlibm's e_log.c: error below 1 ulp).
template <typename V>
[[gnu::always_inline]] inline V LogPositive(const V& x) {
  using namespace lane_math_detail;
  using Mask = MaskOf<V>;
  constexpr int64_t kMantissa = (int64_t{1} << 52) - 1;
  constexpr int64_t kOneBits = int64_t{1023} << 52;
  constexpr double kShifter = 0x1.8p52;
  const Mask bits = (Mask)x;
  // x = 2^e * m with m in [1, 2); e as a double through the shifter's low mantissa bits.
  const V m = (V)((bits & kMantissa) | kOneBits);
  const V e = (V)((bits >> 52) + std::bit_cast<int64_t>(kShifter)) - (kShifter + 1023);
  const auto halve = m > kSqrt2;
  return LogKernel<V>((halve ? m * 0.5 : m) - 1.0, halve ? e + 1.0 : e, Broadcast<V>(0));
}

// Scalar forms: the same bits as any lane.
inline double ExpNonPositive(double x) { return ExpNonPositive(Broadcast<Lanes>(x))[0]; }
inline double Log1pUnit(double x) { return Log1pUnit(Broadcast<Lanes>(x))[0]; }
inline double LogPositive(double x) { return LogPositive(Broadcast<Lanes>(x))[0]; }

// A sum of terms with |term| <= bound that is the same to the last bit in whatever order, and
// however split across lanes, the terms are added. Each term is split into kFolds pieces on
// fixed grids chosen from `bound` and `max_terms` alone (the nearest multiple of the coarse
// grid, then of the finer grid the remainder needs): that split depends on the term only, and
// the pieces of each grid are added as integers, which is exact and so order-free.
// Precision: each fold keeps min(51, 61 - log2(max_terms)) bits of `bound`, i.e. about 80 bits
// with 1M terms, against ~30 for a plain double sum in the worst case.
// REQUIRES: at most max_terms terms, each with |term| <= bound (a larger or non-finite term
// makes the sum inexact, though still deterministic for one order).
template <typename V>
class ReproducibleSum {
 public:
  static constexpr int kFolds = 2;

  // A sum that takes no terms (bound 0); assign a real one before adding.
  ReproducibleSum() : ReproducibleSum(0, 0) {}

  ReproducibleSum(double bound, size_t max_terms) {
    // Grid 2^(e - 52) with anchor 1.5 * 2^e: adding a term |x| < 2^(e-1) to the anchor rounds
    // x to the grid, and the anchor's bits then differ by x / grid, an integer below 2^51.
    // The n-term sum of those integers must stay below 2^63: e >= ilogb(bound) + log2(n) - 8.
    const int log2_terms = std::bit_width(std::max<size_t>(max_terms, 1));  // n < 2^log2_terms
    int bound_exponent = bound > 0 ? std::ilogb(bound) : -1100;             // bound < 2^(b+1)
    for (int fold = 0; fold < kFolds; ++fold) {
      const int e = std::clamp(bound_exponent + std::max(2, log2_terms - 8), -1000, 1000);
      anchor_[fold] = std::ldexp(1.5, e);
      grid_[fold] = std::ldexp(1.0, e - 52);
      bound_exponent = e - 53;  // the remainder is at most half the grid
    }
  }

  [[gnu::always_inline]] void Add(const V& added) {
    V terms = added;
    for (int fold = 0; fold < kFolds; ++fold) {
      const V anchored = terms + anchor_[fold];
      // Modulo 2^64; Total() takes the anchor's own bits off once per term.
      sums_[fold] += (Bits)anchored;
      terms -= anchored - anchor_[fold];
    }
    ++adds_;
  }

  // The sum of the pieces, rounded once per fold, finest first.
  double Total() const {
    double total = 0;
    for (int fold = kFolds - 1; fold >= 0; --fold) {
      uint64_t units = -adds_ * kLanesOf<V> * std::bit_cast<uint64_t>(anchor_[fold]);
      for (size_t lane = 0; lane < kLanesOf<V>; ++lane) units += sums_[fold][lane];
      total += static_cast<double>(static_cast<int64_t>(units)) * grid_[fold];
    }
    return total;
  }

 private:
  using Bits = typename UnsignedLanes<V>::Type;

  double anchor_[kFolds];
  double grid_[kFolds];
  Bits sums_[kFolds] = {};
  uint64_t adds_ = 0;
};

// Whether RunOnLanes takes eight lanes: the CPU runs AVX-512 and SetWideLanesAllowed(false)
// has not been called.
bool UseWideLanes();

// For tests: false makes RunOnLanes take two lanes even where eight would run, to check that
// both widths give the same bits. Not for concurrent use with fits.
void SetWideLanesAllowed(bool allowed);

#if defined(__x86_64__)
template <typename Kernel>
[[gnu::target("avx512f")]] auto RunOnWideLanes(const Kernel& kernel) {
  return kernel.template operator()<WideLanes>();
}
#endif

// kernel.operator()<V>() with V = WideLanes where UseWideLanes(), else Lanes. The kernel is a
// lambda `[&]<typename V>() __attribute__((always_inline)) {...}`: inlined here, it is compiled
// once for each width. Both widths give the same bits when the kernel's lanes are independent
// and its sums are ReproducibleSums.
template <typename Kernel>
auto RunOnLanes(const Kernel& kernel) {
#if defined(__x86_64__)
  if (UseWideLanes()) return RunOnWideLanes(kernel);
#endif
  return kernel.template operator()<Lanes>();
}

#pragma GCC diagnostic pop

}  // namespace truthbook::calibration::internal
