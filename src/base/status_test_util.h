// Test helpers for Status and Result<T> (test code only: includes GoogleTest).
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "base/status.h"

// ASSERT_OK(expr) / EXPECT_OK(expr): `expr` (a Status or Result) is OK; otherwise the failure
// prints its code and message.
#ifndef ASSERT_OK
#define ASSERT_OK(expr) ASSERT_EQ(::truthbook::internal::AsStatus(expr).ToString(), "OK")
#endif
#ifndef EXPECT_OK
#define EXPECT_OK(expr) EXPECT_EQ(::truthbook::internal::AsStatus(expr).ToString(), "OK")
#endif

namespace truthbook {

// `result` failed with InvalidArgument and exactly `message` (which names the field).
template <typename T>
void ExpectInvalid(const Result<T>& result, std::string_view message) {
  ASSERT_FALSE(result.ok()) << "expected the error \"" << message << "\", got a value";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_EQ(result.status().message(), message);
}

}  // namespace truthbook
