// The `truthbook calib` tools: fit a calibrator from CSV on stdin, apply a saved one, and
// print calibration metrics (API.md "Command-line tools"). Each prints its answer to stdout and
// returns the exit code: 0, or kUsageError after an "error: ..." line on stderr for bad input.
// Thread-compatible (reads std::cin, writes std::cout/std::cerr).
#pragma once

#include <istream>
#include <string>

namespace truthbook::cli {

// `truthbook calib fit --method M [--weights] --out MODEL.json [--json]`: reads `p,y[,w]`
// lines (no header), writes the model and prints its held-in metrics before and after.
int CalibFit(std::istream& in, const std::string& method, bool weights, const std::string& out,
             bool json);

// `truthbook calib apply --model MODEL.json`: one p per line in, one calibrated p per line
// out (shortest round-trip decimal).
int CalibApply(std::istream& in, const std::string& model);

// `truthbook calib metrics --bins B [--adaptive] [--json]`: reads `p,y[,w]` lines.
int CalibMetrics(std::istream& in, int bins, bool adaptive, bool json);

}  // namespace truthbook::cli
