#include "calibration/calibrator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/canonical_json.h"
#include "base/status_test_util.h"
#include "calibration/beta.h"
#include "calibration/isotonic.h"
#include "calibration/lane_math.h"
#include "calibration/platt.h"
#include "calibration/temperature.h"

namespace truthbook::calibration {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Vec = std::vector<double>;

// The "sports20" sample of ../shared/reference/calibration.json, inline so that these tests
// run without the reference folder.
const Vec kP = {0.05, 0.12, 0.18, 0.22, 0.27, 0.33, 0.38, 0.41, 0.45, 0.49,
                0.52, 0.55, 0.61, 0.64, 0.68, 0.72, 0.77, 0.83, 0.88, 0.95};
const Vec kY = {0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1};
const Vec kW = {1, 2, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 3, 1, 1, 2};

class CalibratorTestBase : public ::testing::Test {
 protected:
  static std::unique_ptr<Calibrator> FitOk(Method method, const Vec& p, const Vec& y,
                                           const Vec& w) {
    Result<std::unique_ptr<Calibrator>> result = Fit(method, p, y, w);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : nullptr;
  }

  static std::unique_ptr<Calibrator> LoadOk(const nlohmann::json& json) {
    Result<std::unique_ptr<Calibrator>> result = FromJson(json);
    EXPECT_TRUE(result.ok()) << result.status().ToString() << " loading " << json.dump();
    return result.ok() ? std::move(result).value() : nullptr;
  }

  // Probabilities to apply calibrators at: the ends, the clip, and a fine grid.
  static Vec Grid() {
    Vec grid = {0.0, 1e-300, kProbabilityClip, 0.5, 1 - kProbabilityClip, 1.0};
    for (int i = 1; i < 1000; ++i) grid.push_back(i / 1000.0);
    return grid;
  }

  // A sample with ties in p, both outcomes and uneven weights (some 0).
  static void TiedSample(unsigned seed, Vec& p, Vec& y, Vec& w) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int i = 0; i < 400; ++i) {
      p.push_back(std::round(unit(rng) * 50) / 50);
      y.push_back(unit(rng) < 0.2 + 0.6 * p.back() ? 1 : 0);
      w.push_back(std::round(unit(rng) * 8) / 4);
    }
  }
};

// The same helpers, for the tests that run once per method.
class CalibratorTest : public CalibratorTestBase, public ::testing::WithParamInterface<Method> {};

std::uint64_t Bits(double v) { return std::bit_cast<std::uint64_t>(v); }

// --- Method names ---

TEST(CalibratorMethodTest, EveryMethodHasAUniqueNameThatParsesBack) {
  std::set<std::string_view> names;
  for (Method method : kMethods) {
    const std::string_view name = MethodName(method);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
    Result<Method> parsed = ParseMethod(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, method);
  }
  EXPECT_EQ(MethodName(Method::kIsotonic), "isotonic");
  EXPECT_EQ(MethodName(Method::kPlatt), "platt");
  EXPECT_EQ(MethodName(Method::kTemperature), "temperature");
  EXPECT_EQ(MethodName(Method::kBeta), "beta");
}

TEST(CalibratorMethodTest, UnknownMethodNamesAreRefusedListingTheKnownOnes) {
  for (std::string_view name : {"", "Isotonic", "sigmoid", "beta "}) {
    Result<Method> parsed = ParseMethod(name);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(),
              "unknown calibration method \"" + std::string(name) +
                  "\"; expected one of: isotonic, platt, temperature, beta");
  }
}

TEST(CalibratorMethodTest, ClippedLogitIsFiniteAtTheEnds) {
  EXPECT_EQ(ClippedLogit(0.5), 0);
  EXPECT_NEAR(ClippedLogit(0), std::log(kProbabilityClip / (1 - kProbabilityClip)), 1e-12);
  // 1 - 1e-12 is not exactly representable, so the upper end is symmetric only to ~1e-4.
  EXPECT_NEAR(ClippedLogit(1), -ClippedLogit(0), 1e-3);
  EXPECT_TRUE(std::isnan(ClippedLogit(kNaN)));
}

TEST(CalibratorMethodTest, AnUnknownMethodValueIsRefused) {
  Result<std::unique_ptr<Calibrator>> result = Fit(static_cast<Method>(99), kP, kY, kW);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

// --- Every method ---

TEST_P(CalibratorTest, FitsSports20AndAppliesIntoTheUnitIntervalMonotonically) {
  std::unique_ptr<Calibrator> c = FitOk(GetParam(), kP, kY, kW);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->method(), GetParam());
  double previous = 0;
  for (int i = 0; i <= 1000; ++i) {
    const double out = c->Apply(i / 1000.0);
    EXPECT_GE(out, 0);
    EXPECT_LE(out, 1);
    EXPECT_GE(out, previous) << "at " << i / 1000.0;
    previous = out;
  }
}

TEST_P(CalibratorTest, ApplyAllIsApplyForEachElement) {
  std::unique_ptr<Calibrator> c = FitOk(GetParam(), kP, kY, kW);
  ASSERT_NE(c, nullptr);
  const Vec grid = Grid();
  Vec out(grid.size());
  c->ApplyAll(grid, out);
  for (size_t i = 0; i < grid.size(); ++i) EXPECT_EQ(Bits(out[i]), Bits(c->Apply(grid[i])));
}

TEST_P(CalibratorTest, JsonRoundTripIsBitIdentical) {
  std::unique_ptr<Calibrator> c = FitOk(GetParam(), kP, kY, kW);
  ASSERT_NE(c, nullptr);
  const nlohmann::json json = ToJson(*c);
  EXPECT_EQ(json.at("method"), MethodName(GetParam()));
  const std::string text = json.dump();
  std::unique_ptr<Calibrator> loaded = LoadOk(nlohmann::json::parse(text));
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(ToJson(*loaded).dump(), text);
  for (double p : Grid()) EXPECT_EQ(Bits(loaded->Apply(p)), Bits(c->Apply(p))) << p;

  // The same through the canonical (RFC 8785) text the ledger stores.
  Result<std::string> canonical = CanonicalJson(json);
  ASSERT_TRUE(canonical.ok()) << canonical.status().ToString();
  std::unique_ptr<Calibrator> from_canonical = LoadOk(nlohmann::json::parse(*canonical));
  ASSERT_NE(from_canonical, nullptr);
  EXPECT_EQ(ToJson(*from_canonical).dump(), text);
  Result<std::string> canonical_again = CanonicalJson(ToJson(*from_canonical));
  ASSERT_TRUE(canonical_again.ok());
  EXPECT_EQ(*canonical_again, *canonical);
}

TEST_P(CalibratorTest, ShuffledInputGivesByteIdenticalParams) {
  Vec p, y, w;
  TiedSample(3, p, y, w);
  std::unique_ptr<Calibrator> first = FitOk(GetParam(), p, y, w);
  ASSERT_NE(first, nullptr);
  const std::string expected = ToJson(*first).dump();
  std::mt19937_64 rng(4);
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int trial = 0; trial < 4; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    Vec ps, ys, ws;
    for (size_t i : order) {
      ps.push_back(p[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    std::unique_ptr<Calibrator> again = FitOk(GetParam(), ps, ys, ws);
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(ToJson(*again).dump(), expected) << "trial " << trial;
  }
}

TEST_P(CalibratorTest, LargeShuffledInputGivesByteIdenticalParams) {
  // Large enough for the bucket sort (isotonic) and many lanes (the others), with ties and
  // zero weights, weighted and not.
  Vec p, y, w;
  for (unsigned seed = 10; p.size() < 20000; ++seed) TiedSample(seed, p, y, w);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 5000; ++i) p[i] = std::uniform_real_distribution<double>(0, 1)(rng);
  for (const bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weighted" : "unweighted");
    std::unique_ptr<Calibrator> first = FitOk(GetParam(), p, y, weighted ? w : Vec{});
    ASSERT_NE(first, nullptr);
    std::vector<size_t> order(p.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    Vec ps, ys, ws;
    for (size_t i : order) {
      ps.push_back(p[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    std::unique_ptr<Calibrator> again = FitOk(GetParam(), ps, ys, weighted ? ws : Vec{});
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(ToJson(*again).dump(), ToJson(*first).dump());
  }
}

TEST_P(CalibratorTest, TwoAndEightLanesGiveByteIdenticalParams) {
  // The fits run on eight lanes where the CPU has AVX-512 and on two elsewhere; a version
  // refitted on another machine must come out the same.
  Vec p, y, w;
  for (unsigned seed = 20; p.size() < 5003; ++seed) TiedSample(seed, p, y, w);
  for (const bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weighted" : "unweighted");
    internal::SetWideLanesAllowed(false);
    std::unique_ptr<Calibrator> narrow = FitOk(GetParam(), p, y, weighted ? w : Vec{});
    internal::SetWideLanesAllowed(true);
    std::unique_ptr<Calibrator> wide = FitOk(GetParam(), p, y, weighted ? w : Vec{});
    ASSERT_NE(narrow, nullptr);
    ASSERT_NE(wide, nullptr);
    EXPECT_EQ(ToJson(*wide).dump(), ToJson(*narrow).dump());
  }
  if (!internal::UseWideLanes()) GTEST_SKIP() << "no AVX-512 here: both fits took two lanes";
}

TEST_P(CalibratorTest, ApplyAllOnManyPointsIsApplyForEachElement) {
  Vec p, y, w;
  TiedSample(6, p, y, w);
  std::unique_ptr<Calibrator> calibrator = FitOk(GetParam(), p, y, w);
  ASSERT_NE(calibrator, nullptr);
  // Many points (where a method may switch to a faster loop), the grid, and NaN.
  Vec in = Grid();
  std::mt19937_64 rng(7);
  while (in.size() < 20000) in.push_back(std::uniform_real_distribution<double>(0, 1)(rng));
  in.push_back(kNaN);
  Vec out(in.size());
  calibrator->ApplyAll(in, out);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(Bits(out[i]), Bits(calibrator->Apply(in[i]))) << "p " << in[i];
  }
}

TEST_P(CalibratorTest, EmptyWeightsMeanUnitWeights) {
  std::unique_ptr<Calibrator> unweighted = FitOk(GetParam(), kP, kY, {});
  std::unique_ptr<Calibrator> ones = FitOk(GetParam(), kP, kY, Vec(kP.size(), 1.0));
  ASSERT_NE(unweighted, nullptr);
  ASSERT_NE(ones, nullptr);
  EXPECT_EQ(ToJson(*unweighted).dump(), ToJson(*ones).dump());
}

TEST_P(CalibratorTest, BadSamplesAreRefusedNamingTheField) {
  const Method m = GetParam();
  ExpectInvalid(Fit(m, Vec{}, Vec{}, {}), "p: must not be empty");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{1}, {}), "y: size 1 != p size 2");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2, 0.3, 0.4, 0.5}, Vec{0, 1, 0, 1, 1}, Vec{1, 1, 1, 1}),
                "w: size 4 != p size 5");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2, 0.3, 1.5}, Vec{0, 1, 0, 1}, {}), "p[3]: must be in [0, 1]");
  ExpectInvalid(Fit(m, Vec{0.1, -0.2}, Vec{0, 1}, {}), "p[1]: must be in [0, 1]");
  ExpectInvalid(Fit(m, Vec{0.1, kNaN}, Vec{0, 1}, {}), "p[1]: must be in [0, 1]");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2, 0.3}, Vec{0, 1, 2}, {}), "y[2]: must be 0 or 1");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{0, kNaN}, {}), "y[1]: must be 0 or 1");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{0, 1}, Vec{1, -1}), "w[1]: must be finite and >= 0");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{0, 1}, Vec{kNaN, 1}), "w[0]: must be finite and >= 0");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{0, 1}, Vec{0, 0}), "w: must have a positive sum");
  ExpectInvalid(Fit(m, Vec{0.1, 0.2}, Vec{0, 1}, Vec{1e308, 1e308}), "w: must have a finite sum");
}

TEST_P(CalibratorTest, LoadingRefusesAnotherMethodsParams) {
  // Each method's params are refused by every other method's loader.
  for (Method other : kMethods) {
    if (other == GetParam()) continue;
    std::unique_ptr<Calibrator> c = FitOk(other, kP, kY, kW);
    ASSERT_NE(c, nullptr);
    nlohmann::json json = ToJson(*c);
    json["method"] = MethodName(GetParam());
    Result<std::unique_ptr<Calibrator>> loaded = FromJson(json);
    ASSERT_FALSE(loaded.ok()) << MethodName(other);
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(loaded.status().message().starts_with("params.")) << loaded.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(CalibratorEveryMethod, CalibratorTest, ::testing::ValuesIn(kMethods),
                         [](const ::testing::TestParamInfo<Method>& info) {
                           return std::string(MethodName(info.param));
                         });

// --- JSON loading ---

class CalibratorJsonTest : public CalibratorTestBase {};

TEST_F(CalibratorJsonTest, ExtremeDoublesSurviveTheRoundTrip) {
  const std::vector<std::pair<double, double>> cases = {
      {0.1 + 0.2, -1.0 / 3},
      {5e-324, -1.7976931348623157e308},
      {-0.0, 2.2250738585072014e-308},
      {123456789.123456789, 1e21},
  };
  for (const auto& [a, b] : cases) {
    std::unique_ptr<Calibrator> c =
        LoadOk(nlohmann::json{{"method", "platt"}, {"params", {{"a", a}, {"b", b}}}});
    ASSERT_NE(c, nullptr);
    const std::string text = ToJson(*c).dump();
    std::unique_ptr<Calibrator> again = LoadOk(nlohmann::json::parse(text));
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(ToJson(*again).dump(), text);
    const PlattParams& params = static_cast<const PlattCalibrator&>(*again).params();
    EXPECT_EQ(Bits(params.a), Bits(a)) << text;
    EXPECT_EQ(Bits(params.b), Bits(b)) << text;
  }
}

TEST_F(CalibratorJsonTest, IntegerNumbersLoadAsDoubles) {
  std::unique_ptr<Calibrator> c =
      LoadOk(nlohmann::json::parse(R"({"method":"isotonic","params":{"x":[0,1],"y":[0,1]}})"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Apply(0.25), 0.25);
  EXPECT_EQ(ToJson(*c).dump(), R"({"method":"isotonic","params":{"x":[0.0,1.0],"y":[0.0,1.0]}})");
}

TEST_F(CalibratorJsonTest, EachMethodWritesItsDocumentedParams) {
  const auto keys = [](Method m) {
    std::unique_ptr<Calibrator> c = FitOk(m, kP, kY, kW);
    const nlohmann::json params = c->Params();
    std::vector<std::string> out;
    for (const auto& [key, value] : params.items()) out.push_back(key);
    return out;
  };
  EXPECT_EQ(keys(Method::kIsotonic), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(keys(Method::kPlatt), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(keys(Method::kTemperature), (std::vector<std::string>{"temperature"}));
  EXPECT_EQ(keys(Method::kBeta), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(CalibratorJsonTest, MalformedDocumentsAreRefusedNamingTheMember) {
  const auto refused = [](std::string_view text, std::string_view message) {
    SCOPED_TRACE(text);
    ExpectInvalid(FromJson(nlohmann::json::parse(text)), message);
  };
  refused(R"([1])", "calibrator: must be a JSON object");
  refused(R"({"params":{}})", "method: missing");
  refused(R"({"method":3,"params":{}})", "method: must be a string");
  refused(R"({"method":"spline","params":{}})",
          "method: unknown calibration method \"spline\"; expected one of: isotonic, platt, "
          "temperature, beta");
  refused(R"({"method":"platt"})", "params: missing");
  refused(R"({"method":"platt","params":[1,2]})", "params: must be an object");
  refused(R"({"method":"platt","params":{"a":1,"b":2},"extra":1})", "extra: unknown field");
  refused(R"({"method":"platt","params":{"a":1,"b":2,"c":3}})", "params.c: unknown field");
  refused(R"({"method":"platt","params":{"a":1}})", "params.b: missing");
  refused(R"({"method":"platt","params":{"a":"1","b":2}})", "params.a: must be a finite number");
  refused(R"({"method":"temperature","params":{"temperature":-1}})",
          "params.temperature: must be > 0");
  refused(R"({"method":"temperature","params":{"temperature":0}})",
          "params.temperature: must be > 0");
  refused(R"({"method":"beta","params":{"a":1,"b":-1,"c":0}})", "params.b: must be >= 0");
  refused(R"({"method":"isotonic","params":{"x":[],"y":[]}})",
          "params.x: must be a non-empty array");
  refused(R"({"method":"isotonic","params":{"x":[0,1],"y":[0]}})",
          "params.y: size 1 != params.x size 2");
  refused(R"({"method":"isotonic","params":{"x":[0,0],"y":[0,1]}})",
          "params.x[1]: must be > params.x[0]");
  refused(R"({"method":"isotonic","params":{"x":[0,1],"y":[0.5,0.25]}})",
          "params.y[1]: must be >= params.y[0]");
  refused(R"({"method":"isotonic","params":{"x":[0,1],"y":[0,1.5]}})",
          "params.y[1]: must be in [0, 1]");
  refused(R"({"method":"isotonic","params":{"x":[0,null],"y":[0,1]}})",
          "params.x[1]: must be a finite number");
}

TEST_F(CalibratorJsonTest, NonFiniteNumbersBuiltInMemoryAreRefused) {
  nlohmann::json json = {{"method", "platt"},
                         {"params", {{"a", std::numeric_limits<double>::infinity()}, {"b", 0}}}};
  ExpectInvalid(FromJson(json), "params.a: must be a finite number");
  json["params"]["a"] = kNaN;
  ExpectInvalid(FromJson(json), "params.a: must be a finite number");
}

}  // namespace
}  // namespace truthbook::calibration
