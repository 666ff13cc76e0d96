#include "calibration/scratch.h"

#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A cached block is poisoned, so that AddressSanitizer still reports a use after free.
#define TRUTHBOOK_POISON(memory, bytes) ASAN_POISON_MEMORY_REGION(memory, bytes)
#define TRUTHBOOK_UNPOISON(memory, bytes) ASAN_UNPOISON_MEMORY_REGION(memory, bytes)
#else
#define TRUTHBOOK_POISON(memory, bytes) ((void)(memory), (void)(bytes))
#define TRUTHBOOK_UNPOISON(memory, bytes) ((void)(memory), (void)(bytes))
#endif

namespace truthbook::calibration::internal {

namespace {

// Blocks start with a header holding their usable size, so that a block handed out for fewer
// bytes than it holds goes back to the cache whole.
constexpr size_t kHeaderBytes = 16;

struct Block {
  void* start;   // what ::operator new returned
  size_t bytes;  // usable bytes after the header
};

void* Usable(const Block& block) { return static_cast<char*>(block.start) + kHeaderBytes; }

// This thread's free blocks, smallest first.
class ScratchCache {
 public:
  // Room for every block the cap allows, so that keeping one never allocates.
  ScratchCache() { blocks_.reserve(kMaxScratchCacheBytes / kMinScratchCacheBytes); }
  ~ScratchCache() {
    for (const Block& block : blocks_) {
      TRUTHBOOK_UNPOISON(Usable(block), block.bytes);
      ::operator delete(block.start);
    }
  }

  // The smallest cached block of at least `bytes`, taken out of the cache; or none.
  bool Take(size_t bytes, Block& taken) {
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
      if (it->bytes >= bytes) {
        taken = *it;
        TRUTHBOOK_UNPOISON(Usable(taken), taken.bytes);
        cached_bytes_ -= it->bytes;
        blocks_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Keeps `block` if it fits under the cap; else false (the caller frees it).
  bool Keep(const Block& block) {
    if (cached_bytes_ + block.bytes > kMaxScratchCacheBytes) return false;
    auto it = blocks_.begin();
    while (it != blocks_.end() && it->bytes < block.bytes) ++it;
    TRUTHBOOK_POISON(Usable(block), block.bytes);
    blocks_.insert(it, block);
    cached_bytes_ += block.bytes;
    return true;
  }

 private:
  std::vector<Block> blocks_;
  size_t cached_bytes_ = 0;
};

thread_local ScratchCache cache;

}  // namespace

void* AllocateScratch(size_t bytes) {
  if (bytes < kMinScratchCacheBytes) return ::operator new(bytes);
  Block block;
  if (!cache.Take(bytes, block)) {
    block = {::operator new(kHeaderBytes + bytes), bytes};
    *static_cast<size_t*>(block.start) = bytes;
  }
  return Usable(block);
}

void FreeScratch(void* memory, size_t bytes) {
  if (bytes < kMinScratchCacheBytes) {
    ::operator delete(memory);
    return;
  }
  void* start = static_cast<char*>(memory) - kHeaderBytes;
  const Block block{start, *static_cast<size_t*>(start)};
  if (!cache.Keep(block)) ::operator delete(start);
}

}  // namespace truthbook::calibration::internal
