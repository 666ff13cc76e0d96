#include "service/publish_service.h"

#include <nlohmann/json.hpp>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "ledger/encoding.h"
#include "service/validate.h"

namespace truthbook::service {

Result<Written<ledger::Publish>> PublishService::Publish(const PublishRequest& req) {
  RETURN_IF_ERROR(RequireText("prediction_id", req.prediction_id));
  RETURN_IF_ERROR(RequireText("channel", req.channel));
  RETURN_IF_ERROR(RequireText("visibility", req.visibility));
  nlohmann::json canonical_request = {{"prediction_id", req.prediction_id},
                                      {"channel", req.channel},
                                      {"visibility", req.visibility},
                                      {"is_official", req.is_official}};
  ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(canonical_request));
  const std::string request_sha256 = Sha256Hex(canonical);

  Written<ledger::Publish> out;
  std::optional<std::string> conflicting_publish_id;
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::Publish> existing,
                     txn.PublishForPrediction(req.prediction_id));
    TimePoint now = ctx_.clock.Now();
    if (existing) {
      if (existing->request_sha256 == request_sha256) {
        out = {*existing, false};
        return Status::Ok();
      }
      conflicting_publish_id = existing->publish_id;
      return txn.InsertRejectedAttempt({ctx_.ids.Next(), "publish", req.prediction_id,
                                        request_sha256,
                                        "prediction already published with another body",
                                        req.body, now});
    }
    ASSIGN_OR_RETURN(std::optional<ledger::Prediction> prediction,
                     txn.GetPrediction(req.prediction_id));
    if (!prediction) return NotFound("prediction_id: unknown prediction " + req.prediction_id);
    ASSIGN_OR_RETURN(std::optional<ledger::Event> event, txn.CurrentEvent(prediction->event_id));
    if (!event) return Internal("prediction without its event: " + req.prediction_id);
    if (now >= event->start_time) {
      return FailedPrecondition("prediction_id: event " + event->event_id + " started at " +
                                FormatRfc3339(event->start_time) + "; publishing is closed");
    }
    ledger::Publish p{ctx_.ids.Next(), req.prediction_id, req.channel, req.visibility,
                      req.is_official, now, request_sha256, -1};
    ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::PublishEntry(p));
    ASSIGN_OR_RETURN(p.log_index, txn.AppendLedgerEntry(entry));
    RETURN_IF_ERROR(txn.InsertPublish(p));
    out = {p, true};
    return Status::Ok();
  }));
  if (conflicting_publish_id) {
    return AlreadyExists("prediction_id: already published as " + *conflicting_publish_id +
                         " with a different body");
  }
  return out;
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
