// The `truthbook odds` tools: convert one price to every format, and de-vig a market. Each
// prints its answer to stdout (text, or one JSON document with `json`) and returns the exit
// code: 0, or kUsageError after an "error: ..." line on stderr for bad input.
// Thread-compatible (writes to std::cout/std::cerr).
#pragma once

#include <string>
#include <vector>

namespace truthbook::cli {

// Exit code for bad input (flags or values), as for a CLI11 usage error.
inline constexpr int kUsageError = 2;

// Prints `message` as an error and returns kUsageError.
int UsageError(const std::string& message);

// `truthbook odds convert --from FORMAT VALUE [--json]`.
int OddsConvert(const std::string& from, const std::string& value, bool json);

// `truthbook odds devig --method METHOD [--json] D1 D2 [D3...]`.
int OddsDevig(const std::string& method_name, const std::vector<std::string>& prices, bool json);

}  // namespace truthbook::cli
