// Publishing: THE official record. One publish per prediction; an identical replay returns
// the original; a different body is refused and kept as evidence in rejected_attempts; a
// publish at or after the event's start is refused. published_at is server time. Every
// publish is appended to the ledger in its own transaction. Thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "ledger/records.h"
#include "service/context.h"
#include "service/event_service.h"
#include "service/requests.h"

namespace truthbook::service {

class PublishService {
 public:
  explicit PublishService(Context ctx) : ctx_(ctx) {}
  PublishService(const PublishService&) = delete;
  PublishService& operator=(const PublishService&) = delete;

  using PublishDone = std::function<void(Result<Written<ledger::Publish>>)>;

  // created=true for a new publish, false for an identical replay.
  // Errors: InvalidArgument (bad field), NotFound (unknown prediction), AlreadyExists
  // (published before with a different body; the attempt is recorded), FailedPrecondition
  // (the event has started).
  Result<Written<ledger::Publish>> Publish(const PublishRequest& req);

  // The same, without waiting: `done` gets the result on the caller's thread (bad input) or a
  // store thread (after the commit). The HTTP server uses this so that no thread waits on disk.
  void PublishAsync(PublishRequest req, PublishDone done);

  // Publishes in (published_at, publish_id) order.
  Result<std::vector<ledger::Publish>> List(const store::PublishedQuery& q);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
