#include "calibration/platt.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <span>
#include <tuple>
#include <vector>

#include "calibration/fit_support.h"
#include "calibration/scratch.h"

namespace truthbook::calibration {

namespace {

// The sample as the logistic fit takes it: zero weights dropped, each score with its target.
struct TargetedSample {
  std::span<const double> scores;              // f, or kept_scores
  internal::ScratchArray<double> kept_scores;  // f without its zero weights (weighted only)
  internal::ScratchArray<double> targets;      // t+ or t- for each score
  internal::ScratchArray<double> weights;      // empty: every weight is 1
  double positive_target = 1;                  // t+ for y > 0
  double negative_target = 0;                  // t- for y <= 0
  double positive_weight = 0;                  // N+
  double negative_weight = 0;                  // N-
  double min_score = 0;
  double max_score = 0;

  // One feature, f.
  internal::LogisticProblem Problem() const { return {1, {scores, {}}, targets, weights}; }
};

// The sample with Platt's targets: (N+ + 1)/(N+ + 2) and 1/(N- + 2) with the weighted counts
// N± (as scikit-learn's prior1 and prior0), or 1 and 0. Every sum is order-free, so nothing
// here depends on the order of the samples.
TargetedSample Targeted(std::span<const double> f, std::span<const double> y,
                        std::span<const double> w, bool smoothed_targets) {
  TargetedSample sample;
  sample.targets = internal::ScratchArray<double>(f.size());  // first the labels, 1 or 0
  internal::ScratchArray<double>& targets = sample.targets;
  if (w.empty()) {
    sample.scores = f;
    for (size_t i = 0; i < f.size(); ++i) targets[i] = y[i] > 0 ? 1 : 0;
  } else {
    sample.kept_scores = internal::ScratchArray<double>(f.size());
    sample.weights = internal::ScratchArray<double>(f.size());
    size_t n = 0;
    for (size_t i = 0; i < f.size(); ++i) {
      if (w[i] == 0) continue;
      sample.kept_scores[n] = f[i];
      targets[n] = y[i] > 0 ? 1 : 0;
      sample.weights[n++] = w[i];
    }
    sample.kept_scores.Truncate(n);
    targets.Truncate(n);
    sample.weights.Truncate(n);
    sample.scores = sample.kept_scores;
  }
  std::tie(sample.positive_weight, sample.negative_weight) =
      internal::LabelWeights(targets, sample.weights);
  if (smoothed_targets) {
    sample.positive_target = (sample.positive_weight + 1) / (sample.positive_weight + 2);
    sample.negative_target = 1 / (sample.negative_weight + 2);
  }
  for (double& t : targets) t = t > 0 ? sample.positive_target : sample.negative_target;
  std::tie(sample.min_score, sample.max_score) = internal::Range(sample.scores);
  return sample;
}

}  // namespace

double SigmoidProbability(const PlattParams& params, double f) {
  return internal::Sigmoid(-(params.a * f + params.b));
}

Result<PlattParams> FitSigmoid(std::span<const double> f, std::span<const double> y,
                               std::span<const double> w, bool smoothed_targets) {
  if (f.empty()) return InvalidArgument("f: must not be empty");
  RETURN_IF_ERROR(internal::CheckSameSize("y", y.size(), "f", f.size()));
  RETURN_IF_ERROR(internal::CheckFinite("f", f));
  RETURN_IF_ERROR(internal::CheckFinite("y", y));
  RETURN_IF_ERROR(internal::CheckWeights(w, "f", f.size()));
  const TargetedSample sample = Targeted(f, y, w, smoothed_targets);
  if (!smoothed_targets && !(sample.positive_weight > 0 && sample.negative_weight > 0)) {
    return InvalidArgument("y: plain maximum likelihood needs both outcomes with positive weight");
  }

  if (sample.min_score == sample.max_score) {
    // One distinct score: the slope is not identified. a = 0 and b puts P at the weighted mean
    // target, which is the optimum along b.
    const double target_weight = sample.positive_weight * sample.positive_target +
                                 sample.negative_weight * sample.negative_target;
    const double rest_weight = sample.positive_weight * (1 - sample.positive_target) +
                               sample.negative_weight * (1 - sample.negative_target);
    return PlattParams{0, std::log(rest_weight / target_weight)};
  }

  // Logistic regression of the targets on (f, 1): z = c0·f + c1 is the log-odds of y = 1, so
  // (a, b) = (-c0, -c1). The start is scikit-learn's (A, B) = (0, ln((N- + 1)/(N+ + 1))).
  const double start_b = std::log((sample.negative_weight + 1) / (sample.positive_weight + 1));
  const internal::LogisticCoefficients coef =
      internal::FitLogistic(sample.Problem(), {0, -start_b, 0});
  return PlattParams{-coef[0], -coef[1]};
}

double SigmoidLoss(std::span<const double> f, std::span<const double> y, std::span<const double> w,
                   const PlattParams& params, bool smoothed_targets) {
  // z = a·f + b is the log-odds of y = 0: the logistic loss at (-a, -b).
  return internal::LogisticLoss(Targeted(f, y, w, smoothed_targets).Problem(),
                                {-params.a, -params.b, 0});
}

Result<std::unique_ptr<PlattCalibrator>> PlattCalibrator::Fit(std::span<const double> p,
                                                              std::span<const double> y,
                                                              std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  internal::ScratchArray<double> f(p.size());
  internal::ClippedLogits(p, f);
  ASSIGN_OR_RETURN(const PlattParams params, FitSigmoid(f, y, w));
  return std::make_unique<PlattCalibrator>(Key(), params);
}

Result<std::unique_ptr<PlattCalibrator>> PlattCalibrator::FromParams(const nlohmann::json& params) {
  RETURN_IF_ERROR(internal::CheckParamKeys(params, {"a", "b"}));
  ASSIGN_OR_RETURN(const double a, internal::ParamNumber(params, "a"));
  ASSIGN_OR_RETURN(const double b, internal::ParamNumber(params, "b"));
  return std::make_unique<PlattCalibrator>(Key(), PlattParams{a, b});
}

double PlattCalibrator::Apply(double p) const {
  return SigmoidProbability(params_, ClippedLogit(p));
}

nlohmann::json PlattCalibrator::Params() const {
  return nlohmann::json{{"a", params_.a}, {"b", params_.b}};
}

}  // namespace truthbook::calibration
