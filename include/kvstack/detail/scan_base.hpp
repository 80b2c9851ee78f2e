// detail::ScanBase and ScanIterator — what every scan range shares: the scan keeps the
// position and the error, its iterator only points at it (so a scan must not move once begin()
// was called).
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0::detail {

/// The iterator of a `Scan` that provides `current() -> KeyValue`, `advance()` and `done()`.
template <class Scan>
struct ScanIterator {
  using value_type = KeyValue;
  using difference_type = std::ptrdiff_t;
  Scan* scan;
  KeyValue operator*() const { return scan->current(); }
  ScanIterator& operator++() {
    scan->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  bool operator==(std::default_sentinel_t) const { return scan->done(); }
};

/// begin(), end() and status() for a scan that keeps its error in `error_`.
template <class Scan>
class ScanBase {
 public:
  ScanIterator<Scan> begin() { return {static_cast<Scan*>(this)}; }
  std::default_sentinel_t end() const { return {}; }
  /// The error that ended iteration early, if any.
  Result<void> status() const {
    if (error_) return *error_;
    return success();
  }

 protected:
  std::optional<Error> error_;
};

}  // namespace kvstack::detail
