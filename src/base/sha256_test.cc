#include "base/sha256.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace truthbook {
namespace {

// FIPS 180-2 / NIST CSRC example vectors.
TEST(Sha256Test, NistAbc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, NistEmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Nist448BitMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, NistOneMillionAs) {
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, HashesEmbeddedNulBytes) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256Hex(with_nul), Sha256Hex("a"));
  EXPECT_EQ(Sha256Hex(with_nul), Sha256Hex(std::string("a\0b", 3)));
}

TEST(Sha256Test, RawDigestMatchesHex) {
  const std::array<std::uint8_t, 32> digest = Sha256("abc");
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[31], 0xad);
  EXPECT_EQ(HexEncode(digest), Sha256Hex("abc"));
}

TEST(HexEncodeTest, EncodesLowercaseTwoDigitsPerByte) {
  const std::array<std::uint8_t, 5> bytes = {0x00, 0x0f, 0xa0, 0xff, 0x5c};
  EXPECT_EQ(HexEncode(bytes), "000fa0ff5c");
}

TEST(HexEncodeTest, EmptyInputGivesEmptyString) {
  EXPECT_EQ(HexEncode(std::span<const std::uint8_t>()), "");
}

}  // namespace
}  // namespace truthbook
