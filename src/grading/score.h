// Proper scores of one probability forecast: Brier and log loss, binary and multi-class
// (DESIGN §3 "Grading"). Pure; safe from any thread.
#pragma once

#include <span>

#include "base/status.h"

namespace truthbook::grading {

// (p - y)^2. REQUIRES: 0 <= p <= 1, y in [0, 1].
double Brier(double p, double y);

// -(y ln p + (1 - y) ln(1 - p)), with p clipped to [1e-15, 1 - 1e-15] so that a certain
// forecast that missed costs about 34.5 rather than infinity.
// REQUIRES: 0 <= p <= 1, y in [0, 1].
double LogLoss(double p, double y);

// The multi-class Brier score of rows of class probabilities (row-major, `classes` per row)
// against the observed class of each row: mean over rows of sum_k (p_k - [k == y])^2, so it
// ranges over [0, 2].
// Failure: InvalidArgument "probabilities: ..." when the sizes disagree, or "outcomes[i]: ..."
// for a class out of range.
Result<double> MulticlassBrier(std::span<const double> probabilities, std::span<const int> outcomes,
                               int classes);

}  // namespace truthbook::grading
