#include "ledger_rows.h"

#include <chrono>
#include <optional>

#include "ledger/records.h"

namespace truthbook::test_support {

void PrintTo(const TableSpec& spec, std::ostream* os) { *os << spec.table; }

const std::vector<TableSpec>& LedgerTables() {
  static const auto* specs = new std::vector<TableSpec>{
      {.table = "events",
       .column = "status",
       .fresh_keys = "revision = revision + 100",
       .separate_rowid = false},  // WITHOUT ROWID
      {.table = "odds_snapshots",
       .column = "book",
       .keep_one_key = {"snapshot_id = snapshot_id || '-new'",
                        "content_sha256 = content_sha256 || '-new'"},
       .fresh_keys = "snapshot_id = snapshot_id || '-new', "
                     "content_sha256 = content_sha256 || '-new'",
       .delete_error = "referenced by a sim run"},
      {.table = "injury_snapshots",
       .column = "team",
       .keep_one_key = {"snapshot_id = snapshot_id || '-new'",
                        "content_sha256 = content_sha256 || '-new'"},
       .fresh_keys = "snapshot_id = snapshot_id || '-new', "
                     "content_sha256 = content_sha256 || '-new'"},
      {.table = "sim_runs", .column = "model_version", .fresh_keys = "sim_run_id = 'run-new'"},
      {.table = "sim_run_inputs",
       .column = "content_sha256",
       .fresh_keys = "snapshot_id = snapshot_id || '-new'"},
      {.table = "predictions", .column = "selection", .fresh_keys = "prediction_id = 'pred-new'"},
      {.table = "published_predictions",
       .column = "channel",
       // A NEW publish_id with an EXISTING prediction_id is the case that matters most.
       .keep_one_key = {"publish_id = 'pub-new', log_index = log_index + 100",
                        "prediction_id = 'pred-new', log_index = log_index + 100",
                        "publish_id = 'pub-new', prediction_id = 'pred-new'"},
       .fresh_keys =
           "publish_id = 'pub-new', prediction_id = 'pred-new', log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "event_results",
       .column = "status",
       .keep_one_key = {"result_id = 'res-new', log_index = log_index + 100",
                        "revision = revision + 100, log_index = log_index + 100",
                        "result_id = 'res-new', revision = revision + 100"},
       .fresh_keys =
           "result_id = 'res-new', revision = revision + 100, log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "rejected_attempts", .column = "reason", .fresh_keys = "attempt_id = 'rej-new'"},
      {.table = "ledger_entries",
       .column = "kind",
       // The next index: the gap-free rule admits no other.
       .fresh_keys = "log_index = (SELECT MAX(log_index) + 1 FROM main.ledger_entries)",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "snapshot_cleanups",
       .column = "deleted_ids",
       .fresh_keys = "cleanup_id = 'cleanup-new'"},
      {.table = "grading",
       .column = "outcome",
       // supersedes is unique too: it is made fresh here (a NULL stays NULL) and has a test of
       // its own, InsertOrReplaceOfASecondGradingSupersedingTheSameOneIsRefused.
       .keep_one_key = {"result_id = result_id || '-new', log_index = log_index + 100, "
                        "supersedes = supersedes || '-new'",
                        "grading_id = grading_id || '-new', log_index = log_index + 100, "
                        "supersedes = supersedes || '-new'",
                        "grading_id = grading_id || '-new', result_id = result_id || '-new', "
                        "supersedes = supersedes || '-new'"},
       // A fresh grading must supersede the publish's current one (grd-2).
       .fresh_keys = "grading_id = grading_id || '-new', result_id = result_id || '-new', "
                     "log_index = log_index + 100, supersedes = 'grd-2'",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "calibration_versions",
       .column = "method",
       .fresh_keys = "calibration_version_id = calibration_version_id || '-new'"},
      {.table = "calibration_segments",
       .column = "fitted_on",
       // One key of two columns: a row that keeps only one of them is a fresh segment.
       .fresh_keys = "segment_key = segment_key || '-new'",
       .separate_rowid = false},  // WITHOUT ROWID
      {.table = "calibration_activations",
       .column = "actor",
       .keep_one_key = {"activation_id = activation_id || '-new'", "log_index = log_index + 100"},
       .fresh_keys = "activation_id = activation_id || '-new', log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
  };
  return *specs;
}

TimePoint LedgerRowsAt(int minutes) {
  using namespace std::chrono;
  return TimePoint(sys_days(year(2025) / March / 1)) + std::chrono::minutes(minutes);
}

Status WriteLedgerRows(store::WriteTxn& t) {
  const auto At = LedgerRowsAt;
  RETURN_IF_ERROR(t.InsertEvent({"evt-1", 1, "basketball", "NBA", "2024-25", "BOS", "NYK", At(600),
                                 "scheduled", "body-1", At(1)}));
  RETURN_IF_ERROR(t.InsertOddsSnapshot({"odds-used", "evt-1", "pinnacle", "moneyline", At(2), At(3),
                                        "{\"raw\":1}", "[]", "multiplicative", "sha-odds-used",
                                        std::nullopt, std::nullopt}));
  RETURN_IF_ERROR(
      t.InsertOddsSnapshot({"odds-free", "evt-1", "pinnacle", "spread", At(4), At(5), "{\"raw\":2}",
                            "[]", "multiplicative", "sha-odds-free", std::nullopt, std::nullopt}));
  RETURN_IF_ERROR(t.InsertOddsSnapshot({"odds-closing", "evt-1", "pinnacle", "moneyline", At(590),
                                        At(591), "{\"raw\":4}", "[]", "multiplicative",
                                        "sha-odds-closing", std::nullopt, std::nullopt}));
  RETURN_IF_ERROR(t.InsertInjurySnapshot({"injury-1", "evt-1", "BOS", "league-report", At(6), At(7),
                                          "[]", "{\"raw\":3}", "sha-injury-1"}));
  RETURN_IF_ERROR(t.InsertSimRun({"run-1", "manual", "model-3", "features-2", "policy-1", "0123abc",
                                  false, 1000, 42, "{}", At(8), At(9), At(10)}));
  RETURN_IF_ERROR(t.InsertSimRunInput({"run-1", "odds_snapshot", "odds-used", "sha-odds-used"}));
  RETURN_IF_ERROR(t.InsertSimRunInput({"run-1", "injury_snapshot", "injury-1", "sha-injury-1"}));
  ledger::Prediction prediction;
  prediction.prediction_id = "pred-1";
  prediction.sim_run_id = "run-1";
  prediction.event_id = "evt-1";
  prediction.market = "moneyline";
  prediction.selection = "home";
  prediction.book = "pinnacle";
  prediction.price_decimal = 1.91;
  prediction.price_american = -110;
  prediction.raw_prob = 0.55;
  prediction.tier = "A";
  prediction.recorded_at = At(11);
  RETURN_IF_ERROR(t.InsertPrediction(prediction));
  ASSIGN_OR_RETURN(int64_t publish_index,
                   t.AppendLedgerEntry({-1, "publish", "pub-1", "{}", "sha-e0", At(12)}));
  RETURN_IF_ERROR(
      t.InsertPublish({"pub-1", "pred-1", "web", "public", true, At(12), "req-1", publish_index}));
  ASSIGN_OR_RETURN(int64_t result_index,
                   t.AppendLedgerEntry({-1, "event_result", "res-1", "{}", "sha-e1", At(13)}));
  RETURN_IF_ERROR(t.InsertEventResult(
      {"res-1", "evt-1", 1, "final", 101, 99, "[]", std::nullopt, At(13), result_index}));
  ledger::Grading grading;
  grading.grading_id = "grd-1";
  grading.publish_id = "pub-1";
  grading.result_id = "res-1";
  grading.outcome = "WIN";
  grading.stake_convention = "risk";
  grading.stake = 1;
  grading.profit_units = 0.91;
  grading.price_decimal = 1.91;
  grading.closing_snapshot_id = "odds-closing";
  grading.closing_price = 1.87;
  grading.devig_method = "multiplicative";
  grading.prob_used = "raw";
  grading.prob = 0.55;
  grading.brier = 0.2025;
  grading.log_loss = 0.5978;
  grading.graded_at = At(14);
  ASSIGN_OR_RETURN(grading.log_index,
                   t.AppendLedgerEntry({-1, "grading", "grd-1", "{}", "sha-e2", At(14)}));
  RETURN_IF_ERROR(t.InsertGrading(grading));
  ASSIGN_OR_RETURN(int64_t correction_index,
                   t.AppendLedgerEntry({-1, "event_result", "res-2", "{}", "sha-e3", At(15)}));
  RETURN_IF_ERROR(t.InsertEventResult(
      {"res-2", "evt-1", 2, "final", 101, 100, "[]", "res-1", At(15), correction_index}));
  grading.grading_id = "grd-2";
  grading.result_id = "res-2";
  grading.outcome = "LOSS";
  grading.profit_units = -1;
  grading.supersedes = "grd-1";
  grading.graded_at = At(16);
  ASSIGN_OR_RETURN(grading.log_index,
                   t.AppendLedgerEntry({-1, "grading", "grd-2", "{}", "sha-e4", At(16)}));
  RETURN_IF_ERROR(t.InsertGrading(grading));
  RETURN_IF_ERROR(t.InsertCalibrationVersion({"cal-1", "isotonic", At(-43200), At(0), 2,
                                              R"({"training_days":30})", R"({"brier":0.25})",
                                              R"({"brier":0.2})", "[]", true, "0123abc", At(17)}));
  for (const std::string key : {"sport=basketball", "sport=basketball|tier=A"}) {
    RETURN_IF_ERROR(t.InsertCalibrationSegment(
        {"cal-1", key, "sport=basketball", "sport", 1, R"({"method":"isotonic"})", "{}", "[]"}));
  }
  ASSIGN_OR_RETURN(
      int64_t activation_index,
      t.AppendLedgerEntry({-1, "calibration_activation", "act-1", "{}", "sha-e5", At(18)}));
  RETURN_IF_ERROR(t.InsertCalibrationActivation(
      {"act-1", "cal-1", "scheduler", "", false, At(18), activation_index}));
  RETURN_IF_ERROR(t.InsertRejectedAttempt(
      {"rej-1", "publish", "pred-1", "req-2", "different body", "{}", At(14)}));
  return t.InsertSnapshotCleanup({"cleanup-1", At(-60), At(15), 0, "[]"});
}

}  // namespace truthbook::test_support
