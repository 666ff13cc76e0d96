// The grading module against the known answers in ../shared/reference/: settlement.json
// (profit, units, Asian handicap and totals returns, parlay prices, Brier and log loss) and the
// "clv" examples of odds.json. Every test iterates its section of the file, so a vector added
// there is checked without a change here; a key the tests do not know fails rather than being
// skipped.
#include "reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "grading/clv.h"
#include "grading/outcome.h"
#include "grading/score.h"
#include "grading/settle.h"
#include "odds/devig.h"
#include "odds/price.h"

namespace truthbook::grading {
namespace {

// The figures in both files are printed to 10 decimal places (clv_fair to 9): the rounding
// error is at most 5e-10.
constexpr double kPrintedTolerance = 1e-9;
// penaltyblog's multi-class Brier example is printed to 7 decimal places (0.2066667).
constexpr double kPenaltyblogTolerance = 1e-6;
// The price the Asian handicap and totals return tables are computed at (their key names it).
constexpr double kAsianDecimal = 1.90;
// The formulas are exact: Profit and ParlayLegFactor must match them up to rounding.
constexpr double kFormulaTolerance = 1e-12;
// The prices at which the "d" formulas of profit_per_unit and parlay_leg_factors are checked.
constexpr double kFormulaDecimals[] = {1.01, 1.5, 1 + 100.0 / 110, 1.9, 2.0, 3.75, 101.0};

// Evaluates one of the formulas settlement.json writes for profit and leg factors ("d-1",
// "(d+1)/2", "-1/2"): numbers, the price d, + - * /, unary minus and parentheses.
class Formula {
 public:
  // The value of `text` at price `d`; nullopt when `text` is not such a formula.
  static std::optional<double> Evaluate(std::string_view text, double d) {
    Formula f(text, d);
    std::optional<double> value = f.Sum();
    f.SkipSpaces();
    if (!value || f.pos_ != text.size()) return std::nullopt;
    return value;
  }

 private:
  Formula(std::string_view text, double d) : text_(text), d_(d) {}

  void SkipSpaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  bool Take(char c) {
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::optional<double> Sum() {
    std::optional<double> value = Product();
    while (value) {
      if (Take('+')) {
        std::optional<double> rhs = Product();
        value = rhs ? std::optional(*value + *rhs) : std::nullopt;
      } else if (Take('-')) {
        std::optional<double> rhs = Product();
        value = rhs ? std::optional(*value - *rhs) : std::nullopt;
      } else {
        break;
      }
    }
    return value;
  }

  std::optional<double> Product() {
    std::optional<double> value = Factor();
    while (value) {
      if (Take('*')) {
        std::optional<double> rhs = Factor();
        value = rhs ? std::optional(*value * *rhs) : std::nullopt;
      } else if (Take('/')) {
        std::optional<double> rhs = Factor();
        value = rhs ? std::optional(*value / *rhs) : std::nullopt;
      } else {
        break;
      }
    }
    return value;
  }

  std::optional<double> Factor() {
    if (Take('-')) {
      std::optional<double> value = Factor();
      return value ? std::optional(-*value) : std::nullopt;
    }
    if (Take('(')) {
      std::optional<double> value = Sum();
      return value && Take(')') ? value : std::nullopt;
    }
    if (Take('d')) return d_;
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return std::stod(std::string(text_.substr(start, pos_ - start)));
  }

  std::string_view text_;
  double d_;
  size_t pos_ = 0;
};

class GradingReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LOAD_REFERENCE_OR_SKIP(settlement_, "settlement.json");
    LOAD_REFERENCE_OR_SKIP(odds_, "odds.json");
  }

  // The outcome named in `name`, or a test failure.
  static Outcome OutcomeNamed(const nlohmann::json& name) {
    Result<Outcome> outcome = ParseOutcome(name.get<std::string>());
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? *outcome : Outcome::kVoid;
  }

  // The decimal price of American odds, or a test failure.
  static double FromAmerican(const nlohmann::json& american) {
    Result<double> decimal = odds::AmericanToDecimal(american.get<double>());
    EXPECT_TRUE(decimal.ok()) << american << ": " << decimal.status().ToString();
    return decimal.ok() ? *decimal : 2.0;
  }

  // The decimal price of Hong Kong odds (d = 1 + hk), or a test failure.
  static double FromHongKong(const nlohmann::json& hk) {
    Result<double> decimal = odds::HongKongToDecimal(hk.get<double>());
    EXPECT_TRUE(decimal.ok()) << hk << ": " << decimal.status().ToString();
    return decimal.ok() ? *decimal : 2.0;
  }

  // Checks that `formulas` maps every outcome to a formula in d whose value at each of
  // kFormulaDecimals is `actual(outcome, d)`. Returns the number of outcomes checked.
  static int ExpectFormulas(const nlohmann::json& formulas, double (*actual)(Outcome, double)) {
    std::set<std::string> seen;
    for (const auto& [name, formula] : formulas.items()) {
      SCOPED_TRACE(name + " = " + formula.get<std::string>());
      const Outcome outcome = OutcomeNamed(name);
      seen.insert(name);
      for (double d : kFormulaDecimals) {
        std::optional<double> expected = Formula::Evaluate(formula.get<std::string>(), d);
        if (!expected) {
          ADD_FAILURE() << "not a formula in d that this test can evaluate";
          break;
        }
        EXPECT_NEAR(actual(outcome, d), *expected, kFormulaTolerance) << "at d = " << d;
      }
    }
    for (Outcome outcome : kOutcomes) {
      EXPECT_TRUE(seen.contains(std::string(OutcomeName(outcome))))
          << "the reference has no formula for " << OutcomeName(outcome);
    }
    return static_cast<int>(seen.size());
  }

  nlohmann::json settlement_;
  nlohmann::json odds_;
};

// Every section of settlement.json has a test below; a new section fails here until one is
// written.
TEST_F(GradingReferenceTest, EverySectionOfSettlementJsonIsChecked) {
  const std::set<std::string> checked = {"profit_per_unit",
                                         "units_1u_risked",
                                         "asian_handicap_returns_d1_90",
                                         "asian_totals_returns_d1_90",
                                         "parlay_leg_factors",
                                         "parlays",
                                         "scores"};
  const std::set<std::string> metadata = {"source", "returns_note"};
  for (const auto& [key, value] : settlement_.items()) {
    EXPECT_TRUE(checked.contains(key) || metadata.contains(key))
        << "settlement.json has a section \"" << key << "\" that no test checks";
  }
}

TEST_F(GradingReferenceTest, ProfitPerUnitOfEveryOutcome) {
  const int checked = ExpectFormulas(settlement_.at("profit_per_unit"),
                                     [](Outcome o, double d) { return Profit(o, d, 1); });
  EXPECT_GT(checked, 0);
}

TEST_F(GradingReferenceTest, ParlayLegFactorOfEveryOutcome) {
  const int checked = ExpectFormulas(settlement_.at("parlay_leg_factors"), ParlayLegFactor);
  EXPECT_GT(checked, 0);
}

// [american, outcome, units won or lost at 1 unit risked]
TEST_F(GradingReferenceTest, UnitsAtOneUnitRisked) {
  int checked = 0;
  for (const nlohmann::json& v : settlement_.at("units_1u_risked")) {
    SCOPED_TRACE(v.dump());
    ASSERT_EQ(v.size(), 3u);
    const double decimal = FromAmerican(v[0]);
    const double stake = Stake(StakeConvention::kRisk, 1, decimal);
    EXPECT_NEAR(Profit(OutcomeNamed(v[1]), decimal, stake), v[2].get<double>(), kPrintedTolerance);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// Keyed by line ("-0.25", "+0.75"); each lists the return per unit at each goal margin of the
// picked side.
TEST_F(GradingReferenceTest, AsianHandicapReturnsAtEveryMargin) {
  const nlohmann::json& table = settlement_.at("asian_handicap_returns_d1_90");
  const std::vector<int> margins = table.at("goal_margin_for_picked_side").get<std::vector<int>>();
  ASSERT_FALSE(margins.empty());
  int checked = 0;
  for (const auto& [key, returns] : table.items()) {
    if (key == "goal_margin_for_picked_side") continue;
    SCOPED_TRACE("line " + key);
    const double line = std::stod(key);
    ASSERT_EQ(returns.size(), margins.size());
    for (size_t i = 0; i < margins.size(); ++i) {
      SCOPED_TRACE("margin " + std::to_string(margins[i]));
      const double expected = returns[i].get<double>();
      EXPECT_NEAR(1 + Profit(SettleHandicap(margins[i], line), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      // The same bet as a spread leg, on either side of the matching score.
      const Leg home{Market::kSpread, Side::kHome, line};
      const Leg away{Market::kSpread, Side::kAway, line};
      ASSERT_TRUE(ValidateLeg(home).ok()) << ValidateLeg(home).ToString();
      const double picked = std::max(0, margins[i]) + 1;
      const double other = picked - margins[i];
      EXPECT_NEAR(1 + Profit(SettleOnScore(home, picked, other), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      EXPECT_NEAR(1 + Profit(SettleOnScore(away, other, picked), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// Keyed by "over 2.25" / "under 2.75"; each lists the return per unit at each total.
TEST_F(GradingReferenceTest, AsianTotalsReturnsAtEveryTotal) {
  const nlohmann::json& table = settlement_.at("asian_totals_returns_d1_90");
  const std::vector<int> totals = table.at("total_goals").get<std::vector<int>>();
  ASSERT_FALSE(totals.empty());
  int checked = 0;
  for (const auto& [key, returns] : table.items()) {
    if (key == "total_goals") continue;
    SCOPED_TRACE(key);
    const size_t space = key.find(' ');
    ASSERT_NE(space, std::string::npos) << "expected \"<side> <line>\"";
    Result<Side> side = ParseSide(key.substr(0, space));
    ASSERT_TRUE(side.ok()) << side.status().ToString();
    const double line = std::stod(key.substr(space + 1));
    const Leg total{Market::kTotal, *side, line};
    ASSERT_TRUE(ValidateLeg(total).ok()) << ValidateLeg(total).ToString();
    // The same line as a team total settles on that team's goals alone.
    Result<Side> home_side = ParseSide("home_" + key.substr(0, space));
    Result<Side> away_side = ParseSide("away_" + key.substr(0, space));
    ASSERT_TRUE(home_side.ok() && away_side.ok());
    const Leg home_total{Market::kTeamTotal, *home_side, line};
    const Leg away_total{Market::kTeamTotal, *away_side, line};
    ASSERT_EQ(returns.size(), totals.size());
    for (size_t i = 0; i < totals.size(); ++i) {
      SCOPED_TRACE("total " + std::to_string(totals[i]));
      const double expected = returns[i].get<double>();
      const int goals = totals[i];
      EXPECT_NEAR(1 + Profit(SettleOnScore(total, goals, 0), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      EXPECT_NEAR(1 + Profit(SettleOnScore(total, goals / 2, goals - goals / 2), kAsianDecimal, 1),
                  expected, kPrintedTolerance);
      EXPECT_NEAR(1 + Profit(SettleOnScore(home_total, goals, 7), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      EXPECT_NEAR(1 + Profit(SettleOnScore(away_total, 7, goals), kAsianDecimal, 1), expected,
                  kPrintedTolerance);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// Each parlay gives its legs as [outcome, decimal] pairs, or as prices ("legs_american",
// "legs_hk") with one outcome for "all" or one per leg in "outcomes"; and its answer as the
// return per unit ("decimal" or "return_per_unit") or as the "return" of a "stake".
TEST_F(GradingReferenceTest, EveryParlayPrice) {
  const std::set<std::string> known = {"legs",    "legs_american",   "legs_hk", "all",   "outcomes",
                                       "decimal", "return_per_unit", "return",  "stake", "from"};
  int checked = 0;
  for (const nlohmann::json& v : settlement_.at("parlays")) {
    SCOPED_TRACE(v.dump());
    for (const auto& [key, value] : v.items()) {
      EXPECT_TRUE(known.contains(key)) << "unknown key \"" << key << "\"";
    }
    std::vector<SettledLeg> legs;
    if (v.contains("legs")) {
      for (const nlohmann::json& leg : v.at("legs")) {
        legs.push_back({OutcomeNamed(leg.at(0)), leg.at(1).get<double>()});
      }
    } else {
      std::vector<double> decimals;
      if (v.contains("legs_american")) {
        for (const nlohmann::json& a : v.at("legs_american")) decimals.push_back(FromAmerican(a));
      } else if (v.contains("legs_hk")) {
        for (const nlohmann::json& hk : v.at("legs_hk")) decimals.push_back(FromHongKong(hk));
      }
      ASSERT_FALSE(decimals.empty()) << "no legs";
      if (!v.contains("all")) {
        ASSERT_EQ(v.at("outcomes").size(), decimals.size()) << "one outcome per leg";
      }
      for (size_t i = 0; i < decimals.size(); ++i) {
        const nlohmann::json& name = v.contains("all") ? v.at("all") : v.at("outcomes").at(i);
        legs.push_back({OutcomeNamed(name), decimals[i]});
      }
    }
    Result<ParlaySettlement> parlay = SettleParlay(legs);
    ASSERT_TRUE(parlay.ok()) << parlay.status().ToString();
    int answers = 0;
    for (const char* key : {"decimal", "return_per_unit"}) {
      if (!v.contains(key)) continue;
      EXPECT_NEAR(parlay->decimal, v.at(key).get<double>(), kPrintedTolerance) << key;
      ++answers;
    }
    if (v.contains("return")) {
      const double stake = v.at("stake").get<double>();
      EXPECT_NEAR(stake * parlay->decimal, v.at("return").get<double>(), kPrintedTolerance);
      // The profit of the stake is the return less the stake, whatever the parlay's label.
      EXPECT_NEAR(stake * (parlay->decimal - 1), v.at("return").get<double>() - stake,
                  kPrintedTolerance);
      ++answers;
    }
    EXPECT_GT(answers, 0) << "the vector gives no return to check";
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// Every section of "scores" has a check below.
TEST_F(GradingReferenceTest, EveryScoreSectionIsChecked) {
  const std::set<std::string> checked = {"brier_binary", "log_loss",
                                         "brier_multiclass_penaltyblog"};
  for (const auto& [key, value] : settlement_.at("scores").items()) {
    EXPECT_TRUE(checked.contains(key)) << "scores has a section \"" << key << "\" no test checks";
  }
}

// [p, y, score]
TEST_F(GradingReferenceTest, BinaryBrier) {
  int checked = 0;
  for (const nlohmann::json& v : settlement_.at("scores").at("brier_binary")) {
    SCOPED_TRACE(v.dump());
    ASSERT_EQ(v.size(), 3u);
    EXPECT_NEAR(Brier(v[0].get<double>(), v[1].get<double>()), v[2].get<double>(),
                kPrintedTolerance);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// [p, y, score]
TEST_F(GradingReferenceTest, BinaryLogLoss) {
  int checked = 0;
  for (const nlohmann::json& v : settlement_.at("scores").at("log_loss")) {
    SCOPED_TRACE(v.dump());
    ASSERT_EQ(v.size(), 3u);
    EXPECT_NEAR(LogLoss(v[0].get<double>(), v[1].get<double>()), v[2].get<double>(),
                kPrintedTolerance);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// {"p": rows of class probabilities, "y": the observed class of each row, "score"}
TEST_F(GradingReferenceTest, MulticlassBrierMatchesPenaltyblog) {
  int checked = 0;
  for (const nlohmann::json& v : settlement_.at("scores").at("brier_multiclass_penaltyblog")) {
    SCOPED_TRACE(v.dump());
    const nlohmann::json& rows = v.at("p");
    ASSERT_FALSE(rows.empty());
    const size_t classes = rows.at(0).size();
    std::vector<double> probabilities;
    for (const nlohmann::json& row : rows) {
      ASSERT_EQ(row.size(), classes);
      for (const nlohmann::json& p : row) probabilities.push_back(p.get<double>());
    }
    const std::vector<int> outcomes = v.at("y").get<std::vector<int>>();
    Result<double> score = MulticlassBrier(probabilities, outcomes, static_cast<int>(classes));
    ASSERT_TRUE(score.ok()) << score.status().ToString();
    EXPECT_NEAR(*score, v.at("score").get<double>(), kPenaltyblogTolerance);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// odds.json's CLV examples. The price taken is "taken_american" or "taken_decimal"; the close
// is "close_decimal", a single "close_american" (then p* is the close price's own implied
// probability 1/d_close, as the example computes prob_pts), or a "close_american" market
// whose first price is the side taken (then p* is its multiplicative de-vig).
TEST_F(GradingReferenceTest, ClosingLineValueExamplesOfOddsJson) {
  const std::set<std::string> known = {
      "taken_american", "taken_decimal", "close_american", "close_decimal", "clv_price", "prob_pts",
      "fair_close_prob", "clv_fair", "note",
      // The fair closing price is odds' business: src/odds/devig_test.cc checks it.
      "fair_close_american"};
  int checked = 0;
  for (const nlohmann::json& v : odds_.at("clv")) {
    SCOPED_TRACE(v.dump());
    for (const auto& [key, value] : v.items()) {
      EXPECT_TRUE(known.contains(key)) << "unknown key \"" << key << "\"";
    }
    const double taken = v.contains("taken_american") ? FromAmerican(v.at("taken_american"))
                                                      : v.at("taken_decimal").get<double>();
    ClosingQuote close;
    if (v.contains("close_decimal")) {
      close.decimal = v.at("close_decimal").get<double>();
      close.fair_prob = 1 / close.decimal;
    } else if (v.at("close_american").is_array()) {
      std::vector<double> market;
      for (const nlohmann::json& a : v.at("close_american")) market.push_back(FromAmerican(a));
      Result<odds::DevigResult> fair = odds::Devig(market, odds::DevigMethod::kMultiplicative);
      ASSERT_TRUE(fair.ok()) << fair.status().ToString();
      close.decimal = market.at(0);
      close.fair_prob = fair->fair.at(0);
    } else {
      close.decimal = FromAmerican(v.at("close_american"));
      close.fair_prob = 1 / close.decimal;
    }
    const ClosingLineValue clv = ComputeClv(taken, std::nullopt, close);
    ASSERT_TRUE(clv.price.has_value()) << "same (no) line: clv_price must be set";
    EXPECT_FALSE(clv.note.has_value()) << *clv.note;
    int answers = 0;
    if (v.contains("clv_price")) {
      EXPECT_NEAR(*clv.price, v.at("clv_price").get<double>(), kPrintedTolerance) << "clv_price";
      ++answers;
    }
    if (v.contains("prob_pts")) {
      EXPECT_NEAR(clv.prob_pts, v.at("prob_pts").get<double>(), kPrintedTolerance) << "prob_pts";
      ++answers;
    }
    if (v.contains("fair_close_prob")) {
      EXPECT_NEAR(close.fair_prob, v.at("fair_close_prob").get<double>(), kPrintedTolerance)
          << "fair_close_prob";
      ++answers;
    }
    if (v.contains("clv_fair")) {
      EXPECT_NEAR(clv.fair, v.at("clv_fair").get<double>(), kPrintedTolerance) << "clv_fair";
      ++answers;
    }
    EXPECT_GT(answers, 0) << "the vector gives no CLV figure to check";
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace truthbook::grading
