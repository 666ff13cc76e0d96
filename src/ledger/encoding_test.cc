#include "ledger/encoding.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace truthbook::ledger
