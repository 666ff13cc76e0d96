#include "service/collection_counts.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace truthbook::service {

CollectionCounts::CollectionCounts(const Context& ctx, std::chrono::milliseconds budget)
    : ctx_(ctx), budget_(budget) {}

CollectionCounts::~CollectionCounts() {
  if (counter_.joinable()) counter_.join();
}

Result<CollectionSnapshot> CollectionCounts::Count() {
  CollectionSnapshot snapshot;
  snapshot.as_of = ctx_.clock.Now();
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(snapshot.counts, r.CountRows());
    return Status::Ok();
  }));
  return snapshot;
}

Result<CollectionSnapshot> CollectionCounts::Get() {
  std::unique_lock lock(mu_);
  if (!last_ || last_took_ <= budget_) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(CollectionSnapshot snapshot, Count());
    lock.lock();
    last_ = snapshot;
    last_took_ = std::chrono::steady_clock::now() - started;
    last_started_ = started;
    return snapshot;
  }
  CollectionSnapshot snapshot = *last_;
  const auto now = std::chrono::steady_clock::now();
  if (!counting_ && now - last_started_ >= 10 * last_took_) {
    counting_ = true;
    last_started_ = now;
    if (counter_.joinable()) counter_.join();  // the previous count, which has finished
    counter_ = std::thread([this] { CountInBackground(); });
  }
  lock.unlock();
  // The counts may be old, but whether the store answers is not.
  RETURN_IF_ERROR(ctx_.store.Read([](store::Reader& r) { return r.LedgerSize().status(); }));
  return snapshot;
}

void CollectionCounts::CountInBackground() {
  const auto started = std::chrono::steady_clock::now();
  Result<CollectionSnapshot> snapshot = Count();
  std::lock_guard lock(mu_);
  counting_ = false;
  if (!snapshot.ok()) {
    spdlog::warn("health: counting rows failed: {}", snapshot.status().message());
    return;
  }
  last_ = std::move(*snapshot);
  last_took_ = std::chrono::steady_clock::now() - started;
}

}  // namespace truthbook::service
