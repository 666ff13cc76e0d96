// Scratch memory for the fits' large temporary arrays, recycled within a thread: a fresh page
// costs a fault (~0.5 ms per MB on the VMs measured, docs/BENCHMARKS.md), often more than the
// work on it, and a calibration job fits many calibrators in a row. A thread keeps the blocks
// of >= kMinScratchCacheBytes it frees, up to kMaxScratchCacheBytes, for its next arrays.
// Thread-safety: each thread has its own cache; an array may be freed on another thread (its
// block then joins that thread's cache).
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

namespace truthbook::calibration::internal {

inline constexpr size_t kMinScratchCacheBytes = size_t{1} << 20;
inline constexpr size_t kMaxScratchCacheBytes = size_t{128} << 20;

// At least `bytes` of uninitialized memory, 16-byte aligned: from this thread's cache when a
// cached block is large enough, else from the heap. Never null (throws std::bad_alloc).
void* AllocateScratch(size_t bytes);
// Returns memory from AllocateScratch(bytes) with the same `bytes`.
void FreeScratch(void* memory, size_t bytes);

// An array of n uninitialized T in scratch memory, owned; move-only.
template <typename T>
class ScratchArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  ScratchArray() = default;
  explicit ScratchArray(size_t size)
      : data_(size == 0 ? nullptr : static_cast<T*>(AllocateScratch(size * sizeof(T)))),
        size_(size),
        capacity_(size) {}
  ScratchArray(ScratchArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  ScratchArray& operator=(ScratchArray&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~ScratchArray() { Release(); }

  // Keeps the first `size` elements. REQUIRES: size <= size().
  void Truncate(size_t size) { size_ = size; }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  operator std::span<T>() { return {data_, size_}; }
  operator std::span<const T>() const { return {data_, size_}; }

 private:
  void Release() {
    if (data_ != nullptr) FreeScratch(data_, capacity_ * sizeof(T));
    data_ = nullptr;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace truthbook::calibration::internal
