#include "api/json_fields.h"

#include <cmath>

#include "base/time.h"

namespace truthbook::api {
namespace {

constexpr int kMaxDepth = 64;

int Depth(const nlohmann::json& j, int limit) {
  if (limit == 0 || !j.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : j) deepest = std::max(deepest, Depth(child, limit - 1));
  return deepest + 1;
}

}  // namespace

Result<nlohmann::json> JsonObject::ParseBody(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("body: not valid JSON");
  if (!j.is_object()) return InvalidArgument("body: must be a JSON object");
  if (Depth(j, kMaxDepth + 1) > kMaxDepth) {
    return InvalidArgument("body: nested deeper than 64 levels");
  }
  return j;
}

std::string JsonObject::Field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const nlohmann::json* JsonObject::Find(std::string_view key) const {
  auto it = value_.find(key);
  if (it == value_.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<const nlohmann::json*> JsonObject::Required(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return InvalidArgument(Field(key) + ": required");
  return v;
}

Result<std::string> JsonObject::String(std::string_view key) const {
  ASSIGN_OR_RETURN(const nlohmann::json* v, Required(key));
  if (!v->is_string()) return InvalidArgument(Field(key) + ": must be a string");
  return v->get<std::string>();
}

Result<std::optional<std::string>> JsonObject::OptString(std::string_view key) const {
  if (Find(key) == nullptr) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string s, String(key));
  return std::optional<std::string>(std::move(s));
}

Result<double> JsonObject::Number(std::string_view key) const {
  ASSIGN_OR_RETURN(const nlohmann::json* v, Required(key));
  if (!v->is_number()) return InvalidArgument(Field(key) + ": must be a number");
  return v->get<double>();
}

Result<std::optional<double>> JsonObject::OptNumber(std::string_view key) const {
  if (Find(key) == nullptr) return std::optional<double>();
  ASSIGN_OR_RETURN(double d, Number(key));
  return std::optional<double>(d);
}

Result<int64_t> JsonObject::Integer(std::string_view key) const {
  ASSIGN_OR_RETURN(const nlohmann::json* v, Required(key));
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
    return InvalidArgument(Field(key) + ": out of range");
  }
  if (!v->is_number_integer()) return InvalidArgument(Field(key) + ": must be an integer");
  return v->get<int64_t>();
}

Result<std::optional<int64_t>> JsonObject::OptInteger(std::string_view key) const {
  if (Find(key) == nullptr) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t i, Integer(key));
  return std::optional<int64_t>(i);
}

Result<std::optional<bool>> JsonObject::OptBool(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return InvalidArgument(Field(key) + ": must be true or false");
  return std::optional<bool>(v->get<bool>());
}

Result<TimePoint> JsonObject::Time(std::string_view key) const {
  ASSIGN_OR_RETURN(std::string text, String(key));
  Result<TimePoint> t = ParseRfc3339(text);
  if (!t.ok()) return InvalidArgument(Field(key) + ": " + t.status().message());
  return t;
}

Result<JsonObject> JsonObject::Object(std::string_view key) const {
  ASSIGN_OR_RETURN(const nlohmann::json* v, Required(key));
  if (!v->is_object()) return InvalidArgument(Field(key) + ": must be an object");
  return JsonObject(*v, Field(key));
}

Result<std::optional<JsonObject>> JsonObject::OptObject(std::string_view key) const {
  if (Find(key) == nullptr) return std::optional<JsonObject>();
  ASSIGN_OR_RETURN(JsonObject o, Object(key));
  return std::optional<JsonObject>(o);
}

Result<std::vector<JsonObject>> JsonObject::Objects(std::string_view key) const {
  ASSIGN_OR_RETURN(const nlohmann::json* v, Required(key));
  if (!v->is_array()) return InvalidArgument(Field(key) + ": must be an array");
  std::vector<JsonObject> out;
  for (size_t i = 0; i < v->size(); ++i) {
    std::string path = Field(key) + "[" + std::to_string(i) + "]";
    if (!(*v)[i].is_object()) return InvalidArgument(path + ": must be an object");
    out.emplace_back((*v)[i], path);
  }
  return out;
}

}  // namespace truthbook::api
