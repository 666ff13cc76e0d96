#include "base/uuid.h"

#include <algorithm>
#include <array>

namespace truthbook {
namespace {

constexpr std::int64_t kMaxTimestampMs = (std::int64_t{1} << 48) - 1;
constexpr std::uint16_t kMaxCounter = 0x0fff;  // rand_a is 12 bits
// A fresh counter starts with its top bit clear, leaving at least 2048 increments before it
// rolls over within one millisecond (RFC 9562 §6.2 "counter rollover guards").
constexpr std::uint16_t kCounterSeedMask = 0x07ff;

std::mt19937_64 SeededEngine() {
  std::random_device device;
  std::array<std::uint32_t, 8> seed_words;
  for (auto& word : seed_words) word = device();
  std::seed_seq seed(seed_words.begin(), seed_words.end());
  return std::mt19937_64(seed);
}

}  // namespace

UuidV7Generator::UuidV7Generator(const Clock& clock) : clock_(clock), random_(SeededEngine()) {}

std::string UuidV7Generator::Next() {
  std::array<std::uint8_t, 16> bytes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::int64_t now_ms =
        std::clamp<std::int64_t>(clock_.Now().time_since_epoch().count(), 0, kMaxTimestampMs);
    if (now_ms > last_ms_) {
      last_ms_ = now_ms;
      counter_ = static_cast<std::uint16_t>(random_() & kCounterSeedMask);
    } else if (counter_ < kMaxCounter) {
      ++counter_;
    } else {
      // Counter exhausted within this millisecond: borrow the next one. At the very end of
      // the 48-bit range the timestamp cannot grow and uniqueness rests on rand_b alone.
      if (last_ms_ < kMaxTimestampMs) ++last_ms_;
      counter_ = static_cast<std::uint16_t>(random_() & kCounterSeedMask);
    }
    const auto timestamp = static_cast<std::uint64_t>(last_ms_);
    for (int i = 0; i < 6; ++i) {
      bytes[i] = static_cast<std::uint8_t>(timestamp >> (8 * (5 - i)));
    }
    bytes[6] = static_cast<std::uint8_t>(0x70 | (counter_ >> 8));  // version 7
    bytes[7] = static_cast<std::uint8_t>(counter_ & 0xff);
    const std::uint64_t rand_b = random_();
    for (int i = 8; i < 16; ++i) {
      bytes[i] = static_cast<std::uint8_t>(rand_b >> (8 * (15 - i)));
    }
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10
  }

  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0x0f]);
  }
  return out;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace truthbook
