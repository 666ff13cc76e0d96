#include "calibration/calibrator.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "calibration/beta.h"
#include "calibration/fit_support.h"
#include "calibration/isotonic.h"
#include "calibration/platt.h"
#include "calibration/temperature.h"

namespace truthbook::calibration {

namespace {

// Upcasts a method's Result<unique_ptr<Derived>> to the interface's.
template <typename T>
Result<std::unique_ptr<Calibrator>> AsCalibrator(Result<std::unique_ptr<T>> result) {
  if (!result.ok()) return result.status();
  return std::unique_ptr<Calibrator>(std::move(result).value());
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kIsotonic:
      return "isotonic";
    case Method::kPlatt:
      return "platt";
    case Method::kTemperature:
      return "temperature";
    case Method::kBeta:
      return "beta";
  }
  return "unknown";
}

Result<Method> ParseMethod(std::string_view name) {
  std::string expected;
  for (Method method : kMethods) {
    if (MethodName(method) == name) return method;
    if (!expected.empty()) expected += ", ";
    expected += MethodName(method);
  }
  return InvalidArgument("unknown calibration method \"" + std::string(name) +
                         "\"; expected one of: " + expected);
}

double ClippedLogit(double p) {
  if (std::isnan(p)) return p;
  // The fits take the logits of a whole sample at once, by the same formula.
  return internal::ClippedLogit(internal::Broadcast<internal::Lanes>(p))[0];
}

Status CheckBinarySample(std::span<const double> p, std::span<const double> y,
                         std::span<const double> w) {
  if (p.empty()) return InvalidArgument("p: must not be empty");
  RETURN_IF_ERROR(internal::CheckSameSize("y", y.size(), "p", p.size()));
  if (!w.empty()) RETURN_IF_ERROR(internal::CheckSameSize("w", w.size(), "p", p.size()));
  using internal::Lanes;
  const Lanes flagged = internal::Broadcast<Lanes>(1);
  // NaN fails both comparisons, so it is flagged.
  const auto outside_unit_interval = [&](const Lanes& v) {
    return v >= 0.0 ? (v <= 1.0 ? Lanes{} : flagged) : flagged;
  };
  if (const size_t i = internal::FirstFlagged(p, outside_unit_interval); i < p.size()) {
    return InvalidArgument("p[" + std::to_string(i) + "]: must be in [0, 1]");
  }
  const auto not_binary = [&](const Lanes& v) {
    return v == 0.0 ? Lanes{} : (v == 1.0 ? Lanes{} : flagged);
  };
  if (const size_t i = internal::FirstFlagged(y, not_binary); i < y.size()) {
    return InvalidArgument("y[" + std::to_string(i) + "]: must be 0 or 1");
  }
  return internal::CheckWeights(w, "p", p.size());
}

void Calibrator::ApplyAll(std::span<const double> in, std::span<double> out) const {
  assert(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = Apply(in[i]);
}

Result<std::unique_ptr<Calibrator>> Fit(Method method, std::span<const double> p,
                                        std::span<const double> y, std::span<const double> w) {
  // Each method checks the sample itself (CheckBinarySample).
  switch (method) {
    case Method::kIsotonic:
      return AsCalibrator(IsotonicCalibrator::Fit(p, y, w));
    case Method::kPlatt:
      return AsCalibrator(PlattCalibrator::Fit(p, y, w));
    case Method::kTemperature:
      return AsCalibrator(TemperatureCalibrator::Fit(p, y, w));
    case Method::kBeta:
      return AsCalibrator(BetaCalibrator::Fit(p, y, w));
  }
  return InvalidArgument("unknown calibration method");
}

nlohmann::json ToJson(const Calibrator& calibrator) {
  return nlohmann::json{{"method", MethodName(calibrator.method())},
                        {"params", calibrator.Params()}};
}

Result<std::unique_ptr<Calibrator>> FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgument("calibrator: must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (key != "method" && key != "params") return InvalidArgument(key + ": unknown field");
  }
  const auto method_it = json.find("method");
  if (method_it == json.end()) return InvalidArgument("method: missing");
  if (!method_it->is_string()) return InvalidArgument("method: must be a string");
  Result<Method> method = ParseMethod(method_it->get_ref<const std::string&>());
  if (!method.ok()) return InvalidArgument("method: " + method.status().message());
  const auto params_it = json.find("params");
  if (params_it == json.end()) return InvalidArgument("params: missing");
  const nlohmann::json& params = *params_it;
  switch (*method) {
    case Method::kIsotonic:
      return AsCalibrator(IsotonicCalibrator::FromParams(params));
    case Method::kPlatt:
      return AsCalibrator(PlattCalibrator::FromParams(params));
    case Method::kTemperature:
      return AsCalibrator(TemperatureCalibrator::FromParams(params));
    case Method::kBeta:
      return AsCalibrator(BetaCalibrator::FromParams(params));
  }
  return InvalidArgument("method: unknown calibration method");
}

}  // namespace truthbook::calibration
