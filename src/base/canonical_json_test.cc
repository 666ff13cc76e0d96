#include "base/canonical_json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace truthbook {
namespace {

using nlohmann::json;

class CanonicalJsonTest : public ::testing::Test {
 protected:
  static std::string Canonical(const json& value) {
    Result<std::string> result = CanonicalJson(value);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : "<error>";
  }

  static std::string CanonicalOfText(std::string_view text) { return Canonical(json::parse(text)); }

  // Expects kInvalidArgument whose message contains `fragment`.
  static void ExpectInvalid(const json& value, std::string_view fragment) {
    Result<std::string> result = CanonicalJson(value);
    ASSERT_FALSE(result.ok()) << "accepted, gave " << *result;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(fragment), std::string::npos)
        << result.status().message();
  }

  static std::string Number(std::uint64_t ieee754_bits) {
    return FormatJsonNumber(std::bit_cast<double>(ieee754_bits));
  }
};

// RFC 8785 §3.2.2 / §3.2.4 worked example.
TEST_F(CanonicalJsonTest, Rfc8785MainExample) {
  const std::string input = R"json({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })json";
  EXPECT_EQ(CanonicalOfText(input),
            "{\"literals\":[null,true,false],"
            "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 §3.2.3: keys sort by UTF-16 code units, not by UTF-8 bytes or code points.
TEST_F(CanonicalJsonTest, Rfc8785KeySortingExample) {
  const std::string input = R"json({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })json";
  EXPECT_EQ(CanonicalOfText(input),
            "{\"\\r\":\"Carriage Return\","
            "\"1\":\"One\","
            "\"\u0080\":\"Control\","
            "\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
            "\"\u20ac\":\"Euro Sign\","
            "\"\U0001F600\":\"Emoji: Grinning Face\","
            "\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST_F(CanonicalJsonTest, SupplementaryKeysSortBeforeUpperBmpKeys) {
  // In UTF-8 (and code point) order U+FFFF < U+10000; in UTF-16 0xD800 < 0xFFFF.
  json value;
  value["\uffff"] = 1;
  value["\U00010000"] = 2;
  value["\ue000"] = 3;
  value["\ud7ff"] = 4;
  EXPECT_EQ(Canonical(value), "{\"\ud7ff\":4,\"\U00010000\":2,\"\ue000\":3,\"\uffff\":1}");
}

TEST_F(CanonicalJsonTest, PrefixKeySortsFirst) {
  EXPECT_EQ(CanonicalOfText(R"({"ab":1,"a":2,"":3,"b":4})"), R"({"":3,"a":2,"ab":1,"b":4})");
}

TEST_F(CanonicalJsonTest, NestedStructuresHaveNoWhitespace) {
  EXPECT_EQ(CanonicalOfText(R"( { "b" : [ 1 , { "d" : {}, "c" : [] } ] , "a" : null } )"),
            R"({"a":null,"b":[1,{"c":[],"d":{}}]})");
}

TEST_F(CanonicalJsonTest, ArraysKeepTheirOrder) {
  EXPECT_EQ(CanonicalOfText("[3,1,2]"), "[3,1,2]");
}

TEST_F(CanonicalJsonTest, Literals) {
  EXPECT_EQ(Canonical(json(nullptr)), "null");
  EXPECT_EQ(Canonical(json(true)), "true");
  EXPECT_EQ(Canonical(json(false)), "false");
  EXPECT_EQ(Canonical(json::array()), "[]");
  EXPECT_EQ(Canonical(json::object()), "{}");
}

TEST_F(CanonicalJsonTest, ShortControlEscapesAndQuotes) {
  EXPECT_EQ(Canonical(json("\"\\\b\f\n\r\t")), R"("\"\\\b\f\n\r\t")");
}

TEST_F(CanonicalJsonTest, OtherControlCharactersUseLowercaseUnicodeEscapes) {
  EXPECT_EQ(Canonical(json(std::string("\0\x01\x0b\x0e\x1f", 5))),
            R"("\u0000\u0001\u000b\u000e\u001f")");
}

TEST_F(CanonicalJsonTest, EverythingElseIsLiteral) {
  // '/', DEL, U+2028/U+2029 (which some encoders escape) and astral characters stay as is.
  const std::string text = "/\x7f\u2028\u2029\u00e9\U0001F600<>&'";
  EXPECT_EQ(Canonical(json(text)), "\"" + text + "\"");
}

TEST_F(CanonicalJsonTest, InvalidUtf8InStringIsRejected) {
  for (const char* bad : {
           "\x80",              // lone continuation byte
           "\xc0\xaf",          // overlong '/'
           "\xc1\xbf",          // overlong
           "\xe0\x80\xaf",      // overlong
           "\xed\xa0\x80",      // UTF-16 surrogate D800
           "\xed\xbf\xbf",      // surrogate DFFF
           "\xf0\x80\x80\xaf",  // overlong
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",  // invalid lead byte
           "\xff",              // invalid byte
           "\xe2\x82",          // truncated euro sign
           "ok\xe2\x82",        // truncated at the end
           "\xe2(\xac",         // bad continuation
       }) {
    SCOPED_TRACE(testing::PrintToString(bad));
    ExpectInvalid(json(std::string(bad)), "not valid UTF-8");
  }
}

TEST_F(CanonicalJsonTest, InvalidUtf8InKeyIsRejected) {
  json value;
  value["ok"] = 1;
  value[std::string("\xff")] = 2;
  ExpectInvalid(value, "object key is not valid UTF-8");
}

TEST_F(CanonicalJsonTest, BoundaryCodePointsAreValid) {
  for (const char* good :
       {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    std::string quoted = std::string(1, '"').append(good).append(1, '"');
    EXPECT_EQ(Canonical(json(std::string(good))), quoted);
  }
}

TEST_F(CanonicalJsonTest, NonFiniteNumbersAreRejected) {
  ExpectInvalid(json(std::numeric_limits<double>::quiet_NaN()), "NaN");
  ExpectInvalid(json(std::numeric_limits<double>::infinity()), "infinity");
  ExpectInvalid(json(-std::numeric_limits<double>::infinity()), "infinity");
}

TEST_F(CanonicalJsonTest, ErrorNamesThePath) {
  json quote;
  quote["price"] = std::nan("");
  json value;
  value["quotes"] = json::array({json::object(), quote});
  ExpectInvalid(value, "quotes[1].price: ");
}

TEST_F(CanonicalJsonTest, BinaryIsRejected) { ExpectInvalid(json::binary({1, 2, 3}), "binary"); }

TEST_F(CanonicalJsonTest, NestingIsLimited) {
  json deep_enough = json::array();
  for (int i = 1; i < kMaxCanonicalJsonDepth; ++i) deep_enough = json::array({deep_enough});
  Result<std::string> ok = CanonicalJson(deep_enough);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 2u * kMaxCanonicalJsonDepth);

  json object_deep_enough = json::object();
  for (int i = 1; i < kMaxCanonicalJsonDepth; ++i) {
    json wrapper;
    wrapper["k"] = std::move(object_deep_enough);
    object_deep_enough = std::move(wrapper);
  }
  EXPECT_TRUE(CanonicalJson(object_deep_enough).ok());

  ExpectInvalid(json::array({deep_enough}), "nesting is too deep");
  json too_deep_object;
  too_deep_object["k"] = std::move(object_deep_enough);
  ExpectInvalid(too_deep_object, "nesting is too deep");
}

TEST_F(CanonicalJsonTest, IntegersPrintExactlyEvenBeyondTwoToThe53) {
  EXPECT_EQ(Canonical(json(std::int64_t{0})), "0");
  EXPECT_EQ(Canonical(json(std::int64_t{-42})), "-42");
  EXPECT_EQ(Canonical(json(std::uint64_t{9007199254740993})), "9007199254740993");
  EXPECT_EQ(Canonical(json(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(Canonical(json(std::numeric_limits<std::uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(CanonicalOfText("[1, -1, 100]"), "[1,-1,100]");
}

TEST_F(CanonicalJsonTest, FloatsWithIntegralValuesDropTheFraction) {
  EXPECT_EQ(CanonicalOfText("[1.0, -2.0, 1e2, 0.0, -0.0]"), "[1,-2,100,0,0]");
}

TEST_F(CanonicalJsonTest, NumbersInsideDocuments) {
  EXPECT_EQ(CanonicalOfText(R"({"p":0.1,"q":1e21,"r":1e-7,"s":-1.5})"),
            R"({"p":0.1,"q":1e+21,"r":1e-7,"s":-1.5})");
}

TEST(FormatJsonNumberTest, BriefExamples) {
  EXPECT_EQ(FormatJsonNumber(1e21), "1e+21");
  EXPECT_EQ(FormatJsonNumber(1e20), "100000000000000000000");
  EXPECT_EQ(FormatJsonNumber(1e-7), "1e-7");
  EXPECT_EQ(FormatJsonNumber(1.5e-7), "1.5e-7");
  EXPECT_EQ(FormatJsonNumber(0.000001), "0.000001");
  EXPECT_EQ(FormatJsonNumber(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(FormatJsonNumber(5e-324), "5e-324");
  EXPECT_EQ(FormatJsonNumber(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(FormatJsonNumber(4.5), "4.5");
  EXPECT_EQ(FormatJsonNumber(0.002), "0.002");
  EXPECT_EQ(FormatJsonNumber(-0.0), "0");
  EXPECT_EQ(FormatJsonNumber(0.0), "0");
}

TEST(FormatJsonNumberTest, EcmaScriptShapes) {
  EXPECT_EQ(FormatJsonNumber(1), "1");
  EXPECT_EQ(FormatJsonNumber(-1), "-1");
  EXPECT_EQ(FormatJsonNumber(100), "100");
  EXPECT_EQ(FormatJsonNumber(0.1), "0.1");
  EXPECT_EQ(FormatJsonNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatJsonNumber(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(FormatJsonNumber(-1.5), "-1.5");
  EXPECT_EQ(FormatJsonNumber(123.456), "123.456");
  EXPECT_EQ(FormatJsonNumber(1e300), "1e+300");
  EXPECT_EQ(FormatJsonNumber(1.23e-18), "1.23e-18");
  EXPECT_EQ(FormatJsonNumber(-1.23e22), "-1.23e+22");
  EXPECT_EQ(FormatJsonNumber(123456.789e3), "123456789");
  EXPECT_EQ(FormatJsonNumber(2.5e-6), "0.0000025");
  EXPECT_EQ(FormatJsonNumber(2.5e-7), "2.5e-7");
  EXPECT_EQ(FormatJsonNumber(1.25e20), "125000000000000000000");
  EXPECT_EQ(FormatJsonNumber(1.25e21), "1.25e+21");
}

TEST(FormatJsonNumberTest, NonFiniteValuesUseEcmaScriptNames) {
  EXPECT_EQ(FormatJsonNumber(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatJsonNumber(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(FormatJsonNumber(-std::numeric_limits<double>::infinity()), "-Infinity");
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
TEST_F(CanonicalJsonTest, Rfc8785AppendixBNumbers) {
  EXPECT_EQ(Number(0x0000000000000000), "0");
  EXPECT_EQ(Number(0x8000000000000000), "0");
  EXPECT_EQ(Number(0x0000000000000001), "5e-324");
  EXPECT_EQ(Number(0x8000000000000001), "-5e-324");
  EXPECT_EQ(Number(0x7fefffffffffffff), "1.7976931348623157e+308");
  EXPECT_EQ(Number(0xffefffffffffffff), "-1.7976931348623157e+308");
  EXPECT_EQ(Number(0x4340000000000000), "9007199254740992");
  EXPECT_EQ(Number(0xc340000000000000), "-9007199254740992");
  EXPECT_EQ(Number(0x4430000000000000), "295147905179352830000");
  EXPECT_EQ(Number(0x44b52d02c7e14af5), "9.999999999999997e+22");
  EXPECT_EQ(Number(0x44b52d02c7e14af6), "1e+23");
  EXPECT_EQ(Number(0x44b52d02c7e14af7), "1.0000000000000001e+23");
  EXPECT_EQ(Number(0x444b1ae4d6e2ef4e), "999999999999999700000");
  EXPECT_EQ(Number(0x444b1ae4d6e2ef4f), "999999999999999900000");
  EXPECT_EQ(Number(0x444b1ae4d6e2ef50), "1e+21");
  EXPECT_EQ(Number(0x3eb0c6f7a0b5ed8c), "9.999999999999997e-7");
  EXPECT_EQ(Number(0x3eb0c6f7a0b5ed8d), "0.000001");
  EXPECT_EQ(Number(0x41b3de4355555553), "333333333.3333332");
  EXPECT_EQ(Number(0x41b3de4355555554), "333333333.33333325");
  EXPECT_EQ(Number(0x41b3de4355555555), "333333333.3333333");
  EXPECT_EQ(Number(0x41b3de4355555556), "333333333.3333334");
  EXPECT_EQ(Number(0x41b3de4355555557), "333333333.33333343");
  EXPECT_EQ(Number(0xbecbf647612f3696), "-0.0000033333333333333333");
  EXPECT_EQ(Number(0x43143ff3c1cb0959), "1424953923781206.2");
}

TEST_F(CanonicalJsonTest, Rfc8785AppendixBNonFiniteNumbersAreRejected) {
  ExpectInvalid(json(std::bit_cast<double>(std::uint64_t{0x7fffffffffffffff})), "NaN");
  ExpectInvalid(json(std::bit_cast<double>(std::uint64_t{0x7ff0000000000000})), "infinity");
}

TEST_F(CanonicalJsonTest, EqualDocumentsWrittenDifferentlyCanonicalizeEqually) {
  EXPECT_EQ(CanonicalOfText(R"({"b": 2.50, "a": "\u00e9"})"),
            CanonicalOfText("{\"a\":\"\u00e9\",   \"b\":25e-1}"));
}

}  // namespace
}  // namespace truthbook

namespace truthbook {
namespace {

TEST(CanonicalObjectTest, WritesTheBytesCanonicalJsonGives) {
  Result<std::string> inner =
      CanonicalObject().Number("a", 1e21).Null("b").String("c", "é\t\"").Finish();
  ASSERT_TRUE(inner.ok());
  Result<std::string> outer = CanonicalObject()
                                  .Bool("f", false)
                                  .Integer("n", -9007199254740993)
                                  .Canonical("o", *inner)
                                  .OptionalNumber("x", std::optional<double>())
                                  .OptionalString("y", std::optional<std::string>("z"))
                                  .Finish();
  ASSERT_TRUE(outer.ok());
  nlohmann::json doc = {{"f", false},
                        {"n", -9007199254740993},
                        {"o", {{"a", 1e21}, {"b", nullptr}, {"c", "é\t\""}}},
                        {"x", nullptr},
                        {"y", "z"}};
  EXPECT_EQ(*outer, CanonicalJson(doc).value());
}

TEST(CanonicalObjectTest, KeysOutOfOrderAreRefusedNamingTheKey) {
  Result<std::string> r = CanonicalObject().Null("b").Null("a").Finish();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "a: key out of canonical order or not ASCII");
  EXPECT_EQ(CanonicalObject().Null("a").Null("a").Finish().status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CanonicalObjectTest, InvalidUtf8AndNonFiniteNumbersAreRefused) {
  EXPECT_EQ(CanonicalObject().String("s", "\xff").Finish().status().message(),
            "s: not valid UTF-8");
  EXPECT_EQ(CanonicalObject().Number("x", INFINITY).Finish().status().message(),
            "x: not a finite number");
}

}  // namespace
}  // namespace truthbook
