// Domain checks shared by the services: markets and their selections, prices, probabilities
// and required text. Each error is InvalidArgument naming the field path it was given.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "odds/price.h"
#include "service/requests.h"

namespace truthbook::service {

// OK when `value` is non-empty and at most 200 bytes.
Status RequireText(std::string_view field, std::string_view value);

// OK when `market` is one of API.md's markets.
Status ValidateMarket(std::string_view field, std::string_view market);

// OK when `selection` is valid for `market`, `line` is present exactly where the market needs
// one (spread, total, team_total, player_prop) and is finite and a multiple of 0.25 (of 0.5 for
// player_prop).
// REQUIRES: ValidateMarket(market) is OK.
Status ValidateSelection(std::string_view field, std::string_view market,
                         std::string_view selection, const std::optional<double>& line);

// The group a quote of `market` is de-vigged in: the two sides of a team total are one
// market per team ("home", "away"); every other market's quotes form one group ("").
std::string DevigGroup(std::string_view market, std::string_view selection);

// OK when 0 < p < 1.
Status ValidateProbability(std::string_view field, double p);

// The normalized price of `price` (exactly one of american or decimal must be set).
Result<odds::Price> NormalizePrice(std::string_view field, const PriceInput& price);

}  // namespace truthbook::service
