#include "calibration/beta.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "calibration/fit_support.h"
#include "calibration/scratch.h"

namespace truthbook::calibration {

namespace {

double ClippedProbability(double p) {
  return std::clamp(p, kProbabilityClip, 1 - kProbabilityClip);
}

// The sample's two features per point of positive weight: ln p and -ln(1 - p) for the
// clipped p.
struct BetaSample {
  internal::ScratchArray<double> log_p;
  internal::ScratchArray<double> minus_log_q;  // -ln(1 - p)
  internal::ScratchArray<double> outcomes;
  internal::ScratchArray<double> weights;  // empty: every weight is 1
};

// Logistic regression of y on the chosen features. Returns the coefficients of the chosen
// features, in order, then the intercept.
internal::LogisticCoefficients FitOn(const BetaSample& sample, bool use_log_p,
                                     bool use_minus_log_q) {
  internal::LogisticProblem problem;
  if (use_log_p) problem.features[problem.num_features++] = sample.log_p;
  if (use_minus_log_q) problem.features[problem.num_features++] = sample.minus_log_q;
  problem.targets = sample.outcomes;
  problem.weights = sample.weights;
  // Start at the identity map: coefficient 1 on each feature, intercept 0.
  internal::LogisticCoefficients start{};
  for (size_t j = 0; j < problem.num_features; ++j) start[j] = 1;
  return internal::FitLogistic(problem, start);
}

}  // namespace

double BetaProbability(const BetaParams& params, double p) {
  if (std::isnan(p)) return p;  // the constant map would hide it
  const double q = ClippedProbability(p);
  double z = params.c;
  if (params.a != 0) z += params.a * std::log(q);
  if (params.b != 0) z -= params.b * std::log1p(-q);
  return internal::Sigmoid(z);
}

Result<BetaParams> FitBeta(std::span<const double> p, std::span<const double> y,
                           std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  // Both features of every sample of positive weight, in input order: the fit's sums do not
  // depend on the order.
  BetaSample sample;
  sample.log_p = internal::ScratchArray<double>(p.size());
  sample.minus_log_q = internal::ScratchArray<double>(p.size());
  sample.outcomes = internal::ScratchArray<double>(p.size());
  if (!w.empty()) sample.weights = internal::ScratchArray<double>(p.size());
  double min_p = 1;
  double max_p = 0;
  size_t n = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!w.empty()) {
      if (w[i] == 0) continue;
      sample.weights[n] = w[i];
    }
    const double q = ClippedProbability(p[i]);
    sample.log_p[n] = std::log(q);
    sample.minus_log_q[n] = -std::log1p(-q);
    sample.outcomes[n++] = y[i];
    min_p = std::min(min_p, p[i]);
    max_p = std::max(max_p, p[i]);
  }
  sample.log_p.Truncate(n);
  sample.minus_log_q.Truncate(n);
  sample.outcomes.Truncate(n);
  if (!w.empty()) sample.weights.Truncate(n);
  const auto [positive_weight, negative_weight] =
      internal::LabelWeights(sample.outcomes, sample.weights);
  if (!(positive_weight > 0 && negative_weight > 0)) {
    return InvalidArgument("y: beta calibration needs both outcomes with positive weight");
  }
  // The constant map at the weighted base rate: the best one without features.
  const BetaParams constant{0, 0, std::log(positive_weight / negative_weight)};
  if (min_p == max_p) return constant;

  const internal::LogisticCoefficients full = FitOn(sample, true, true);
  if (full[0] < 0) {
    const internal::LogisticCoefficients refit = FitOn(sample, false, true);
    if (refit[0] < 0) return constant;
    return BetaParams{0, refit[0], refit[1]};
  }
  if (full[1] < 0) {
    const internal::LogisticCoefficients refit = FitOn(sample, true, false);
    if (refit[0] < 0) return constant;
    return BetaParams{refit[0], 0, refit[1]};
  }
  return BetaParams{full[0], full[1], full[2]};
}

Result<std::unique_ptr<BetaCalibrator>> BetaCalibrator::Fit(std::span<const double> p,
                                                            std::span<const double> y,
                                                            std::span<const double> w) {
  ASSIGN_OR_RETURN(const BetaParams params, FitBeta(p, y, w));
  return std::make_unique<BetaCalibrator>(Key(), params);
}

Result<std::unique_ptr<BetaCalibrator>> BetaCalibrator::FromParams(const nlohmann::json& params) {
  RETURN_IF_ERROR(internal::CheckParamKeys(params, {"a", "b", "c"}));
  ASSIGN_OR_RETURN(const double a, internal::ParamNumber(params, "a"));
  ASSIGN_OR_RETURN(const double b, internal::ParamNumber(params, "b"));
  ASSIGN_OR_RETURN(const double c, internal::ParamNumber(params, "c"));
  if (!(a >= 0)) return InvalidArgument("params.a: must be >= 0");
  if (!(b >= 0)) return InvalidArgument("params.b: must be >= 0");
  return std::make_unique<BetaCalibrator>(Key(), BetaParams{a, b, c});
}

double BetaCalibrator::Apply(double p) const { return BetaProbability(params_, p); }

nlohmann::json BetaCalibrator::Params() const {
  return nlohmann::json{{"a", params_.a}, {"b", params_.b}, {"c", params_.c}};
}

}  // namespace truthbook::calibration
