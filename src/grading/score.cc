#include "grading/score.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace truthbook::grading {

double Brier(double p, double y) { return (p - y) * (p - y); }

double LogLoss(double p, double y) {
  constexpr double kEps = 1e-15;
  const double q = std::clamp(p, kEps, 1 - kEps);
  return -(y * std::log(q) + (1 - y) * std::log1p(-q));
}

Result<double> MulticlassBrier(std::span<const double> probabilities, std::span<const int> outcomes,
                               int classes) {
  if (classes < 2 || outcomes.empty() ||
      probabilities.size() != outcomes.size() * static_cast<size_t>(classes)) {
    return InvalidArgument("probabilities: need one row of " + std::to_string(classes) +
                           " per outcome");
  }
  double sum = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i] < 0 || outcomes[i] >= classes) {
      return InvalidArgument("outcomes[" + std::to_string(i) + "]: must be a class in [0, " +
                             std::to_string(classes) + ")");
    }
    for (int k = 0; k < classes; ++k) {
      sum += Brier(probabilities[i * classes + k], k == outcomes[i] ? 1 : 0);
    }
  }
  return sum / static_cast<double>(outcomes.size());
}

}  // namespace truthbook::grading
