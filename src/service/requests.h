// Typed requests the services accept. The API decodes JSON into these (type and presence
// checks); the services check domain rules (ranges, odds, references). Field names follow
// API.md so error messages can name them. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"

namespace truthbook::service {

// A price as sent: exactly one of the two forms.
struct PriceInput {
  std::optional<double> american;
  std::optional<double> decimal;
};

struct EventRequest {
  std::string event_id;
  std::string sport;
  std::string league;
  std::string season;
  std::string home_team;
  std::string away_team;
  TimePoint start_time;
  std::string status = "scheduled";
};

struct QuoteInput {
  std::string selection;
  std::optional<double> line;
  PriceInput price;
};

struct CaptureSnapshotRequest {
  std::string event_id;
  std::string book;
  std::string market;
  std::optional<std::string> player;  // player_prop only
  std::optional<std::string> stat;    // player_prop only
  TimePoint captured_at;
  std::vector<QuoteInput> quotes;
  std::string raw_canonical;  // canonical JSON of the provider payload ("null" when absent)
  std::string body;           // the request body exactly as received
};

struct InjuryPlayer {
  std::string player;
  std::string status;
};

struct CaptureInjuryRequest {
  std::string event_id;
  std::string team;
  std::string source;
  TimePoint captured_at;
  std::vector<InjuryPlayer> players;
  std::string raw_canonical;
  std::string body;
};

struct SimRunInputRequest {
  std::string kind;  // odds_snapshot | injury_snapshot
  std::string snapshot_id;
};

struct PredictionRequest {
  std::string event_id;
  std::string market;
  std::string selection;
  std::optional<double> line;
  std::optional<std::string> player;
  std::optional<std::string> stat;
  PriceInput price;
  std::string book;
  double raw_prob = 0;
  std::optional<double> calibrated_prob;
  std::optional<double> edge;
  std::string tier;
  double stake_units = 1.0;
};

struct SimRunRequest {
  std::string trigger;
  std::string model_version;
  std::string feature_set_version;
  std::string decision_policy_version;
  std::string git_sha;
  bool code_dirty = false;
  int64_t n_sims = 0;
  int64_t rng_seed = 0;
  std::string params_canonical = "{}";
  TimePoint started_at;
  TimePoint finished_at;
  std::vector<SimRunInputRequest> inputs;
  std::vector<PredictionRequest> predictions;
};

struct PublishRequest {
  std::string prediction_id;
  std::string channel;
  std::string visibility = "PUBLIC";
  bool is_official = true;
  std::string body;  // kept as evidence when the publish is rejected
};

struct PlayerStat {
  std::string player;
  std::string stat;
  std::optional<double> value;
  bool played = true;
};

struct EventResultRequest {
  std::string event_id;
  std::string status;
  std::optional<int64_t> home_score;
  std::optional<int64_t> away_score;
  std::vector<PlayerStat> player_stats;
};

}  // namespace truthbook::service
