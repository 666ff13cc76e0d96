// Calibration metrics on 10M samples, the ECE benchmark: equal-width reliability bins
// plus ECE/MCE (BM_EceAndBins, to compare with scikit-learn's calibration_curve and an ECE
// from its bins on the same data), the same with weights, and the whole `calib metrics`
// report (adds Brier, log loss and the equal-mass bins). The samples are drawn once with a
// fixed seed: p uniform on [0, 1], y ~ Bernoulli(p^1.2) so the forecasts are miscalibrated,
// w uniform on [0, 2).
//
//   build/release/truthbook_benchmarks --benchmark_filter='EceAndBins|CalibrationMetrics'
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "base/status.h"
#include "calibration/metrics.h"

namespace truthbook::calibration {
namespace {

constexpr size_t kSamples = 10'000'000;
constexpr uint64_t kSeed = 20240601;

struct Samples {
  std::vector<double> p;
  std::vector<double> y;
  std::vector<double> w;
};

Samples MakeSamples() {
  Samples s;
  std::mt19937_64 rng(kSeed);
  std::uniform_real_distribution<double> unit(0, 1);
  s.p.resize(kSamples);
  s.y.resize(kSamples);
  s.w.resize(kSamples);
  for (size_t i = 0; i < kSamples; ++i) {
    s.p[i] = unit(rng);
    s.y[i] = unit(rng) < std::pow(s.p[i], 1.2) ? 1 : 0;
    s.w[i] = 2 * unit(rng);
  }
  return s;
}

// Drawn on first use and shared by every benchmark in the process.
const Samples& TenMillion() {
  static const Samples samples = MakeSamples();
  return samples;
}

// state.range(0): the bin count; state.range(1): 1 with weights.
void BM_EceAndBins(benchmark::State& state) {
  const Samples& s = TenMillion();
  const int bins = static_cast<int>(state.range(0));
  const std::span<const double> w =
      state.range(1) != 0 ? std::span<const double>(s.w) : std::span<const double>();
  for (auto _ : state) {
    Result<std::vector<ReliabilityBin>> reliability = ReliabilityBins(s.p, s.y, w, bins);
    if (!reliability.ok()) {
      state.SkipWithError(reliability.status().ToString().c_str());
      return;
    }
    CalibrationSummary summary = SummarizeBins(*reliability);
    benchmark::DoNotOptimize(summary);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSamples));
}
BENCHMARK(BM_EceAndBins)
    ->ArgNames({"bins", "weighted"})
    ->Args({10, 0})
    ->Args({15, 0})
    ->Args({10, 1})
    ->Unit(benchmark::kMillisecond);

// The whole report of `truthbook calib metrics --bins 10`.
void BM_CalibrationMetrics(benchmark::State& state) {
  const Samples& s = TenMillion();
  for (auto _ : state) {
    Result<MetricsReport> report = ComputeMetrics(s.p, s.y, {}, {.bins = 10});
    if (!report.ok()) {
      state.SkipWithError(report.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSamples));
}
BENCHMARK(BM_CalibrationMetrics)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace truthbook::calibration
