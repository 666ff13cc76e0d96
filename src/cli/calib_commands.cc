#include "cli/calib_commands.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "base/canonical_json.h"
#include "calibration/calibrator.h"
#include "calibration/metrics.h"
#include "cli/odds_commands.h"

namespace truthbook::cli {
namespace {

struct Csv {
  std::vector<double> p;
  std::vector<double> y;
  std::vector<double> w;  // empty without weights
};

Result<double> ParseNumber(std::string_view text, const std::string& where) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument(where + ": not a number: \"" + std::string(text) + "\"");
  }
  return value;
}

// Reads `p,y` lines (`p,y,w` with weights; nullopt: as the first line has it, for every line).
// Blank lines are skipped.
Result<Csv> ReadCsv(std::istream& in, std::optional<bool> with_weights) {
  Csv csv;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    std::vector<std::string_view> cells;
    std::string_view rest(line);
    for (size_t comma; (comma = rest.find(',')) != std::string_view::npos;) {
      cells.push_back(rest.substr(0, comma));
      rest.remove_prefix(comma + 1);
    }
    cells.push_back(rest);
    const std::string where = "line " + std::to_string(number);
    if (!with_weights) with_weights = cells.size() == 3;
    const bool weights = *with_weights;
    if (cells.size() != (weights ? 3u : 2u)) {
      return InvalidArgument(where + ": expected " + (weights ? "p,y,w" : "p,y") + ", got " +
                             std::to_string(cells.size()) + " columns" +
                             (cells.size() == 3 && !weights ? " (pass --weights)" : ""));
    }
    ASSIGN_OR_RETURN(double p, ParseNumber(cells[0], where + " p"));
    ASSIGN_OR_RETURN(double y, ParseNumber(cells[1], where + " y"));
    csv.p.push_back(p);
    csv.y.push_back(y);
    if (weights) {
      ASSIGN_OR_RETURN(double w, ParseNumber(cells[2], where + " w"));
      csv.w.push_back(w);
    }
  }
  return csv;
}

void PrintMetrics(const calibration::MetricsReport& m) {
  std::cout << fmt::format(
      "n {}  ece {:.6f}  mce {:.6f}  ace {:.6f}\nbrier {:.6f} = reliability {:.6f} - "
      "resolution {:.6f} + uncertainty {:.6f}\nlog_loss {:.6f}\n",
      m.n, m.ece, m.mce, m.ace, m.brier, m.decomposition.reliability, m.decomposition.resolution,
      m.decomposition.uncertainty, m.log_loss);
  std::cout << "bin            mean_p   hit_rate  count\n";
  for (const calibration::ReliabilityBin& b : m.bins) {
    std::cout << fmt::format("({:.3f}, {:.3f}]  {:.6f}  {:.6f}  {}\n", b.lo, b.hi, b.mean_p,
                             b.hit_rate, b.count);
  }
}

}  // namespace

int CalibFit(std::istream& in, const std::string& method_name, bool weights, const std::string& out,
             bool json) {
  auto method = calibration::ParseMethod(method_name);
  if (!method.ok()) return UsageError("--method: " + method.status().message());
  auto csv = ReadCsv(in, weights);
  if (!csv.ok()) return UsageError("stdin: " + csv.status().message());
  auto calibrator = calibration::Fit(*method, csv->p, csv->y, csv->w);
  if (!calibrator.ok()) return UsageError(calibrator.status().message());
  std::vector<double> fitted(csv->p.size());
  (*calibrator)->ApplyAll(csv->p, fitted);
  auto before = calibration::ComputeMetrics(csv->p, csv->y, csv->w);
  auto after = calibration::ComputeMetrics(fitted, csv->y, csv->w);
  if (!before.ok() || !after.ok()) {
    return UsageError((before.ok() ? after.status() : before.status()).message());
  }
  auto model = CanonicalJson(calibration::ToJson(**calibrator));
  if (!model.ok()) return UsageError(model.status().message());
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << *model << "\n";
  if (!file.good()) return UsageError("--out: cannot write " + out);
  if (json) {
    std::cout << nlohmann::json{{"method", method_name},
                                {"model", out},
                                {"held_in_before", calibration::ToJson(*before)},
                                {"held_in_after", calibration::ToJson(*after)}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << "wrote " << out << " (" << method_name << ")\n-- before (raw p)\n";
  PrintMetrics(*before);
  std::cout << "-- after (held in: fitted and scored on the same rows)\n";
  PrintMetrics(*after);
  return 0;
}

int CalibApply(std::istream& in, const std::string& model) {
  std::ifstream file(model, std::ios::binary);
  if (!file) return UsageError("--model: cannot read " + model);
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return UsageError("--model: " + model + " is not JSON");
  auto calibrator = calibration::FromJson(doc);
  if (!calibrator.ok()) return UsageError("--model: " + calibrator.status().message());
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    auto p = ParseNumber(line, "line " + std::to_string(number));
    if (!p.ok()) return UsageError("stdin: " + p.status().message());
    if (!(*p >= 0 && *p <= 1)) {
      return UsageError("stdin: line " + std::to_string(number) + ": p must be in [0, 1]");
    }
    std::cout << FormatJsonNumber((*calibrator)->Apply(*p)) << "\n";
  }
  return 0;
}

int CalibMetrics(std::istream& in, int bins, bool adaptive, bool json) {
  auto csv = ReadCsv(in, std::nullopt);
  if (!csv.ok()) return UsageError("stdin: " + csv.status().message());
  auto report = calibration::ComputeMetrics(csv->p, csv->y, csv->w, {bins, adaptive});
  if (!report.ok()) return UsageError(report.status().message());
  if (json) {
    std::cout << calibration::ToJson(*report).dump() << "\n";
  } else {
    PrintMetrics(*report);
  }
  return 0;
}

}  // namespace truthbook::cli
