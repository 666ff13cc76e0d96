// Typed, path-aware reading of JSON request bodies. Every error is InvalidArgument naming the
// full field path ("quotes[1].price.american: must be a number"). Unknown fields are ignored
// (API.md); null counts as absent for optional fields. Thread-compatible.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace truthbook::api {

class JsonObject {
 public:
  // REQUIRES: value is an object that outlives this view.
  JsonObject(const nlohmann::json& value, std::string path)
      : value_(value), path_(std::move(path)) {}

  // The body as an object; InvalidArgument for broken JSON or a non-object.
  static Result<nlohmann::json> ParseBody(std::string_view body);

  Result<std::string> String(std::string_view key) const;
  Result<std::optional<std::string>> OptString(std::string_view key) const;
  Result<double> Number(std::string_view key) const;
  Result<std::optional<double>> OptNumber(std::string_view key) const;
  Result<int64_t> Integer(std::string_view key) const;
  Result<std::optional<int64_t>> OptInteger(std::string_view key) const;
  Result<std::optional<bool>> OptBool(std::string_view key) const;
  Result<TimePoint> Time(std::string_view key) const;
  Result<JsonObject> Object(std::string_view key) const;
  Result<std::optional<JsonObject>> OptObject(std::string_view key) const;
  // The array's elements, each required to be an object ("key[i]").
  Result<std::vector<JsonObject>> Objects(std::string_view key) const;
  // The member, or nullptr when absent.
  const nlohmann::json* Find(std::string_view key) const;

  // The path of `key` inside this object.
  std::string Field(std::string_view key) const;

 private:
  Result<const nlohmann::json*> Required(std::string_view key) const;

  const nlohmann::json& value_;
  std::string path_;
};

}  // namespace truthbook::api
