// The canonical encoding of ledger entries (docs/LEDGER.md): RFC 8785 JSON of
// {"kind", "v", "record"} with times as RFC 3339 strings and hashes as lowercase hex.
// The entry hash is SHA-256 of exactly these bytes. Pure; thread-safe.
#pragma once

#include <string>

#include "base/status.h"
#include "ledger/records.h"

namespace truthbook::ledger {

inline constexpr int kEncodingVersion = 1;

// The ledger entry for a publish. publish.log_index is not encoded: an entry's position in
// the log is its index. Fails only on values JSON cannot hold (non-finite numbers).
Result<LedgerEntry> PublishEntry(const Publish& publish);

// The ledger entry for a result revision (log_index likewise not encoded).
Result<LedgerEntry> EventResultEntry(const EventResult& result);

// The ledger entry for a grading (log_index likewise not encoded).
Result<LedgerEntry> GradingEntry(const Grading& grading);

// The ledger entry for a calibration activation (log_index likewise not encoded).
Result<LedgerEntry> CalibrationActivationEntry(const CalibrationActivation& activation);

}  // namespace truthbook::ledger
