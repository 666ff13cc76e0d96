// What every service borrows: the store, the clock and the id generator.
// The owner (main or a test) keeps all three alive longer than the services.
#pragma once

#include "base/clock.h"
#include "base/uuid.h"
#include "store/store.h"

namespace truthbook::service {

struct Context {
  store::Store& store;
  const Clock& clock;
  UuidV7Generator& ids;
};

}  // namespace truthbook::service
