// Closing line value: how the price taken compares with the market's last price before the
// start (DESIGN §3 "Grading"; docs/GRADING.md). Pure; safe from any thread.
#pragma once

#include <optional>
#include <string>

namespace truthbook::grading {

// The picked selection's quote in the closing snapshot.
struct ClosingQuote {
  double decimal = 2.0;        // > 1
  std::optional<double> line;  // the closing line, for markets with one
  double fair_prob = 0.5;      // de-vigged closing probability p*, in (0, 1)
};

struct ClosingLineValue {
  std::optional<double> price;      // d_taken / d_close - 1; null when the lines differ
  double fair = 0;                  // d_taken * p*_close - 1
  double prob_pts = 0;              // p*_close - 1 / d_taken
  std::optional<std::string> note;  // why `price` is null ("line moved from -3.5 to -4.5")
  friend bool operator==(const ClosingLineValue&, const ClosingLineValue&) = default;
};

// The CLV of a price taken at `taken_decimal` (on `taken_line`) against `close`.
// REQUIRES: taken_decimal > 1, close.decimal > 1, 0 < close.fair_prob < 1.
ClosingLineValue ComputeClv(double taken_decimal, std::optional<double> taken_line,
                            const ClosingQuote& close);

}  // namespace truthbook::grading
