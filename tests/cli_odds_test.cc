// Black-box tests of `truthbook odds convert` and `truthbook odds devig`: run the real binary
// (TRUTHBOOK_BIN) through popen and check its exit code and its --json document.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#ifndef TRUTHBOOK_BIN
#error "define TRUTHBOOK_BIN as the path of the truthbook binary"
#endif

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout only; stderr is discarded
};

class CliOddsTest : public ::testing::Test {
 protected:
  // Runs `truthbook <args>` (args already shell-safe) and collects stdout and the exit code.
  static CommandResult Run(const std::string& args) {
    const std::string command = std::string(TRUTHBOOK_BIN) + " " + args + " 2>/dev/null";
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

  // The JSON document printed by a successful `truthbook <args>`.
  static nlohmann::json RunJson(const std::string& args) {
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << args;
    nlohmann::json json = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << "not JSON: " << result.out;
    return json;
  }

  static void ExpectEveryFormat(const nlohmann::json& json) {
    for (const char* key :
         {"american", "decimal", "fractional", "hk", "malay", "indonesian", "implied"}) {
      EXPECT_TRUE(json.contains(key)) << key << " missing from " << json.dump();
    }
    EXPECT_EQ(json.size(), 7u) << json.dump();
  }
};

TEST_F(CliOddsTest, ConvertNegativeAmerican) {
  const nlohmann::json json = RunJson("odds convert --from american -110 --json");
  ExpectEveryFormat(json);
  EXPECT_EQ(json.at("american").get<double>(), -110);
  EXPECT_NEAR(json.at("decimal").get<double>(), 1 + 100.0 / 110, 1e-12);
  EXPECT_EQ(json.at("fractional").get<std::string>(), "10/11");
  EXPECT_NEAR(json.at("hk").get<double>(), 100.0 / 110, 1e-12);
  EXPECT_NEAR(json.at("malay").get<double>(), 100.0 / 110, 1e-12);
  EXPECT_NEAR(json.at("indonesian").get<double>(), -1.1, 1e-12);
  EXPECT_NEAR(json.at("implied").get<double>(), 110.0 / 210, 1e-12);
}

TEST_F(CliOddsTest, ConvertDecimal) {
  const nlohmann::json json = RunJson("odds convert --json --from decimal 2.5");
  ExpectEveryFormat(json);
  EXPECT_NEAR(json.at("american").get<double>(), 150, 1e-12);
  EXPECT_EQ(json.at("fractional").get<std::string>(), "3/2");
  EXPECT_NEAR(json.at("hk").get<double>(), 1.5, 1e-12);
  EXPECT_NEAR(json.at("malay").get<double>(), -2.0 / 3, 1e-12);
  EXPECT_NEAR(json.at("indonesian").get<double>(), 1.5, 1e-12);
  EXPECT_NEAR(json.at("implied").get<double>(), 0.4, 1e-12);
}

TEST_F(CliOddsTest, ConvertFractional) {
  const nlohmann::json json = RunJson("odds convert --from fractional 6/4 --json");
  ExpectEveryFormat(json);
  EXPECT_NEAR(json.at("decimal").get<double>(), 2.5, 1e-12);
  EXPECT_NEAR(json.at("american").get<double>(), 150, 1e-12);
  EXPECT_EQ(json.at("fractional").get<std::string>(), "6/4");
}

TEST_F(CliOddsTest, ConvertPrintsEveryFormatAsText) {
  CommandResult result = Run("odds convert --from american -110");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* label :
       {"american", "decimal", "fractional", "hk", "malay", "indonesian", "implied"}) {
    EXPECT_NE(result.out.find(label), std::string::npos) << label << " in " << result.out;
  }
}

TEST_F(CliOddsTest, DevigShinThreeWay) {
  const nlohmann::json json = RunJson("odds devig --method shin --json 2.7 2.3 4.4");
  EXPECT_EQ(json.at("method").get<std::string>(), "shin");
  // The high-precision solve in ../shared/reference/odds.json.
  const std::vector<double> fair = json.at("fair").get<std::vector<double>>();
  const std::vector<double> expected = {0.3593439196, 0.4232438482, 0.2174122322};
  ASSERT_EQ(fair.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(fair[i], expected[i], 1e-9) << i;
  EXPECT_NEAR(json.at("param").get<double>(), 0.0162364428568, 1e-9);
  EXPECT_NEAR(json.at("overround").get<double>(), 1 / 2.7 + 1 / 2.3 + 1 / 4.4 - 1, 1e-12);
}

TEST_F(CliOddsTest, DevigMultiplicativeHasNullParam) {
  const nlohmann::json json = RunJson("odds devig --method multiplicative --json 2 2");
  EXPECT_TRUE(json.at("param").is_null());
  EXPECT_EQ(json.at("fair").get<std::vector<double>>(), (std::vector<double>{0.5, 0.5}));
}

TEST_F(CliOddsTest, BadInputExitsTwoWithNothingOnStdout) {
  for (const char* args :
       {"odds convert --from american -50 --json", "odds convert --from moneyline 2.5",
        "odds convert --from decimal abc", "odds devig --method shin --json 2.7",
        "odds devig --method shin 2 1", "odds devig --method nope 2 2", "odds devig 2 2"}) {
    SCOPED_TRACE(args);
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
  }
}

}  // namespace
