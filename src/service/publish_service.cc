#include "service/publish_service.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <semaphore>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "ledger/encoding.h"
#include "service/validate.h"

namespace truthbook::service {
namespace {

Status ValidatePublish(const PublishRequest& req) {
  RETURN_IF_ERROR(RequireText("prediction_id", req.prediction_id));
  RETURN_IF_ERROR(RequireText("channel", req.channel));
  return RequireText("visibility", req.visibility);
}

}  // namespace

Result<Written<ledger::Publish>> PublishService::Publish(const PublishRequest& req) {
  std::optional<Result<Written<ledger::Publish>>> result;
  std::binary_semaphore finished{0};
  PublishAsync(req, [&](Result<Written<ledger::Publish>> r) {
    result.emplace(std::move(r));
    finished.release();
  });
  finished.acquire();
  return std::move(*result);
}

void PublishService::PublishAsync(PublishRequest req, PublishDone done) {
  Status valid = ValidatePublish(req);
  if (!valid.ok()) return done(valid);
  nlohmann::json canonical_request = {{"prediction_id", req.prediction_id},
                                      {"channel", req.channel},
                                      {"visibility", req.visibility},
                                      {"is_official", req.is_official}};
  Result<std::string> canonical = CanonicalJson(canonical_request);
  if (!canonical.ok()) return done(canonical.status());

  // The publish as it will be recorded, built before the transaction so that the writer
  // thread does only SQL. published_at is the server time the request was accepted.
  struct Attempt {
    PublishRequest req;
    ledger::Publish publish;
    ledger::LedgerEntry entry;
    Written<ledger::Publish> out;
    std::optional<std::string> conflicting_publish_id;
  };
  auto attempt = std::make_shared<Attempt>();
  attempt->publish = {ctx_.ids.Next(), req.prediction_id, req.channel,           req.visibility,
                      req.is_official, ctx_.clock.Now(),  Sha256Hex(*canonical), -1};
  attempt->req = std::move(req);
  Result<ledger::LedgerEntry> entry = ledger::PublishEntry(attempt->publish);
  if (!entry.ok()) return done(entry.status());
  attempt->entry = std::move(entry).value();

  auto write = [this, attempt](store::WriteTxn& txn) -> Status {
    const PublishRequest& req = attempt->req;
    ledger::Publish& p = attempt->publish;
    ASSIGN_OR_RETURN(std::optional<ledger::Publish> existing,
                     txn.PublishForPrediction(req.prediction_id));
    if (existing) {
      if (existing->request_sha256 == p.request_sha256) {
        attempt->out = {*existing, false};
        return Status::Ok();
      }
      attempt->conflicting_publish_id = existing->publish_id;
      return txn.InsertRejectedAttempt(
          {ctx_.ids.Next(), "publish", req.prediction_id, p.request_sha256,
           "prediction already published with another body", req.body, p.published_at});
    }
    ASSIGN_OR_RETURN(std::optional<ledger::Event> event, txn.EventOfPrediction(req.prediction_id));
    if (!event) return NotFound("prediction_id: unknown prediction " + req.prediction_id);
    if (p.published_at >= event->start_time) {
      return FailedPrecondition("prediction_id: event " + event->event_id + " started at " +
                                FormatRfc3339(event->start_time) + "; publishing is closed");
    }
    ASSIGN_OR_RETURN(p.log_index, txn.AppendLedgerEntry(attempt->entry));
    RETURN_IF_ERROR(txn.InsertPublish(p));
    attempt->out = {p, true};
    return Status::Ok();
  };
  auto finish = [attempt, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    if (attempt->conflicting_publish_id) {
      return done(AlreadyExists("prediction_id: already published as " +
                                *attempt->conflicting_publish_id + " with a different body"));
    }
    done(std::move(attempt->out));
  };
  ctx_.store.WriteAsync(std::move(write), std::move(finish));
}

Result<std::vector<ledger::Publish>> PublishService::List(const store::PublishedQuery& q) {
  std::vector<ledger::Publish> out;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(out, r.ListPublished(q));
    return Status::Ok();
  }));
  return out;
}

}  // namespace truthbook::service
