// Events and their results, both kept as revisions: a changed body appends a revision, an
// identical one returns the current revision. Result revisions are official records and are
// appended to the ledger in the same transaction. Thread-safe (the store serializes writes).
#pragma once

#include "ledger/records.h"
#include "service/context.h"
#include "service/requests.h"

namespace truthbook::service {

template <typename T>
struct Written {
  T record;
  bool created = false;  // false: an identical record already existed and is returned
};

class EventService {
 public:
  explicit EventService(Context ctx) : ctx_(ctx) {}
  EventService(const EventService&) = delete;
  EventService& operator=(const EventService&) = delete;

  // Appends a revision of the event, or returns the current one when nothing changed.
  // InvalidArgument names the bad field.
  Result<Written<ledger::Event>> PutEvent(const EventRequest& req);

  // Appends a result revision (superseding the previous one) with its ledger entry, or
  // returns the current revision when the body is identical. NotFound for an unknown event;
  // InvalidArgument names the bad field.
  Result<Written<ledger::EventResult>> RecordResult(const EventResultRequest& req);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
