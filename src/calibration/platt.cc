#include "calibration/platt.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "calibration/fit_support.h"

namespace truthbook::calibration {

namespace {

// The sorted sample with each point's target.
struct TargetedSample {
  std::vector<internal::WeightedPoint> points;  // sorted by (f, y, w); zero weights dropped
  double positive_target = 1;                   // t+ for y > 0
  double negative_target = 0;                   // t- for y <= 0
  double positive_weight = 0;                   // N+
  double negative_weight = 0;                   // N-

  double Target(const internal::WeightedPoint& point) const {
    return point.y > 0 ? positive_target : negative_target;
  }
};

// The sample with Platt's targets: (N+ + 1)/(N+ + 2) and 1/(N- + 2) with the weighted counts
// N± (as scikit-learn's prior1 and prior0), or 1 and 0.
TargetedSample Targeted(std::span<const double> f, std::span<const double> y,
                        std::span<const double> w, bool smoothed_targets) {
  TargetedSample sample;
  sample.points = internal::SortedPoints(f, y, w);
  for (const internal::WeightedPoint& point : sample.points) {
    (point.y > 0 ? sample.positive_weight : sample.negative_weight) += point.w;
  }
  if (smoothed_targets) {
    sample.positive_target = (sample.positive_weight + 1) / (sample.positive_weight + 2);
    sample.negative_target = 1 / (sample.negative_weight + 2);
  }
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

  if (sample.points.front().x == sample.points.back().x) {
    // One distinct score: the slope is not identified. a = 0 and b puts P at the weighted mean
    // target, which is the optimum along b.
    double target_weight = 0;
    double rest_weight = 0;
    for (const internal::WeightedPoint& point : sample.points) {
      const double t = sample.Target(point);
      target_weight += point.w * t;
      rest_weight += point.w * (1 - t);
    }
    return PlattParams{0, std::log(rest_weight / target_weight)};
  }

  // Logistic regression of the targets on (f, 1): z = c0·f + c1 is the log-odds of y = 1, so
  // (a, b) = (-c0, -c1). The start is scikit-learn's (A, B) = (0, ln((N- + 1)/(N+ + 1))).
  internal::LogisticProblem problem;
  problem.num_features = 1;
  problem.features.reserve(sample.points.size());
  problem.targets.reserve(sample.points.size());
  problem.weights.reserve(sample.points.size());
  for (const internal::WeightedPoint& point : sample.points) {
    problem.features.push_back(point.x);
    problem.targets.push_back(sample.Target(point));
    problem.weights.push_back(point.w);
  }
  const double start_b = std::log((sample.negative_weight + 1) / (sample.positive_weight + 1));
  const internal::LogisticCoefficients coef = internal::FitLogistic(problem, {0, -start_b, 0});
  return PlattParams{-coef[0], -coef[1]};
}

double SigmoidLoss(std::span<const double> f, std::span<const double> y, std::span<const double> w,
                   const PlattParams& params, bool smoothed_targets) {
  const TargetedSample sample = Targeted(f, y, w, smoothed_targets);
  double loss = 0;
  for (const internal::WeightedPoint& point : sample.points) {
    const double z = params.a * point.x + params.b;  // ln((1 - P)/P)
    const double t = sample.Target(point);
    loss += point.w * (t * internal::Softplus(z) + (1 - t) * internal::Softplus(-z));
  }
  return loss;
}

Result<std::unique_ptr<PlattCalibrator>> PlattCalibrator::Fit(std::span<const double> p,
                                                              std::span<const double> y,
                                                              std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  std::vector<double> f(p.size());
  for (size_t i = 0; i < p.size(); ++i) f[i] = ClippedLogit(p[i]);
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
