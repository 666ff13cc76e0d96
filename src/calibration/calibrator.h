// Calibrators: maps from a raw forecast probability to a calibrated one, fitted on graded
// outcomes (DESIGN §3 "Calibration"): isotonic, Platt, temperature and beta. Fits are
// deterministic and independent of input order; every calibrator serializes to
// {"method", "params"} JSON (params documented beside each class) that loads back
// bit-identically. A fitted Calibrator is immutable, so it may be applied from many threads at
// once; the free functions are pure.
#pragma once

#include <array>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string_view>

#include "base/status.h"

namespace truthbook::calibration {

// Adding a method means: an enumerator here, an entry in kMethods, a case in MethodName and in
// the two dispatches in calibrator.cc (the switches have no default, so -Wswitch points at
// them).
enum class Method {
  kIsotonic,     // PAVA step function with linear interpolation (isotonic.h)
  kPlatt,        // sigmoid on logit(p) with Platt's smoothed targets (platt.h)
  kTemperature,  // sigmoid(logit(p) / T) (temperature.h)
  kBeta,         // Kull, Silva Filho and Flach (2017) beta calibration (beta.h)
};

// Every method, in a stable order (for listing, parsing and tests).
inline constexpr std::array kMethods = {Method::kIsotonic, Method::kPlatt, Method::kTemperature,
                                        Method::kBeta};

// The stable wire name: "isotonic", "platt", "temperature", "beta"; "unknown" for a value
// outside the enum.
std::string_view MethodName(Method method);

// The method whose MethodName is `name` (exact, lower case).
// Failure: InvalidArgument `unknown calibration method "x"; expected one of: isotonic, platt,
// temperature, beta`.
Result<Method> ParseMethod(std::string_view name);

// Methods that take a logit or a log clip p to [kProbabilityClip, 1 - kProbabilityClip]
// first, so that p = 0 and p = 1 map to finite values.
inline constexpr double kProbabilityClip = 1e-12;

// ln(q / (1 - q)) for q = p clipped to [kProbabilityClip, 1 - kProbabilityClip]. Finite for
// every p in [0, 1]; NaN for NaN.
double ClippedLogit(double p);

// Checks one binary training sample: p (probabilities), y (outcomes) and w (weights; empty
// means every weight is 1).
// Success: p is not empty, y has p's size, w is empty or has p's size, every p[i] is in
// [0, 1], every y[i] is 0 or 1, every w[i] is finite and >= 0, and the weights have a positive,
// finite sum. Failure: InvalidArgument naming the first offending field, e.g. "p: must not be
// empty", "w: size 4 != p size 5", "p[3]: must be in [0, 1]", "y[2]: must be 0 or 1",
// "w[1]: must be finite and >= 0", "w: must have a positive sum", "w: must have a finite sum".
Status CheckBinarySample(std::span<const double> p, std::span<const double> y,
                         std::span<const double> w);

// A fitted map from a raw probability to a calibrated one. Subclasses are immutable after
// construction.
class Calibrator {
 public:
  virtual ~Calibrator() = default;
  Calibrator(const Calibrator&) = delete;
  Calibrator& operator=(const Calibrator&) = delete;

  virtual Method method() const = 0;

  // The calibrated probability for raw probability p, in [0, 1]. Deterministic: the same
  // parameters and p always give the same bits.
  // REQUIRES: 0 <= p <= 1 (an out-of-range p is treated as the nearer end; NaN gives NaN).
  virtual double Apply(double p) const = 0;

  // out[i] = Apply(in[i]) for every i; subclasses may override it with a faster loop that
  // gives the same bits.
  // REQUIRES: out.size() == in.size(); the REQUIRES of Apply for each in[i].
  virtual void ApplyAll(std::span<const double> in, std::span<double> out) const;

  // The fitted parameters as a JSON object (the "params" member of ToJson). Each method's
  // members are documented beside its class.
  virtual nlohmann::json Params() const = 0;

 protected:
  Calibrator() = default;
};

// Fits `method` to the sample (p, y, w): w empty means unit weights, zero weights are
// allowed (the sample is ignored). The fit is deterministic and does not depend on the order
// of the samples: the same multiset of (p, y, w) triples gives bit-identical parameters.
// Success: a calibrator of that method. Failure: InvalidArgument from CheckBinarySample, or
// from the method when the sample cannot identify it (beta needs both outcomes).
Result<std::unique_ptr<Calibrator>> Fit(Method method, std::span<const double> p,
                                        std::span<const double> y, std::span<const double> w);

// {"method": MethodName(c.method()), "params": c.Params()}. Every double is stored as a JSON
// number that parses back to the same bits, so ToJson(*FromJson(ToJson(c))) dumps to the
// same bytes as ToJson(c), and the loaded calibrator applies bit-identically.
nlohmann::json ToJson(const Calibrator& calibrator);

// Loads what ToJson wrote. Success: the calibrator. Failure: InvalidArgument naming the
// offending member: "calibrator: must be a JSON object", "method: missing", `method: unknown
// calibration method "x"; ...`, "params: must be an object", "params.temperature: must be
// > 0", "params.x[2]: must be > params.x[1]", "params.z: unknown field", and so on.
Result<std::unique_ptr<Calibrator>> FromJson(const nlohmann::json& json);

}  // namespace truthbook::calibration
