#include "cli/odds_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "odds/devig.h"
#include "odds/quote.h"

namespace truthbook::cli {

int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return kUsageError;
}

int OddsConvert(const std::string& from, const std::string& value, bool json) {
  auto format = odds::ParseOddsFormat(from);
  if (!format.ok()) return UsageError("--from: " + format.status().message());
  auto quote = odds::QuoteFromText(*format, value);
  if (!quote.ok()) return UsageError("VALUE " + value + ": " + quote.status().message());
  if (json) {
    nlohmann::json out = {{"american", quote->american},     {"decimal", quote->decimal},
                          {"fractional", quote->fractional}, {"hk", quote->hk},
                          {"malay", quote->malay},           {"indonesian", quote->indonesian},
                          {"implied", quote->implied}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << fmt::format("american    {:+}\n", quote->american)
            << fmt::format("decimal     {}\n", quote->decimal)
            << fmt::format("fractional  {}\n", quote->fractional)
            << fmt::format("hk          {}\n", quote->hk)
            << fmt::format("malay       {}\n", quote->malay)
            << fmt::format("indonesian  {}\n", quote->indonesian)
            << fmt::format("implied     {}\n", quote->implied);
  return 0;
}

int OddsDevig(const std::string& method_name, const std::vector<std::string>& prices, bool json) {
  auto method = odds::ParseDevigMethod(method_name);
  if (!method.ok()) return UsageError("--method: " + method.status().message());
  std::vector<double> decimals;
  for (size_t i = 0; i < prices.size(); ++i) {
    auto quote = odds::QuoteFromText(odds::OddsFormat::kDecimal, prices[i]);
    if (!quote.ok()) {
      return UsageError("prices[" + std::to_string(i) + "]: " + quote.status().message());
    }
    decimals.push_back(quote->decimal);
  }
  auto result = odds::Devig(decimals, *method);
  if (!result.ok()) return UsageError(result.status().message());
  if (json) {
    nlohmann::json out = {{"method", method_name},
                          {"fair", result->fair},
                          {"param", nullptr},
                          {"overround", result->overround}};
    if (result->param) out["param"] = *result->param;
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "method     " << method_name << "\n";
  for (size_t i = 0; i < result->fair.size(); ++i) {
    std::cout << fmt::format("fair[{}]    {}\n", i, result->fair[i]);
  }
  std::cout << "param      "
            << (result->param
                    ? fmt::format("{} = {}", odds::DevigParamName(*method), *result->param)
                    : "none")
            << "\n"
            << fmt::format("overround  {}\n", result->overround);
  return 0;
}

}  // namespace truthbook::cli
