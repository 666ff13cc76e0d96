#include "grading/clv.h"

#include <fmt/format.h>

namespace truthbook::grading {

ClosingLineValue ComputeClv(double taken_decimal, std::optional<double> taken_line,
                            const ClosingQuote& close) {
  ClosingLineValue clv;
  clv.fair = taken_decimal * close.fair_prob - 1;
  clv.prob_pts = close.fair_prob - 1 / taken_decimal;
  if (taken_line == close.line) {
    clv.price = taken_decimal / close.decimal - 1;
  } else {
    clv.note = fmt::format("line moved from {} to {}: clv_price compares prices on one line only",
                           taken_line ? fmt::format("{:g}", *taken_line) : "none",
                           close.line ? fmt::format("{:g}", *close.line) : "none");
  }
  return clv;
}

}  // namespace truthbook::grading
