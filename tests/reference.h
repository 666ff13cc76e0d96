// Loads the public known answers in ../shared/reference/ for GoogleTest tests.
// The build passes the folder as TRUTHBOOK_REFERENCE_DIR (a string literal). A missing folder
// means "skip"; a folder that is there but holds a missing or broken file is a test failure,
// so a damaged reference can never pass silently. Test-only; call from the test thread.
//
// Usage, in a fixture (or a test body):
//   void SetUp() override { LOAD_REFERENCE_OR_SKIP(odds_, "odds.json"); }
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#ifndef TRUTHBOOK_REFERENCE_DIR
#error \
    "define TRUTHBOOK_REFERENCE_DIR as the reference folder, e.g. -DTRUTHBOOK_REFERENCE_DIR='\"/work/shared/reference\"'"
#endif

// Not truthbook::testing: that would hide ::testing inside namespace truthbook.
namespace truthbook::test_support {

inline constexpr std::string_view kReferenceDir = TRUTHBOOK_REFERENCE_DIR;

inline constexpr std::string_view kReferenceSkipMessage =
    "reference folder " TRUTHBOOK_REFERENCE_DIR
    " not found; skipping the known-answer vectors (see ../shared/reference/README.md)";

// The parsed `file_name` from the reference folder; nullopt when the folder is absent (the
// caller then GTEST_SKIPs). A missing or unparsable file in a present folder records a
// failure (ADD_FAILURE) and also returns nullopt.
inline std::optional<nlohmann::json> LoadReference(std::string_view file_name) {
  const std::filesystem::path dir(kReferenceDir);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  const std::filesystem::path path = dir / file_name;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "reference file " << path << " cannot be opened";
    return std::nullopt;
  }
  nlohmann::json json = nlohmann::json::parse(in, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    ADD_FAILURE() << "reference file " << path << " is not valid JSON";
    return std::nullopt;
  }
  return json;
}

}  // namespace truthbook::test_support

// Loads reference file `file_name` into the nlohmann::json `target`, or ends the test: skipped
// when the reference folder is absent, failed (fatally, so a test body after SetUp does not
// run) when the file is missing or broken. Use in SetUp() or a test body.
#define LOAD_REFERENCE_OR_SKIP(target, file_name)                                            \
  do {                                                                                       \
    std::optional<nlohmann::json> tb_reference_ =                                            \
        ::truthbook::test_support::LoadReference(file_name);                                 \
    if (!tb_reference_) {                                                                    \
      ASSERT_FALSE(::testing::Test::HasFailure()) << "cannot use reference " << (file_name); \
      GTEST_SKIP() << ::truthbook::test_support::kReferenceSkipMessage;                      \
    }                                                                                        \
    (target) = std::move(*tb_reference_);                                                    \
  } while (0)
