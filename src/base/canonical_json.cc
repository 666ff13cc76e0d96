#include "base/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

namespace truthbook {
namespace {

// Decodes one UTF-8 sequence at text[pos] per RFC 3629 (no overlongs, no surrogates, nothing
// above U+10FFFF). On success stores the code point, advances `pos` and returns true.
bool DecodeUtf8(std::string_view text, size_t& pos, char32_t& code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    code_point = lead;
    ++pos;
    return true;
  }
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code_point = lead & 0x0f;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return false;
  }
  if (pos + length > text.size()) return false;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char c = byte(pos + i);
    if (i == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xbf)) return false;
    code_point = (code_point << 6) | (c & 0x3f);
  }
  pos += length;
  return true;
}

// Converts UTF-8 to UTF-16 code units, the order RFC 8785 §3.2.3 sorts keys by.
bool Utf8ToUtf16(std::string_view text, std::u16string& out) {
  out.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t code_point = 0;
    if (!DecodeUtf8(text, pos, code_point)) return false;
    if (code_point < 0x10000) {
      out.push_back(static_cast<char16_t>(code_point));
    } else {
      code_point -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (code_point >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (code_point & 0x3ff)));
    }
  }
  return true;
}

// Appends `text` as a JSON string literal (RFC 8785 §3.2.2.2). Returns false on invalid UTF-8.
bool AppendString(std::string_view text, std::string& out) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  out.push_back('"');
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    char32_t code_point = 0;
    if (!DecodeUtf8(text, pos, code_point)) return false;
    switch (code_point) {
      case U'"':
        out.append("\\\"");
        break;
      case U'\\':
        out.append("\\\\");
        break;
      case U'\b':
        out.append("\\b");
        break;
      case U'\f':
        out.append("\\f");
        break;
      case U'\n':
        out.append("\\n");
        break;
      case U'\r':
        out.append("\\r");
        break;
      case U'\t':
        out.append("\\t");
        break;
      default:
        if (code_point < 0x20) {
          out.append("\\u00");
          out.push_back(kHexDigits[code_point >> 4]);
          out.push_back(kHexDigits[code_point & 0x0f]);
        } else {
          out.append(text.substr(start, pos - start));
        }
    }
  }
  out.push_back('"');
  return true;
}

template <typename Integer>
void AppendInteger(Integer value, std::string& out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

// Walks the value depth-first, keeping the path to the current node for error messages.
class Canonicalizer {
 public:
  Status Append(const nlohmann::json& value, std::string& out) {
    using Type = nlohmann::json::value_t;
    switch (value.type()) {
      case Type::null:
        out.append("null");
        return Status::Ok();
      case Type::boolean:
        out.append(value.get_ref<const bool&>() ? "true" : "false");
        return Status::Ok();
      case Type::number_integer:
        AppendInteger(value.get_ref<const std::int64_t&>(), out);
        return Status::Ok();
      case Type::number_unsigned:
        AppendInteger(value.get_ref<const std::uint64_t&>(), out);
        return Status::Ok();
      case Type::number_float: {
        const double number = value.get_ref<const double&>();
        if (!std::isfinite(number)) return Error("NaN and infinity have no JSON form");
        out.append(FormatJsonNumber(number));
        return Status::Ok();
      }
      case Type::string:
        if (!AppendString(value.get_ref<const std::string&>(), out)) {
          return Error("string is not valid UTF-8");
        }
        return Status::Ok();
      case Type::array:
        return AppendArray(value, out);
      case Type::object:
        return AppendObject(value, out);
      case Type::binary:
        return Error("binary values have no JSON form");
      case Type::discarded:
        return Error("discarded value has no JSON form");
    }
    return Error("unknown JSON value type");
  }

 private:
  // One step of the path: an object key, or an array index when `key` is null.
  struct PathStep {
    const std::string* key;
    size_t index;
  };

  Status AppendArray(const nlohmann::json& array, std::string& out) {
    if (path_.size() >= kMaxCanonicalJsonDepth) return Error("nesting is too deep");
    out.push_back('[');
    size_t index = 0;
    for (const nlohmann::json& element : array) {
      if (index > 0) out.push_back(',');
      path_.push_back({nullptr, index});
      RETURN_IF_ERROR(Append(element, out));
      path_.pop_back();
      ++index;
    }
    out.push_back(']');
    return Status::Ok();
  }

  Status AppendObject(const nlohmann::json& object, std::string& out) {
    if (path_.size() >= kMaxCanonicalJsonDepth) return Error("nesting is too deep");
    struct Member {
      std::u16string sort_key;
      const std::string* key;
      const nlohmann::json* value;
    };
    std::vector<Member> members;
    members.reserve(object.size());
    for (auto it = object.begin(); it != object.end(); ++it) {
      Member member{{}, &it.key(), &it.value()};
      if (!Utf8ToUtf16(it.key(), member.sort_key)) return Error("object key is not valid UTF-8");
      members.push_back(std::move(member));
    }
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.sort_key < b.sort_key; });

    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out.push_back(',');
      // Keys were validated as UTF-8 above, so this cannot fail.
      AppendString(*members[i].key, out);
      out.push_back(':');
      path_.push_back({members[i].key, 0});
      RETURN_IF_ERROR(Append(*members[i].value, out));
      path_.pop_back();
    }
    out.push_back('}');
    return Status::Ok();
  }

  // An InvalidArgument naming the current path, e.g. "quotes[1].price: <reason>".
  Status Error(std::string_view reason) const {
    std::string message;
    for (const PathStep& step : path_) {
      if (step.key != nullptr) {
        if (!message.empty()) message.push_back('.');
        message.append(*step.key);
      } else {
        message.push_back('[');
        AppendInteger(step.index, message);
        message.push_back(']');
      }
    }
    if (!message.empty()) message.append(": ");
    message.append(reason);
    return InvalidArgument(std::move(message));
  }

  std::vector<PathStep> path_;
};

}  // namespace

Result<std::string> CanonicalJson(const nlohmann::json& value) {
  std::string out;
  Canonicalizer canonicalizer;
  RETURN_IF_ERROR(canonicalizer.Append(value, out));
  return out;
}

bool CanonicalObject::Key(std::string_view key) {
  if (!error_.ok()) return false;
  const bool ascii = std::all_of(key.begin(), key.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii || (!first_ && key <= last_key_)) {
    error_ = InvalidArgument(std::string(key) + ": key out of canonical order or not ASCII");
    return false;
  }
  if (!first_) out_.push_back(',');
  first_ = false;
  last_key_ = key;
  AppendString(key, out_);
  out_.push_back(':');
  return true;
}

CanonicalObject& CanonicalObject::String(std::string_view key, std::string_view value) {
  if (Key(key) && !AppendString(value, out_)) {
    error_ = InvalidArgument(std::string(key) + ": not valid UTF-8");
  }
  return *this;
}

CanonicalObject& CanonicalObject::Number(std::string_view key, double value) {
  if (!Key(key)) return *this;
  if (!std::isfinite(value)) {
    error_ = InvalidArgument(std::string(key) + ": not a finite number");
  } else {
    out_ += FormatJsonNumber(value);
  }
  return *this;
}

CanonicalObject& CanonicalObject::Integer(std::string_view key, int64_t value) {
  if (Key(key)) AppendInteger(value, out_);
  return *this;
}

CanonicalObject& CanonicalObject::Bool(std::string_view key, bool value) {
  if (Key(key)) out_ += value ? "true" : "false";
  return *this;
}

CanonicalObject& CanonicalObject::Null(std::string_view key) {
  if (Key(key)) out_ += "null";
  return *this;
}

CanonicalObject& CanonicalObject::Canonical(std::string_view key, std::string_view canonical) {
  if (Key(key)) out_ += canonical;
  return *this;
}

CanonicalObject& CanonicalObject::OptionalString(std::string_view key,
                                                 const std::optional<std::string>& value) {
  return value ? String(key, std::string_view(*value)) : Null(key);
}

CanonicalObject& CanonicalObject::OptionalNumber(std::string_view key,
                                                 const std::optional<double>& value) {
  return value ? Number(key, *value) : Null(key);
}

Result<std::string> CanonicalObject::Finish() {
  if (!error_.ok()) return error_;
  out_.push_back('}');
  return std::move(out_);
}

std::string FormatJsonNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return "0";  // both +0 and -0

  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest round-trip digits in scientific form, e.g. "1.2345e+20" or "5e-324". With ties
  // going to the closest value this is exactly the digit string ECMA-262 asks for.
  char buffer[32];
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string_view scientific(buffer, static_cast<size_t>(result.ptr - buffer));
  const size_t e = scientific.find('e');
  std::string digits(1, scientific[0]);
  if (e > 1) digits.append(scientific.substr(2, e - 2));  // skip the '.'
  int exponent = 0;
  const size_t exponent_start = e + (scientific[e + 1] == '+' ? 2 : 1);
  std::from_chars(scientific.data() + exponent_start, scientific.data() + scientific.size(),
                  exponent);

  // ECMA-262 names: the value is 0.d1d2...dk × 10^n, i.e. digits × 10^(n-k).
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out.append(digits).append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n)).append(".").append(digits, n);
  } else if (-6 < n && n <= 0) {
    out.append("0.").append(static_cast<size_t>(-n), '0').append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) out.append(".").append(digits, 1);
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    AppendInteger(std::abs(n - 1), out);
  }
  return out;
}

}  // namespace truthbook
