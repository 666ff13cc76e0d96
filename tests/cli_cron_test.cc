// Black-box tests of `truthbook cron next`: run the real binary (TRUTHBOOK_BIN) through popen
// and check its exit code, its text and --json output, and its error message on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/time.h"

#ifndef TRUTHBOOK_BIN
#error "define TRUTHBOOK_BIN as the path of the truthbook binary"
#endif

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout, or stderr when asked for
};

class CliCronTest : public ::testing::Test {
 protected:
  // Runs `truthbook <args>` (args already shell-safe) and collects the exit code and stdout,
  // or stderr instead when `stderr_only`.
  static CommandResult Run(const std::string& args, bool stderr_only = false) {
    const std::string command = std::string(TRUTHBOOK_BIN) + " " + args +
                                (stderr_only ? " 2>&1 >/dev/null" : " 2>/dev/null");
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << command;
      return result;
    }
    std::array<char, 4096> buffer{};
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      result.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

  // The lines printed by a successful `truthbook <args>`.
  static std::vector<std::string> RunLines(const std::string& args) {
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << args;
    std::vector<std::string> lines;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

TEST_F(CliCronTest, JsonIsTheApiShape) {
  CommandResult result = Run("cron next '0 3 * * 0' --from 2026-11-26T00:00:00Z --count 3 --json");
  ASSERT_EQ(result.exit_code, 0);
  const nlohmann::json json =
      nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << "not JSON: " << result.out;
  EXPECT_EQ(json, nlohmann::json::parse(R"({"expr": "0 3 * * 0", "next": ["2026-11-29T03:00:00Z",
      "2026-12-06T03:00:00Z", "2026-12-13T03:00:00Z"]})"));
}

TEST_F(CliCronTest, TextPrintsFiveTimesByDefault) {
  EXPECT_EQ(RunLines("cron next '0 4 * * *' --from 2026-12-30T12:00:00Z"),
            (std::vector<std::string>{"2026-12-31T04:00:00Z", "2027-01-01T04:00:00Z",
                                      "2027-01-02T04:00:00Z", "2027-01-03T04:00:00Z",
                                      "2027-01-04T04:00:00Z"}));
}

TEST_F(CliCronTest, SecondsFieldAndOffsetInFrom) {
  // 2026-11-29T04:00:00+01:00 is 03:00 UTC, a fire time of the five-field default, so the
  // six-field schedule at second 30 fires half a minute later.
  EXPECT_EQ(RunLines("cron next '30 0 3 * * SUN' --from 2026-11-29T04:00:00+01:00 --count 2"),
            (std::vector<std::string>{"2026-11-29T03:00:30Z", "2026-12-06T03:00:30Z"}));
}

TEST_F(CliCronTest, FromDefaultsToNow) {
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const std::vector<std::string> lines = RunLines("cron next '* * * * * *' --count 1");
  const auto after = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  ASSERT_EQ(lines.size(), 1u);
  truthbook::Result<truthbook::TimePoint> next = truthbook::ParseRfc3339(lines[0]);
  ASSERT_TRUE(next.ok()) << lines[0];
  EXPECT_GE(*next, before + std::chrono::seconds(1));
  EXPECT_LE(*next, after + std::chrono::seconds(1));
}

TEST_F(CliCronTest, BadInputExitsTwoWithNothingOnStdout) {
  for (const char* args :
       {"cron next '0 24 * * *'", "cron next '0 3 * *'", "cron next '0 0 30 2 *' --json",
        "cron next '0 3 * * 0' --from 2026-11-26", "cron next '0 3 * * 0' --from tomorrow",
        "cron next '0 3 * * 0' --count 0", "cron next '0 3 * * 0' --count 1001", "cron next",
        "cron"}) {
    SCOPED_TRACE(args);
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(CliCronTest, ErrorsNameTheFieldAndToken) {
  CommandResult bad_expr = Run("cron next '0 24 * * *'", /*stderr_only=*/true);
  EXPECT_EQ(bad_expr.exit_code, 2);
  EXPECT_EQ(bad_expr.out, "error: EXPR \"0 24 * * *\": hour: 24 is out of range 0-23\n");
  CommandResult bad_from = Run("cron next '0 3 * * 0' --from 2026-11-26", /*stderr_only=*/true);
  EXPECT_EQ(bad_from.exit_code, 2);
  EXPECT_NE(bad_from.out.find("error: --from: expected RFC 3339 time like"), std::string::npos)
      << bad_from.out;
}

}  // namespace
