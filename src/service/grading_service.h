// Grading: settles every publish against its event's latest result revision, with profit in
// units, closing line value and Brier/log loss, and keeps the history when a corrected result
// regrades it (new rows that supersede, never edits). Every grading is appended to the ledger
// in the transaction that stores it. docs/GRADING.md states the rules. Thread-safe (the store
// serializes writes).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "grading/outcome.h"
#include "ledger/records.h"
#include "odds/devig.h"
#include "service/context.h"
#include "service/event_service.h"
#include "service/summary.h"
#include "store/store.h"

namespace truthbook::service {

// Settings of the grading service (server flags).
struct GradingOptions {
  // How stake_units becomes the stake. Default: 1 unit risked per stake unit.
  grading::StakeConvention stake_convention = grading::StakeConvention::kRisk;
  // The book whose closing line CLV is measured against. Default (nullopt): the book of the
  // price taken.
  std::optional<std::string> closing_book;
  // How the closing market is de-vigged for clv_fair and clv_prob_pts. Default:
  // multiplicative.
  odds::DevigMethod devig_method = odds::DevigMethod::kMultiplicative;
  // A postponed event is graded VOID once this long has passed since its scheduled start (a
  // final result posted earlier settles it normally). Default: 48 hours.
  std::chrono::hours void_window{48};
};

// What grade-all-pending did.
struct GradeAllReport {
  std::array<int64_t, grading::kOutcomes.size()> graded_by_outcome{};  // kOutcomes order
  int64_t graded = 0;
  int64_t superseding = 0;                // of which regraded a corrected result
  int64_t skipped = 0;                    // pending but not gradable yet (skip_reasons says why)
  std::vector<std::string> skip_reasons;  // "<publish_id>: <reason>", at most 100
  double elapsed_ms = 0;
};

// A publish's current grading and the ones it superseded, oldest first.
struct GradingHistory {
  ledger::Grading current;
  std::vector<ledger::Grading> history;
};

class GradingService {
 public:
  GradingService(Context ctx, GradingOptions options) : ctx_(ctx), options_(std::move(options)) {}
  GradingService(const GradingService&) = delete;
  GradingService& operator=(const GradingService&) = delete;

  // Grades one publish on its event's latest result revision. created=false returns the
  // existing grading when that revision was graded already.
  // Errors: NotFound (unknown publish), FailedPrecondition (no result yet; postponed inside
  // the void window; a prop result without the player's stat).
  Result<Written<ledger::Grading>> Grade(const std::string& publish_id);

  // Grades every pending publish (see Reader::ListPendingGradings) in batches, one
  // transaction each. Publishes that cannot be graded yet are skipped and reported.
  Result<GradeAllReport> GradeAllPending();

  // NotFound for an unknown publish or one not graded yet.
  Result<GradingHistory> Get(const std::string& publish_id);

  Result<GradingSummary> Summary(const store::GradingQuery& q);

 private:
  Context ctx_;
  GradingOptions options_;
};

}  // namespace truthbook::service
