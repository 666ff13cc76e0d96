// Row counts per table, for GET health. Counting scans every table, which takes seconds at
// tens of millions of rows, and a load balancer asks for health every few seconds. So a count
// that took longer than a budget is not repeated on the request path: later calls get the
// last count with the time it was taken, and one background thread counts again, spending at
// most a tenth of the time counting. A store whose count fits the budget is counted on every
// call, so its counts are always exact and current.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "service/context.h"

namespace truthbook::service {

struct CollectionSnapshot {
  std::map<std::string, int64_t> counts;
  TimePoint as_of;  // when the count started
};

class CollectionCounts {
 public:
  CollectionCounts(const Context& ctx, std::chrono::milliseconds budget);
  CollectionCounts(const CollectionCounts&) = delete;
  CollectionCounts& operator=(const CollectionCounts&) = delete;
  ~CollectionCounts();  // waits for a background count to finish

  // The current counts, or the last ones while counting is too slow to repeat per call.
  Result<CollectionSnapshot> Get();

 private:
  Result<CollectionSnapshot> Count();
  void CountInBackground();

  Context ctx_;
  const std::chrono::milliseconds budget_;
  std::mutex mu_;
  std::optional<CollectionSnapshot> last_;
  std::chrono::steady_clock::duration last_took_{};
  std::chrono::steady_clock::time_point last_started_{};
  bool counting_ = false;  // a background count is running
  std::thread counter_;
};

}  // namespace truthbook::service
