#include "base/sha256.h"

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include <cstdio>
#include <cstdlib>

namespace truthbook {
namespace {

const EVP_MD* Sha256Md() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  // OpenSSL 3 looks the algorithm up in the provider store on every call when given
  // EVP_sha256(); fetching once avoids that lock-protected lookup per hash. Never freed:
  // it lives as long as the process.
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (fetched != nullptr) return fetched;
#endif
  return EVP_sha256();
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest digest;
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, Sha256Md(), nullptr) != 1 ||
      length != digest.size()) {
    std::fputs("truthbook: OpenSSL failed to compute SHA-256\n", stderr);
    std::abort();
  }
  return digest;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    out.push_back(kHexDigits[byte >> 4]);
    out.push_back(kHexDigits[byte & 0x0f]);
  }
  return out;
}

}  // namespace truthbook
