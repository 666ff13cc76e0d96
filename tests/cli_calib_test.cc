// Black-box tests of `truthbook calib fit|apply|metrics`: run the real binary (TRUTHBOOK_BIN)
// with a CSV on stdin, and check its exit code, its --json document and the model file it
// writes. Known answers are the sports20 set of ../shared/reference/calibration.json.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "reference.h"

#ifndef TRUTHBOOK_BIN
#error "define TRUTHBOOK_BIN as the path of the truthbook binary"
#endif

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout only; stderr is discarded
};

class CliCalibTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cli-calib-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `text` to a file and runs `truthbook <args> < file`.
  CommandResult Run(const std::string& args, const std::string& stdin_text) {
    const std::string input = Path("stdin.txt");
    std::ofstream(input, std::ios::binary) << stdin_text;
    const std::string command =
        std::string(TRUTHBOOK_BIN) + " " + args + " < " + input + " 2>/dev/null";
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << command;
      return result;
    }
    std::array<char, 4096> buffer{};
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
      result.out.append(buffer.data(), n);
    }
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

  nlohmann::json RunJson(const std::string& args, const std::string& stdin_text) {
    CommandResult result = Run(args, stdin_text);
    EXPECT_EQ(result.exit_code, 0) << args;
    nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << "not JSON: " << result.out;
    return json;
  }

  // sports20 as `p,y` lines.
  static std::string Sports20Csv(const nlohmann::json& reference) {
    const nlohmann::json& s = reference.at("sports20");
    std::ostringstream csv;
    for (size_t i = 0; i < s.at("p").size(); ++i) {
      csv << s["p"][i].get<double>() << "," << s["y"][i].get<int>() << "\n";
    }
    return csv.str();
  }

  std::filesystem::path dir_;
};

TEST_F(CliCalibTest, MetricsJsonHasApiMdShapeAndTheReferenceEce) {
  nlohmann::json reference;
  LOAD_REFERENCE_OR_SKIP(reference, "calibration.json");
  nlohmann::json m = RunJson("calib metrics --bins 10 --json", Sports20Csv(reference));
  for (const char* key : {"n", "ece", "mce", "ace", "brier", "reliability_term", "resolution_term",
                          "uncertainty_term", "log_loss", "bins"}) {
    EXPECT_TRUE(m.contains(key)) << key << " missing from " << m.dump();
  }
  EXPECT_EQ(m["n"], 20);
  EXPECT_NEAR(m["ece"].get<double>(),
              reference["segments_and_gates"]["in_sample_isotonic"]["ece_before"].get<double>(),
              1e-12);
  int64_t counted = 0;
  for (const nlohmann::json& bin : m["bins"]) {
    for (const char* key : {"lo", "hi", "mean_p", "hit_rate", "count"}) {
      EXPECT_TRUE(bin.contains(key)) << key;
    }
    counted += bin["count"].get<int64_t>();
  }
  EXPECT_EQ(counted, 20);
}

TEST_F(CliCalibTest, FitWritesAModelThatApplyUsesAndInSampleIsotonicIsPerfect) {
  nlohmann::json reference;
  LOAD_REFERENCE_OR_SKIP(reference, "calibration.json");
  const std::string model = Path("model.json");
  nlohmann::json fit =
      RunJson("calib fit --method isotonic --json --out " + model, Sports20Csv(reference));
  EXPECT_NEAR(fit["held_in_after"]["ece"].get<double>(), 0, 1e-12);  // in-sample by construction
  ASSERT_TRUE(std::filesystem::exists(model));

  CommandResult applied = Run("calib apply --model " + model, "0.05\n0.5\n1\n");
  ASSERT_EQ(applied.exit_code, 0);
  EXPECT_EQ(applied.out, "0\n0.5\n1\n");
}

TEST_F(CliCalibTest, EveryMethodFitsWithWeights) {
  for (const char* method : {"isotonic", "platt", "temperature", "beta"}) {
    SCOPED_TRACE(method);
    CommandResult r =
        Run(std::string("calib fit --weights --method ") + method + " --out " + Path("m.json"),
            "0.2,0,1\n0.4,1,2\n0.6,0,1\n0.8,1,3\n0.3,0,1\n0.7,1,1\n");
    EXPECT_EQ(r.exit_code, 0);
  }
}

TEST_F(CliCalibTest, BadInputExitsWithTheUsageCode) {
  const std::string out = " --out " + Path("m.json");
  EXPECT_EQ(Run("calib fit --method histogram" + out, "0.5,1\n").exit_code, 2);
  EXPECT_EQ(Run("calib fit --method isotonic" + out, "0.5,1,2\n").exit_code, 2);  // no --weights
  EXPECT_EQ(Run("calib fit --method isotonic" + out, "half,1\n").exit_code, 2);
  EXPECT_EQ(Run("calib fit --method isotonic" + out, "1.5,1\n").exit_code, 2);
  EXPECT_EQ(Run("calib apply --model " + Path("missing.json"), "0.5\n").exit_code, 2);
  EXPECT_EQ(Run("calib metrics --bins 0", "0.5,1\n").exit_code, 2);
  EXPECT_EQ(Run("calib metrics", "0.5,1\n0.5,1,1\n").exit_code, 2);  // mixed columns
}

TEST_F(CliCalibTest, ApplyRefusesAProbabilityOutsideTheUnitInterval) {
  const std::string model = Path("model.json");
  ASSERT_EQ(
      Run("calib fit --method platt --out " + model, "0.2,0\n0.8,1\n0.6,1\n0.3,0\n").exit_code, 0);
  EXPECT_EQ(Run("calib apply --model " + model, "1.5\n").exit_code, 2);
}

}  // namespace
