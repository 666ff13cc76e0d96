// Differential tests of metrics.h against scikit-learn (Debian's python3-sklearn 1.2.1) on
// random data of several sizes and seeds: reliability bins equal to calibration_curve's to the
// bit, ECE equal to the one computed from its bins, Brier and log loss within 1e-12. Skipped
// when no python3 on the machine imports sklearn. The samples reach Python as raw float64
// files, so both sides read the same bits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "calibration/metrics.h"

namespace truthbook::calibration {
namespace {

using Vec = std::vector<double>;

constexpr double kScoreTolerance = 1e-12;

// Prints the answers of scikit-learn (and numpy, for the bin counts that ECE needs) as JSON.
constexpr const char* kScript = R"PY(
import json, sys
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

folder = sys.argv[1]
p = np.fromfile(folder + "/p.bin")
y = np.fromfile(folder + "/y.bin")
w = np.fromfile(folder + "/w.bin")
out = {}
for strategy in ("uniform", "quantile"):
    for bins in (10, 7, 1):
        prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy=strategy)
        if strategy == "uniform":
            edges = np.linspace(0.0, 1.0, bins + 1)
        else:
            edges = np.percentile(p, np.linspace(0, 1, bins + 1) * 100)
        counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=bins)
        counts = counts[counts != 0]
        ece = float(np.sum(counts / len(p) * np.abs(prob_true - prob_pred)))
        out["%s%d" % (strategy, bins)] = {"prob_true": prob_true.tolist(),
                                          "prob_pred": prob_pred.tolist(),
                                          "counts": counts.tolist(), "ece": ece}
out["brier"] = brier_score_loss(y, p)
out["brier_weighted"] = brier_score_loss(y, p, sample_weight=w)
out["log_loss"] = log_loss(y, p)
out["log_loss_weighted"] = log_loss(y, p, sample_weight=w)
print(json.dumps(out))
)PY";

class MetricsSklearnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = FindPython();
    if (!python_) GTEST_SKIP() << "no python3 with scikit-learn (Debian: python3-sklearn)";
    folder_ = std::filesystem::temp_directory_path() /
              ("truthbook_metrics_sklearn_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    std::ofstream(folder_ / "script.py") << kScript;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!folder_.empty()) std::filesystem::remove_all(folder_, ignored);
  }

  // The first python3 that imports sklearn: Debian's, then the one on PATH.
  static std::optional<std::string> FindPython() {
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
      const std::string command = std::string(candidate) + " -c 'import sklearn' >/dev/null 2>&1";
      if (std::system(command.c_str()) == 0) return std::string(candidate);
    }
    return std::nullopt;
  }

  static void WriteDoubles(const std::filesystem::path& path, const Vec& values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(double)));
  }

  // scikit-learn's answers for (p, y, w), or a test failure.
  nlohmann::json Sklearn(const Vec& p, const Vec& y, const Vec& w) const {
    WriteDoubles(folder_ / "p.bin", p);
    WriteDoubles(folder_ / "y.bin", y);
    WriteDoubles(folder_ / "w.bin", w);
    const std::string command =
        *python_ + " " + (folder_ / "script.py").string() + " " + folder_.string();
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << command;
      return {};
    }
    std::string output;
    char buffer[4096];
    size_t read = 0;
    while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, read);
    const int status = pclose(pipe);
    EXPECT_EQ(status, 0) << command;
    nlohmann::json json = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << output;
    return json;
  }

  // Forecasts with ties and exact bin edges mixed in, outcomes drawn from a distortion of them,
  // and weights.
  static void RandomSample(size_t n, uint64_t seed, Vec& p, Vec& y, Vec& w) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    p.clear();
    y.clear();
    w.clear();
    for (size_t i = 0; i < n; ++i) {
      double v = unit(rng);
      const double kind = unit(rng);
      if (kind < 0.05) v = std::round(v * 10) / 10;  // on a 10-bin edge
      if (kind > 0.97) v = std::round(v * 7) / 7;    // near a 7-bin edge
      p.push_back(v);
      y.push_back(unit(rng) < std::pow(v, 1.3) ? 1 : 0);
      w.push_back(3 * unit(rng));
    }
  }

  std::optional<std::string> python_;
  std::filesystem::path folder_;
};

TEST_F(MetricsSklearnTest, BinsEceBrierAndLogLossMatchScikitLearn) {
  for (const auto& [n, seed] :
       std::vector<std::pair<size_t, uint64_t>>{{50, 1}, {1'000, 2}, {1'000, 3}, {100'003, 4}}) {
    SCOPED_TRACE("n " + std::to_string(n) + " seed " + std::to_string(seed));
    Vec p;
    Vec y;
    Vec w;
    RandomSample(n, seed, p, y, w);
    const nlohmann::json theirs = Sklearn(p, y, w);
    ASSERT_TRUE(theirs.is_object());
    for (const BinStrategy strategy : {BinStrategy::kUniform, BinStrategy::kQuantile}) {
      for (int bins : {10, 7, 1}) {
        const std::string key =
            (strategy == BinStrategy::kUniform ? "uniform" : "quantile") + std::to_string(bins);
        SCOPED_TRACE(key);
        Result<std::vector<ReliabilityBin>> ours = ReliabilityBins(p, y, {}, bins, strategy);
        ASSERT_TRUE(ours.ok()) << ours.status().ToString();
        const nlohmann::json& curve = theirs.at(key);
        ASSERT_EQ(ours->size(), curve.at("prob_true").size());
        for (size_t b = 0; b < ours->size(); ++b) {
          EXPECT_EQ((*ours)[b].hit_rate, curve.at("prob_true")[b].get<double>()) << "bin " << b;
          EXPECT_EQ((*ours)[b].mean_p, curve.at("prob_pred")[b].get<double>()) << "bin " << b;
          EXPECT_EQ((*ours)[b].count, curve.at("counts")[b].get<int64_t>()) << "bin " << b;
        }
        EXPECT_NEAR(SummarizeBins(*ours).ece, curve.at("ece").get<double>(), kScoreTolerance);
      }
    }
    const auto ok = [](const Result<double>& r) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? *r : std::nan("");
    };
    EXPECT_NEAR(ok(BrierScore(p, y, {})), theirs.at("brier").get<double>(), kScoreTolerance);
    EXPECT_NEAR(ok(BrierScore(p, y, w)), theirs.at("brier_weighted").get<double>(),
                kScoreTolerance);
    EXPECT_NEAR(ok(LogLoss(p, y, {})), theirs.at("log_loss").get<double>(), kScoreTolerance);
    EXPECT_NEAR(ok(LogLoss(p, y, w)), theirs.at("log_loss_weighted").get<double>(),
                kScoreTolerance);
  }
}

}  // namespace
}  // namespace truthbook::calibration
