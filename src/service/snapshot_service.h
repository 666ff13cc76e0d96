// Odds and injury snapshot capture, and retention. A snapshot keeps the request body exactly
// as received, its normalized content and a content hash; re-sending an identical capture
// returns the stored snapshot instead of a duplicate. Thread-safe.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "ledger/records.h"
#include "service/context.h"
#include "service/event_service.h"
#include "service/requests.h"

namespace truthbook::service {

class SnapshotService {
 public:
  explicit SnapshotService(Context ctx) : ctx_(ctx) {}
  SnapshotService(const SnapshotService&) = delete;
  SnapshotService& operator=(const SnapshotService&) = delete;

  // Stores one odds snapshot. NotFound for an unknown event; InvalidArgument names the field.
  Result<Written<ledger::OddsSnapshot>> CaptureOdds(const CaptureSnapshotRequest& req);

  // Stores many odds snapshots in one transaction: all or nothing. Errors name the index
  // ("snapshots[3].quotes[1]...").
  Result<std::vector<Written<ledger::OddsSnapshot>>> CaptureOddsBatch(
      std::span<const CaptureSnapshotRequest> reqs);

  // Odds snapshots of one event in (captured_at, snapshot_id) order.
  Result<std::vector<ledger::OddsSnapshot>> ListOdds(const store::SnapshotQuery& q);

  // Stores one injury snapshot, deduplicated like odds snapshots.
  Result<Written<ledger::InjurySnapshot>> CaptureInjury(const CaptureInjuryRequest& req);

  // Deletes odds snapshots captured more than `retention` ago that no sim run references
  // (at most 10000 per call), and records an audit row. The database itself refuses to
  // delete a referenced snapshot. InvalidArgument when retention < 1 day.
  Result<ledger::SnapshotCleanup> Cleanup(std::chrono::days retention);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
