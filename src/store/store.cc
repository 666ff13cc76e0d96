#include "store/store.h"

#include <semaphore>

namespace truthbook::store {

Status Store::Write(const WriteFn& fn) {
  Status result;
  std::binary_semaphore finished{0};
  WriteAsync([&fn](WriteTxn& txn) { return fn(txn); },
             [&](Status s) {
               result = std::move(s);
               finished.release();
             });
  finished.acquire();
  return result;
}

}  // namespace truthbook::store
