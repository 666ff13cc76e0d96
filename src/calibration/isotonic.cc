#include "calibration/isotonic.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "calibration/fit_support.h"
#include "calibration/scratch.h"

namespace truthbook::calibration {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy.finfo(float64).resolution: scikit-learn's _make_unique treats x values closer than
// this to the first x of a run as ties.
constexpr double kTieResolution = 1e-15;

// Thresholds (x, y) of a fit before trimming, with their weights.
struct Thresholds {
  internal::ScratchArray<double> x;
  internal::ScratchArray<double> y;
  internal::ScratchArray<double> w;
};

// One observation; one of unit weight (16 bytes to move, not 24); and one of unit weight from
// a binary sample, x in [0, 1] and y 0 or 1 (8 bytes: x's bits, which order like x for x >= 0,
// shifted left and y in the lowest bit, so that the integer order is the (x, y) order).
struct Point {
  double x;
  double y;
  double w;

  double X() const { return x; }
  double Y() const { return y; }
  double W() const { return w; }
};
struct UnitPoint {
  double x;
  double y;

  double X() const { return x; }
  double Y() const { return y; }
  static constexpr double W() { return 1; }
};
struct BinaryPoint {
  uint64_t key;

  double X() const { return std::bit_cast<double>(key >> 1); }
  double Y() const { return static_cast<double>(key & 1); }
  static constexpr double W() { return 1; }
};

// The canonical order: by x, then y, then w.
template <typename P>
bool PointLess(const P& a, const P& b) {
  if constexpr (std::is_same_v<P, BinaryPoint>) {
    return a.key < b.key;
  } else {
    if (a.X() != b.X()) return a.X() < b.X();
    if (a.Y() != b.Y()) return a.Y() < b.Y();
    return a.W() < b.W();
  }
}

// Observation i of positive weight as a P; adding +0 turns -0 into +0, so that equal keys are
// equal bits.
template <typename P>
P MakePoint(std::span<const double> x, std::span<const double> y, std::span<const double> w,
            size_t i) {
  if constexpr (std::is_same_v<P, BinaryPoint>) {
    return {std::bit_cast<uint64_t>(x[i] + 0.0) << 1 | (y[i] > 0 ? 1 : 0)};
  } else if constexpr (std::is_same_v<P, UnitPoint>) {
    return {x[i] + 0.0, y[i] + 0.0};
  } else {
    return {x[i] + 0.0, y[i] + 0.0, w.empty() ? 1.0 : w[i]};
  }
}

// scikit-learn's _make_unique, fed the points in sorted order: one threshold per run of tied
// x, holding the run's first x, its summed weight and its weighted mean y, summed in the same
// order.
class TieMerger {
 public:
  explicit TieMerger(size_t max_points) {
    merged_.x = internal::ScratchArray<double>(max_points);
    merged_.y = internal::ScratchArray<double>(max_points);
    merged_.w = internal::ScratchArray<double>(max_points);
  }

  // Adds the points [begin, end), sorted, that follow those added before.
  template <typename P>
  void Add(const P* begin, const P* end) {
    if (begin == end) return;
    if (!started_) {
      started_ = true;
      x_ = begin->X();
    }
    // The run in locals: stores into the arrays cannot then be taken to alias it.
    double x = x_;
    double sum_w = sum_w_;
    double sum_wy = sum_wy_;
    size_t size = size_;
    double* const xs = merged_.x.data();
    double* const ys = merged_.y.data();
    double* const ws = merged_.w.data();
    for (const P* point = begin; point < end; ++point) {
      if (point->X() - x >= kTieResolution) {
        xs[size] = x;
        ws[size] = sum_w;
        ys[size++] = sum_wy;  // divided by sum_w in Finish, many at a time
        x = point->X();
        sum_w = 0;
        sum_wy = 0;
      }
      sum_w += point->W();
      sum_wy += point->Y() * point->W();
    }
    x_ = x;
    sum_w_ = sum_w;
    sum_wy_ = sum_wy;
    size_ = size;
  }

  Thresholds Finish() {
    if (started_) {
      merged_.x[size_] = x_;
      merged_.w[size_] = sum_w_;
      merged_.y[size_++] = sum_wy_;
    }
    merged_.x.Truncate(size_);
    merged_.y.Truncate(size_);
    merged_.w.Truncate(size_);
    for (size_t i = 0; i < size_; ++i) merged_.y[i] /= merged_.w[i];  // the weighted means
    return std::move(merged_);
  }

 private:
  Thresholds merged_;
  size_t size_ = 0;
  bool started_ = false;
  double x_ = 0;
  double sum_w_ = 0;
  double sum_wy_ = 0;
};

void InsertionSort(auto* begin, auto* end) {
  for (auto* i = begin + 1; i < end; ++i) {
    const auto point = *i;
    auto* j = i;
    for (; j > begin && PointLess(point, *(j - 1)); --j) *j = *(j - 1);
    *j = point;
  }
}

// Below this size std::sort is as fast as the bucket sort's passes.
constexpr size_t kBucketSortMinimum = 4096;
// The bucket sort cuts x's range into cells of equal width, about one per point, and groups
// kCellsPerBucket consecutive cells into a bucket: few enough buckets (~500 per million
// points) that their write positions stay in cache while the points are scattered into them,
// and small enough buckets (~32 kB) to be finished in cache. 2^11 measured best of 2^8..2^13.
constexpr int kCellBits = 11;
constexpr size_t kCellsPerBucket = size_t{1} << kCellBits;
// A bucket with more points than this in one cell is sorted by std::sort instead.
constexpr uint32_t kInsertionSortMaximum = 16;

// Feeds the observations of positive weight to `merger` in the canonical order. Cell
// floor((x - min x) * scale) never decreases as x grows, so a bucket sort by cell only has to
// order the points within each cell: the points are scattered into buckets, then each bucket
// (in cache) is scattered into its cells and finished by an insertion sort.
// Probabilities fill the cells about evenly; a crowded cell makes its bucket fall back to
// std::sort, so a skewed sample costs O(n log n) at worst.
// REQUIRES: kBucketSortMinimum <= x.size() < 2^32; y and w (if not empty) have x's size;
// no NaN; every x in `range`.
template <typename P>
void BucketSort(std::span<const double> x, std::span<const double> y, std::span<const double> w,
                std::pair<double, double> range, TieMerger& merger) {
  const auto [lo, hi] = range;
  const size_t buckets = x.size() / kCellsPerBucket + 1;
  const size_t cells = buckets * kCellsPerBucket;
  double scale = static_cast<double>(cells) / (hi - lo);
  // One value of x, or a range too wide or too narrow for doubles: one cell holds all.
  if (!(scale < std::numeric_limits<double>::infinity())) scale = 0;
  const auto cell = [&](double v) {
    const double c = (v - lo) * scale;  // >= 0
    return c < static_cast<double>(cells) ? static_cast<size_t>(static_cast<int64_t>(c))
                                          : cells - 1;
  };
  const auto positive = [&](size_t i) { return w.empty() || w[i] != 0; };

  // ends[b + 1] counts bucket b's points; then, by prefix sums, ends[b] is where bucket b
  // starts; after the scatter, where it ends.
  std::vector<uint32_t> ends(buckets + 1);
  for (size_t i = 0; i < x.size(); ++i) {
    if (positive(i)) ++ends[(cell(x[i]) >> kCellBits) + 1];
  }
  for (size_t b = 1; b <= buckets; ++b) ends[b] += ends[b - 1];
  internal::ScratchArray<P> points(ends[buckets]);
  for (size_t i = 0; i < x.size(); ++i) {
    if (positive(i)) points[ends[cell(x[i]) >> kCellBits]++] = MakePoint<P>(x, y, w, i);
  }

  // Then each bucket, in cache: the same two steps by cell, and an insertion sort of each cell
  // that holds more than one point.
  uint32_t largest = ends[0];
  for (size_t b = 1; b < buckets; ++b) largest = std::max(largest, ends[b] - ends[b - 1]);
  internal::ScratchArray<P> sorted(largest);
  internal::ScratchArray<uint16_t> cell_of(largest);  // of each point in the bucket
  static_assert(kCellBits <= 16);
  std::array<uint32_t, kCellsPerBucket + 1> cell_ends;
  std::array<std::pair<uint32_t, uint32_t>, kCellsPerBucket> crowded;  // start and end in sorted
  P* begin = points.data();
  for (size_t b = 0; b < buckets; ++b) {
    P* const end = points.data() + ends[b];
    const size_t size = static_cast<size_t>(end - begin);
    cell_ends.fill(0);
    for (size_t k = 0; k < size; ++k) {
      cell_of[k] = static_cast<uint16_t>(cell(begin[k].X()) & (kCellsPerBucket - 1));
      ++cell_ends[cell_of[k] + 1];
    }
    uint32_t most = 0;
    size_t num_crowded = 0;
    for (size_t c = 1; c <= kCellsPerBucket; ++c) {
      const uint32_t count = cell_ends[c];
      most = std::max(most, count);
      cell_ends[c] += cell_ends[c - 1];
      crowded[num_crowded] = {cell_ends[c - 1], cell_ends[c]};
      num_crowded += count > 1 ? 1 : 0;
    }
    if (most <= kInsertionSortMaximum) {
      for (size_t k = 0; k < size; ++k) sorted[cell_ends[cell_of[k]]++] = begin[k];
      for (size_t c = 0; c < num_crowded; ++c) {
        InsertionSort(sorted.data() + crowded[c].first, sorted.data() + crowded[c].second);
      }
    } else {
      std::copy(begin, end, sorted.data());
      std::sort(sorted.data(), sorted.data() + size, PointLess<P>);
    }
    merger.Add(sorted.data(), sorted.data() + size);
    begin = end;
  }
}

// The observations of positive weight sorted by (x, y, w) and their tied x merged (scikit-learn
// _make_unique). The same multiset of (x, y, w) gives the same bits in any order.
// `binary_sample`: the caller has checked that every x is in [0, 1] and every y is 0 or 1.
// REQUIRES: y and w (if not empty) have x's size; no NaN; w has a positive entry.
Thresholds SortedTies(std::span<const double> x, std::span<const double> y,
                      std::span<const double> w, bool binary_sample) {
  TieMerger merger(x.size());
  if (x.size() >= kBucketSortMinimum && x.size() < (size_t{1} << 32)) {
    const std::pair<double, double> range =
        binary_sample ? std::pair(0.0, 1.0) : internal::Range(x);
    if (!w.empty()) {
      BucketSort<Point>(x, y, w, range, merger);
    } else if (binary_sample) {
      BucketSort<BinaryPoint>(x, y, w, range, merger);
    } else {
      BucketSort<UnitPoint>(x, y, w, range, merger);
    }
    return merger.Finish();
  }
  std::vector<Point> points;
  points.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (w.empty() || w[i] != 0) points.push_back(MakePoint<Point>(x, y, w, i));
  }
  std::sort(points.begin(), points.end(), PointLess<Point>);
  merger.Add(points.data(), points.data() + points.size());
  return merger.Finish();
}

// The first and last thresholds and every one whose y differs from a neighbour's: the dropped
// ones lie on the segment between their neighbours (scikit-learn trim_duplicates).
std::pair<std::vector<double>, std::vector<double>> TrimFlatInteriors(std::span<const double> x,
                                                                      std::span<const double> y) {
  const size_t n = y.size();
  std::vector<double> kept_x{x.front()};
  std::vector<double> kept_y{y.front()};
  for (size_t i = 1; i + 1 < n; ++i) {
    if (y[i] != y[i - 1] || y[i] != y[i + 1]) {
      kept_x.push_back(x[i]);
      kept_y.push_back(y[i]);
    }
  }
  if (n > 1) {
    kept_x.push_back(x.back());
    kept_y.push_back(y.back());
  }
  return {std::move(kept_x), std::move(kept_y)};
}

// The slope of segment j of (xs, ys), as numpy.interp computes it.
inline double Slope(const std::vector<double>& xs, const std::vector<double>& ys, size_t j) {
  return (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
}

// numpy.interp(v, xs, ys) on the segment j, xs[j] <= v < xs[j + 1], with its slope, bit for
// bit: an exact threshold giving its own y, the last threshold (j = xs.size() - 1) its y, and
// numpy's fallbacks when the slope overflows.
inline double InterpolateOn(const std::vector<double>& xs, const std::vector<double>& ys, size_t j,
                            double slope, double v) {
  if (j >= xs.size() - 1 || xs[j] == v) return ys[j];
  double result = slope * (v - xs[j]) + ys[j];
  if (std::isnan(result)) {
    result = slope * (v - xs[j + 1]) + ys[j + 1];
    if (std::isnan(result) && ys[j] == ys[j + 1]) result = ys[j];
  }
  return result;
}

// numpy.interp(v, xs, ys) for xs.front() <= v <= xs.back(), bit for bit.
// REQUIRES: xs.size() >= 2, xs strictly increasing, v in [xs.front(), xs.back()].
double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double v) {
  const size_t j = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), v) - xs.begin()) - 1;
  return InterpolateOn(xs, ys, j, j + 1 < xs.size() ? Slope(xs, ys, j) : 0.0, v);
}

// Interpolate for many points: each segment found in O(1) and each slope computed once. The
// range [xs.front(), xs.back()] is cut into cells of equal width, and the thresholds are
// counted per cell. The cell of v never decreases as v grows, so a threshold in an earlier
// cell is at or below v and one in a later cell above it: only v's own cell needs a look.
// With eight cells per threshold a cell rarely holds more than two (the last x of a PAVA block
// and the first of the next are neighbouring samples, so they come in close pairs), and two
// looks without a branch find the segment (measured: 5% faster than four cells and four looks).
class Interpolator {
 public:
  // REQUIRES: xs.size() >= 2, xs strictly increasing, ys of its size; both outlive this.
  Interpolator(const std::vector<double>& xs, const std::vector<double>& ys)
      : xs_(xs),
        ys_(ys),
        cells_(8 * xs.size()),
        below_(cells_ + 1),
        next_(xs.size() + kLooks, std::numeric_limits<double>::infinity()),
        slopes_(xs.size()) {
    scale_ = static_cast<double>(cells_) / (xs.back() - xs.front());
    // A range too narrow or too wide for doubles: one cell, a binary search.
    if (!(scale_ < std::numeric_limits<double>::infinity())) scale_ = 0;
    for (const double x : xs) ++below_[Cell(x) + 1];
    for (size_t c = 1; c <= cells_; ++c) below_[c] += below_[c - 1];
    std::copy(xs.begin(), xs.end(), next_.begin());
    for (size_t j = 0; j + 1 < xs.size(); ++j) slopes_[j] = Slope(xs, ys, j);
  }

  double operator()(double v) const {
    const size_t c = Cell(v);
    // Thresholds before index below_[c] lie in earlier cells, so at or below v; those from
    // below_[c + 1] on, in later cells, above it. The segment is the one of the last threshold
    // at or below v: below_[c] - 1 plus those of the cell's own thresholds at or below v.
    // (In cell 0, xs.front() <= v makes that at least 0.)
    const size_t first = below_[c];
    const size_t end = below_[c + 1];
    // Without a branch for up to kLooks thresholds in the cell: those past its end are above v.
    size_t j = first - 1;
    for (size_t look = 0; look < kLooks; ++look) j += next_[first + look] <= v ? 1 : 0;
    if (end - first > kLooks) {
      const auto xs = xs_.begin();
      j = static_cast<size_t>(std::upper_bound(xs + static_cast<std::ptrdiff_t>(first),
                                               xs + static_cast<std::ptrdiff_t>(end), v) -
                              xs) -
          1;
    }
    return InterpolateOn(xs_, ys_, j, slopes_[j], v);
  }

 private:
  size_t Cell(double v) const {
    const double cell = (v - xs_.front()) * scale_;
    return cell < static_cast<double>(cells_) ? static_cast<size_t>(static_cast<int64_t>(cell))
                                              : cells_ - 1;
  }

  static constexpr size_t kLooks = 2;

  const std::vector<double>& xs_;
  const std::vector<double>& ys_;
  size_t cells_;
  double scale_;
  std::vector<size_t> below_;   // below_[c]: how many thresholds lie in cells before c
  std::vector<double> next_;    // xs, then kLooks times +infinity
  std::vector<double> slopes_;  // slopes_[j]: of segment j; 0 for the last threshold
};

// The value of the piecewise-linear function through (xs, ys) at v, with v clipped into the
// thresholds' range; a single threshold is constant.
double PredictClipped(const std::vector<double>& xs, const std::vector<double>& ys, double v) {
  if (xs.size() == 1) return ys.front();
  if (std::isnan(v)) return v;
  return Interpolate(xs, ys, std::clamp(v, xs.front(), xs.back()));
}

}  // namespace

namespace {

// scikit-learn's _inplace_contiguous_isotonic_regression but its last step, transcribed so
// that pooled means are summed in the same order and match it to the bit. Returns the blocks:
// if [i..j] is a block, target[i] == j and target[j] == i; for a block start i, w[i] is the
// block's weight and y[i] its weighted mean. Index must hold y.size().
template <typename Index>
internal::ScratchArray<Index> PoolBlocks(std::span<double> y, std::span<double> w) {
  const size_t n = y.size();
  internal::ScratchArray<Index> target(n);
  for (size_t i = 0; i < n; ++i) target[i] = static_cast<Index>(i);
  size_t i = 0;
  while (i < n) {
    size_t k = target[i] + size_t{1};
    if (k == n) break;
    if (y[i] < y[k]) {
      i = k;
      continue;
    }
    double sum_wy = w[i] * y[i];
    double sum_w = w[i];
    for (;;) {
      // Inside a non-increasing run: absorb the next block.
      const double prev_y = y[k];
      sum_wy += w[k] * y[k];
      sum_w += w[k];
      k = target[k] + size_t{1};
      if (k == n || prev_y < y[k]) {
        y[i] = sum_wy / sum_w;
        w[i] = sum_w;
        target[i] = static_cast<Index>(k - 1);
        target[k - 1] = static_cast<Index>(i);
        // Step back one block so that the pass stays single and O(n).
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  return target;
}

template <typename Index>
void PoolAdjacentViolatorsWith(std::span<double> y, std::span<double> w) {
  const internal::ScratchArray<Index> target = PoolBlocks<Index>(y, w);
  // Spread each block's mean over it.
  for (size_t i = 0; i < y.size();) {
    const size_t k = target[i] + size_t{1};
    std::fill(y.begin() + static_cast<std::ptrdiff_t>(i) + 1,
              y.begin() + static_cast<std::ptrdiff_t>(k), y[i]);
    i = k;
  }
}

// The increasing fit's thresholds, read off the pooled blocks of the merged ties t: the same
// as spreading each block's mean, clipping to [lo, hi] and TrimFlatInteriors, without touching
// every point again. Within a block only its ends can differ from a neighbour.
template <typename Index>
std::pair<std::vector<double>, std::vector<double>> IncreasingThresholds(Thresholds& t, double lo,
                                                                         double hi) {
  const internal::ScratchArray<Index> target = PoolBlocks<Index>(t.y, t.w);
  const size_t n = t.y.size();
  const auto value = [&](size_t start) { return std::clamp(t.y[start], lo, hi); };
  std::vector<double> xs;
  std::vector<double> ys;
  const auto keep = [&](size_t i, double v) {
    xs.push_back(t.x[i]);
    ys.push_back(v);
  };
  double previous = 0;  // the value of the block before
  for (size_t i = 0; i < n;) {
    const size_t k = target[i] + size_t{1};  // the block is [i, k)
    const double v = value(i);
    const bool differs_before = i == 0 || previous != v;
    const bool differs_after = k == n || value(k) != v;
    if (k - 1 == i) {
      if (differs_before || differs_after) keep(i, v);
    } else {
      if (differs_before) keep(i, v);
      if (differs_after) keep(k - 1, v);
    }
    previous = v;
    i = k;
  }
  return {std::move(xs), std::move(ys)};
}

}  // namespace

void PoolAdjacentViolators(std::span<double> y, std::span<double> w) {
  if (y.size() < (size_t{1} << 32)) {
    PoolAdjacentViolatorsWith<uint32_t>(y, w);
  } else {
    PoolAdjacentViolatorsWith<size_t>(y, w);
  }
}

namespace {

// IsotonicRegression::Fit on checked input: the thresholds' x and y. `binary_sample` as
// SortedTies.
std::pair<std::vector<double>, std::vector<double>> FitChecked(std::span<const double> x,
                                                               std::span<const double> y,
                                                               std::span<const double> w,
                                                               const IsotonicOptions& options,
                                                               bool binary_sample) {
  Thresholds t = SortedTies(x, y, w, binary_sample);
  const double lo = options.y_min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = options.y_max.value_or(std::numeric_limits<double>::infinity());
  if (options.increasing) {
    return t.y.size() < (size_t{1} << 32) ? IncreasingThresholds<uint32_t>(t, lo, hi)
                                          : IncreasingThresholds<size_t>(t, lo, hi);
  }
  // As scikit-learn: a non-increasing fit is the non-decreasing fit of the reversed data.
  std::reverse(t.y.begin(), t.y.end());
  std::reverse(t.w.begin(), t.w.end());
  PoolAdjacentViolators(t.y, t.w);
  std::reverse(t.y.begin(), t.y.end());
  for (double& v : t.y) v = std::clamp(v, lo, hi);
  return TrimFlatInteriors(t.x, t.y);
}

}  // namespace

Result<IsotonicRegression> IsotonicRegression::Fit(std::span<const double> x,
                                                   std::span<const double> y,
                                                   std::span<const double> w,
                                                   const IsotonicOptions& options) {
  if (x.empty()) return InvalidArgument("x: must not be empty");
  RETURN_IF_ERROR(internal::CheckSameSize("y", y.size(), "x", x.size()));
  RETURN_IF_ERROR(internal::CheckFinite("x", x));
  RETURN_IF_ERROR(internal::CheckFinite("y", y));
  RETURN_IF_ERROR(internal::CheckWeights(w, "x", x.size()));
  if (options.y_min && std::isnan(*options.y_min)) return InvalidArgument("y_min: must not be NaN");
  if (options.y_max && std::isnan(*options.y_max)) return InvalidArgument("y_max: must not be NaN");
  if (options.y_min && options.y_max && *options.y_min > *options.y_max) {
    return InvalidArgument("y_min: must be <= y_max");
  }
  auto [xs, ys] = FitChecked(x, y, w, options, /*binary_sample=*/false);
  return IsotonicRegression(std::move(xs), std::move(ys), options.out_of_bounds);
}

double IsotonicRegression::Predict(double x) const {
  if (out_of_bounds_ == OutOfBounds::kNan && x_.size() > 1 && (x < x_.front() || x > x_.back())) {
    return kNaN;
  }
  return PredictClipped(x_, y_, x);
}

Result<std::unique_ptr<IsotonicCalibrator>> IsotonicCalibrator::Fit(std::span<const double> p,
                                                                    std::span<const double> y,
                                                                    std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));  // which implies IsotonicRegression's checks
  auto [x, fitted] = FitChecked(p, y, w, {}, /*binary_sample=*/true);
  return std::make_unique<IsotonicCalibrator>(Key(), std::move(x), std::move(fitted));
}

Result<std::unique_ptr<IsotonicCalibrator>> IsotonicCalibrator::FromParams(
    const nlohmann::json& params) {
  RETURN_IF_ERROR(internal::CheckParamKeys(params, {"x", "y"}));
  ASSIGN_OR_RETURN(std::vector<double> x, internal::ParamArray(params, "x"));
  ASSIGN_OR_RETURN(std::vector<double> y, internal::ParamArray(params, "y"));
  RETURN_IF_ERROR(internal::CheckSameSize("params.y", y.size(), "params.x", x.size()));
  // Appended rather than "[" + ...: GCC 12 at -O3 warns -Wrestrict on that (a false positive).
  auto at = [](size_t i) { return std::string("[").append(std::to_string(i)).append("]"); };
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(y[i] >= 0 && y[i] <= 1)) {
      return InvalidArgument("params.y" + at(i) + ": must be in [0, 1]");
    }
    if (i > 0 && !(x[i] > x[i - 1])) {
      return InvalidArgument("params.x" + at(i) + ": must be > params.x" + at(i - 1));
    }
    if (i > 0 && !(y[i] >= y[i - 1])) {
      return InvalidArgument("params.y" + at(i) + ": must be >= params.y" + at(i - 1));
    }
  }
  return std::make_unique<IsotonicCalibrator>(Key(), std::move(x), std::move(y));
}

double IsotonicCalibrator::Apply(double p) const {
  if (std::isnan(p)) return p;
  return std::clamp(PredictClipped(x_, y_, p), 0.0, 1.0);
}

void IsotonicCalibrator::ApplyAll(std::span<const double> in, std::span<double> out) const {
  assert(out.size() == in.size());
  // Few points, or a constant: Apply's binary search is cheaper than building the index.
  if (x_.size() == 1 || in.size() < 4 * x_.size()) {
    Calibrator::ApplyAll(in, out);
    return;
  }
  const Interpolator interpolate(x_, y_);
  for (size_t i = 0; i < in.size(); ++i) {
    const double p = in[i];
    out[i] =
        std::isnan(p) ? p : std::clamp(interpolate(std::clamp(p, x_.front(), x_.back())), 0.0, 1.0);
  }
}

nlohmann::json IsotonicCalibrator::Params() const { return nlohmann::json{{"x", x_}, {"y", y_}}; }

}  // namespace truthbook::calibration
