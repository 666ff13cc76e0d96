#include "ledger/encoding.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"

namespace truthbook::ledger {
namespace {

// Golden vectors: the bytes and hashes were produced independently with Python's
// json.dumps(sort_keys=True, separators=(",", ":")) and hashlib.sha256, which agree with
// RFC 8785 for these ASCII-only documents.
class LedgerEncodingTest : public ::testing::Test {
 protected:
  static TimePoint At(const char* text) { return ParseRfc3339(text).value(); }
};

TEST_F(LedgerEncodingTest, PublishEntryIsCanonicalJsonWithoutLogIndex) {
  Publish p{"0190a1b2-0000-7000-8000-000000000001",
            "0190a1b2-0000-7000-8000-000000000002",
            "TELEGRAM",
            "PREMIUM",
            true,
            At("2026-11-26T19:30:00Z"),
            "",
            41};
  for (int i = 0; i < 32; ++i) p.request_sha256 += "ab";
  Result<LedgerEntry> entry = PublishEntry(p);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->payload,
            R"({"kind":"publish","record":{"channel":"TELEGRAM","is_official":true,)"
            R"("prediction_id":"0190a1b2-0000-7000-8000-000000000002",)"
            R"("publish_id":"0190a1b2-0000-7000-8000-000000000001",)"
            R"("published_at":"2026-11-26T19:30:00.000Z","request_sha256":")" +
                p.request_sha256 + R"(","visibility":"PREMIUM"},"v":1})");
  EXPECT_EQ(entry->entry_sha256,
            "9e0a4546a4f2f30639b88dfce6dde658406e630fc0978e593b9540ac5ec4baec");
  EXPECT_EQ(entry->kind, "publish");
  EXPECT_EQ(entry->record_id, p.publish_id);
}

TEST_F(LedgerEncodingTest, EventResultEntryCarriesStatsAndSupersedes) {
  EventResult r{"r1",
                "e1",
                2,
                "final",
                112,
                108,
                R"([{"played":true,"player":"A. Davis","stat":"points","value":27.5}])",
                "r0",
                At("2026-11-27T03:00:00Z"),
                7};
  Result<LedgerEntry> entry = EventResultEntry(r);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->entry_sha256,
            "415718e698228b43e5bc6ef08e2c3dd3d3c0d82027a30af3970d6d653098eeaf");
}

TEST_F(LedgerEncodingTest, MalformedStatsAreAnErrorNotAnException) {
  EventResult r;
  r.player_stats_json = "[{";
  EXPECT_EQ(EventResultEntry(r).status().code(), StatusCode::kInvalidArgument);
}

// GradingEntry writes its bytes member by member; they must equal CanonicalJson of the same
// record built as a JSON document, with every optional set and with every optional null.
TEST_F(LedgerEncodingTest, GradingEntryEqualsCanonicalJsonOfTheRecord) {
  Grading set{"0190a1b2-0000-7000-8000-000000000003",
              "0190a1b2-0000-7000-8000-000000000001",
              "0190a1b2-0000-7000-8000-000000000004",
              "HALF_WIN",
              "risk",
              1.0,
              0.45454545454545453,
              1.0 + 10.0 / 11.0,
              "0190a1b2-0000-7000-8000-000000000005",
              1.8,
              0.0606060606060606,
              0.016528925619834878,
              0.008658008658008698,
              "line moved from \"-3.5\" to -4.5\n",
              "multiplicative",
              "calibrated",
              0.56,
              0.19359999999999997,
              0.579818495252942,
              "0190a1b2-0000-7000-8000-000000000006",
              At("2026-11-26T19:30:00.123Z"),
              7};
  Grading null = set;
  for (std::optional<std::string>* text :
       {&null.closing_snapshot_id, &null.clv_note, &null.supersedes}) {
    text->reset();
  }
  for (std::optional<double>* number : {&null.closing_price, &null.clv_price, &null.clv_fair,
                                        &null.clv_prob_pts, &null.brier, &null.log_loss}) {
    number->reset();
  }
  for (const Grading& g : {set, null}) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    nlohmann::json record = {{"grading_id", g.grading_id},
                             {"publish_id", g.publish_id},
                             {"result_id", g.result_id},
                             {"outcome", g.outcome},
                             {"stake_convention", g.stake_convention},
                             {"stake", g.stake},
                             {"profit_units", g.profit_units},
                             {"price_decimal", g.price_decimal},
                             {"closing_snapshot_id", opt(g.closing_snapshot_id)},
                             {"closing_price", opt(g.closing_price)},
                             {"clv_price", opt(g.clv_price)},
                             {"clv_fair", opt(g.clv_fair)},
                             {"clv_prob_pts", opt(g.clv_prob_pts)},
                             {"clv_note", opt(g.clv_note)},
                             {"devig_method", g.devig_method},
                             {"prob_used", g.prob_used},
                             {"prob", g.prob},
                             {"brier", opt(g.brier)},
                             {"log_loss", opt(g.log_loss)},
                             {"supersedes", opt(g.supersedes)},
                             {"graded_at", FormatRfc3339(g.graded_at)}};
    Result<std::string> expected =
        CanonicalJson({{"kind", "grading"}, {"v", kEncodingVersion}, {"record", record}});
    ASSERT_TRUE(expected.ok());
    Result<LedgerEntry> entry = GradingEntry(g);
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    EXPECT_EQ(entry->payload, *expected);
    EXPECT_EQ(entry->entry_sha256, Sha256Hex(*expected));
    EXPECT_EQ(entry->kind, "grading");
    EXPECT_EQ(entry->record_id, g.grading_id);
  }
}

TEST_F(LedgerEncodingTest, GradingEntryRefusesANonFiniteNumberNamingIt) {
  Grading g;
  g.prob = std::numeric_limits<double>::quiet_NaN();
  Result<LedgerEntry> entry = GradingEntry(g);
  EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(entry.status().message(), "prob: not a finite number");
}

}  // namespace
}  // namespace truthbook::ledger
