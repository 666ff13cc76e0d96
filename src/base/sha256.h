// SHA-256 digests (FIPS 180-4) through OpenSSL's EVP interface, and lowercase hex encoding.
// Used to fingerprint canonical JSON bodies (idempotency keys, ledger hash chain).
// Free functions without mutable shared state; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace truthbook {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Returns the SHA-256 digest of `data`. Cannot fail for any input; if libcrypto itself is
// unusable (out of memory, broken provider configuration) the process aborts, because a
// missing hash is not something any caller could recover from.
Sha256Digest Sha256(std::string_view data);

// Returns the SHA-256 digest of `data` as 64 lowercase hex characters. Same failure
// behaviour as Sha256().
std::string Sha256Hex(std::string_view data);

// Returns `bytes` as lowercase hex, two characters per byte ("" for no bytes). Never fails.
std::string HexEncode(std::span<const std::uint8_t> bytes);

}  // namespace truthbook
