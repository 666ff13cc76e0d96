// The calibrator benchmarks of issue 4, each compared with scikit-learn on the same data by
// bench/run_calibration_bench.sh: isotonic fit + predict, Platt and temperature fits on 1M
// samples, and equal-width reliability bins plus ECE on 10M.
//
// With TRUTHBOOK_CALIB_BENCH_DIR set, the samples are read from raw little-endian float64 files
// there (p_1m.f64, y_1m.f64, p_10m.f64, y_10m.f64, written by bench/calibration_sklearn.py),
// and each benchmark writes its answers beside them after timing (tb_isotonic_1m.f64: the
// predictions at the training points; tb_<name>.json: the parameters or the bins), for the
// script to compare with scikit-learn's. Without it, the samples are drawn here with a fixed
// seed (p = sigmoid(N(0, 1.5)), y ~ Bernoulli(sigmoid(1.4 logit(p) - 0.3)), as the script
// draws them, though from a different generator) and nothing is written.
//
//   build/release/truthbook_benchmarks --benchmark_filter='Isotonic|Platt|Temperature|EceAndRel'
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "calibration/calibrator.h"
#include "calibration/fit_support.h"
#include "calibration/metrics.h"

namespace truthbook::calibration {
namespace {

constexpr size_t kOneMillion = 1'000'000;
constexpr size_t kTenMillion = 10'000'000;
constexpr uint64_t kSeed = 20260401;
constexpr const char* kDataDirVariable = "TRUTHBOOK_CALIB_BENCH_DIR";

struct Samples {
  std::vector<double> p;
  std::vector<double> y;
};

// The folder named by TRUTHBOOK_CALIB_BENCH_DIR, if set.
std::optional<std::filesystem::path> DataDir() {
  const char* dir = std::getenv(kDataDirVariable);
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::filesystem::path(dir);
}

// `n` raw float64 values from `path`; empty if the file does not hold exactly that many.
std::vector<double> ReadDoubles(const std::filesystem::path& path, size_t n) {
  std::vector<double> values(n);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(n * sizeof(double)));
  if (!in || in.peek() != std::ifstream::traits_type::eof()) return {};
  return values;
}

void WriteDoubles(const std::filesystem::path& path, std::span<const double> values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(double)));
}

// The answers of one benchmark, for the script; nothing without TRUTHBOOK_CALIB_BENCH_DIR.
// nlohmann::json writes every double so that it parses back to the same bits.
void WriteAnswer(const std::string& name, const nlohmann::json& answer) {
  if (const std::optional<std::filesystem::path> dir = DataDir()) {
    std::ofstream(*dir / ("tb_" + name + ".json"), std::ios::trunc) << answer.dump() << "\n";
  }
}

Samples Draw(size_t n) {
  Samples s;
  std::mt19937_64 rng(kSeed + n);
  std::normal_distribution<double> score(0, 1.5);
  std::uniform_real_distribution<double> unit(0, 1);
  s.p.resize(n);
  s.y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s.p[i] = internal::Sigmoid(score(rng));
    s.y[i] = unit(rng) < internal::Sigmoid(1.4 * ClippedLogit(s.p[i]) - 0.3) ? 1 : 0;
  }
  return s;
}

// The n-sample data set: read from TRUTHBOOK_CALIB_BENCH_DIR (`suffix` "1m" or "10m"), else
// drawn. Empty if the files are missing or of the wrong size.
Samples Load(size_t n, const std::string& suffix) {
  const std::optional<std::filesystem::path> dir = DataDir();
  if (!dir) return Draw(n);
  return Samples{ReadDoubles(*dir / ("p_" + suffix + ".f64"), n),
                 ReadDoubles(*dir / ("y_" + suffix + ".f64"), n)};
}

// Loaded on first use and shared by the benchmarks of the process.
const Samples& OneMillion() {
  static const Samples samples = Load(kOneMillion, "1m");
  return samples;
}
const Samples& TenMillion() {
  static const Samples samples = Load(kTenMillion, "10m");
  return samples;
}

// Skips the benchmark (true) when its data could not be loaded.
bool MissingData(benchmark::State& state, const Samples& s) {
  if (!s.p.empty() && !s.y.empty()) return false;
  state.SkipWithError("cannot read the samples from $TRUTHBOOK_CALIB_BENCH_DIR");
  return true;
}

// Fits `method` once per iteration; returns the last fit. A failed fit skips the benchmark.
std::unique_ptr<Calibrator> FitEachIteration(benchmark::State& state, Method method,
                                             const Samples& s) {
  std::unique_ptr<Calibrator> fitted;
  for (auto _ : state) {
    Result<std::unique_ptr<Calibrator>> calibrator = Fit(method, s.p, s.y, {});
    if (!calibrator.ok()) {
      state.SkipWithError(calibrator.status().ToString().c_str());
      return nullptr;
    }
    fitted = std::move(calibrator).value();
    benchmark::DoNotOptimize(fitted.get());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.p.size()));
  return fitted;
}

// Fit on 1M samples, then calibrate the same 1M (scikit-learn: IsotonicRegression
// (out_of_bounds="clip").fit(p, y).predict(p)).
void BM_IsotonicFitPredict(benchmark::State& state) {
  const Samples& s = OneMillion();
  if (MissingData(state, s)) return;
  std::vector<double> calibrated(s.p.size());
  for (auto _ : state) {
    Result<std::unique_ptr<Calibrator>> calibrator = Fit(Method::kIsotonic, s.p, s.y, {});
    if (!calibrator.ok()) {
      state.SkipWithError(calibrator.status().ToString().c_str());
      return;
    }
    (*calibrator)->ApplyAll(s.p, calibrated);
    benchmark::DoNotOptimize(calibrated.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.p.size()));
  if (const std::optional<std::filesystem::path> dir = DataDir()) {
    WriteDoubles(*dir / "tb_isotonic_1m.f64", calibrated);
  }
}
BENCHMARK(BM_IsotonicFitPredict)->Name("BM_IsotonicFitPredict/1M")->Unit(benchmark::kMillisecond);

// Platt on logit(p), 1M samples (scikit-learn: _sigmoid_calibration(logit(p), y)).
void BM_PlattFit(benchmark::State& state) {
  const Samples& s = OneMillion();
  if (MissingData(state, s)) return;
  if (std::unique_ptr<Calibrator> fitted = FitEachIteration(state, Method::kPlatt, s)) {
    WriteAnswer("platt_1m", fitted->Params());
  }
}
BENCHMARK(BM_PlattFit)->Name("BM_PlattFit/1M")->Unit(benchmark::kMillisecond);

// Binary temperature, 1M samples (scikit-learn has none; its stand-in is LogisticRegression
// (fit_intercept=False, penalty=None) on logit(p), whose coefficient is 1/T).
void BM_TemperatureFit(benchmark::State& state) {
  const Samples& s = OneMillion();
  if (MissingData(state, s)) return;
  if (std::unique_ptr<Calibrator> fitted = FitEachIteration(state, Method::kTemperature, s)) {
    WriteAnswer("temperature_1m", fitted->Params());
  }
}
BENCHMARK(BM_TemperatureFit)->Name("BM_TemperatureFit/1M")->Unit(benchmark::kMillisecond);

// Ten equal-width reliability bins and the ECE from them, 10M samples (scikit-learn:
// calibration_curve(y, p, n_bins=10), the bin counts, and the ECE from its output).
void BM_EceAndReliabilityBins(benchmark::State& state) {
  const Samples& s = TenMillion();
  if (MissingData(state, s)) return;
  std::vector<ReliabilityBin> bins;
  CalibrationSummary summary;
  for (auto _ : state) {
    Result<std::vector<ReliabilityBin>> reliability = ReliabilityBins(s.p, s.y, {}, 10);
    if (!reliability.ok()) {
      state.SkipWithError(reliability.status().ToString().c_str());
      return;
    }
    bins = std::move(reliability).value();
    summary = SummarizeBins(bins);
    benchmark::DoNotOptimize(summary);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.p.size()));
  nlohmann::json answer = {{"ece", summary.ece},
                           {"prob_true", nlohmann::json::array()},
                           {"prob_pred", nlohmann::json::array()},
                           {"counts", nlohmann::json::array()}};
  for (const ReliabilityBin& bin : bins) {
    answer["prob_true"].push_back(bin.hit_rate);
    answer["prob_pred"].push_back(bin.mean_p);
    answer["counts"].push_back(bin.count);
  }
  WriteAnswer("ece_10m", answer);
}
BENCHMARK(BM_EceAndReliabilityBins)
    ->Name("BM_EceAndReliabilityBins/10M")
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace truthbook::calibration
