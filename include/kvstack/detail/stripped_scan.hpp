// detail::StrippedScan — a scan of keys stored behind a fixed-length prefix, yielding them
// without it (as a layer that prefixes its keys reads them back).
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <ranges>
#include <utility>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/scan_base.hpp>

namespace kvstack::inline v0::detail {

/// Yields the entries of `Base` (a ScanRange whose keys all start with an `n`-byte prefix) with
/// the first `n` bytes of each key removed.
template <class Base>
class StrippedScan {
 public:
  /// With `failed`, yields nothing and reports it from status().
  StrippedScan(Base base, std::size_t n, std::optional<Error> failed = std::nullopt)
      : base_(std::move(base)), n_(n), failed_(std::move(failed)) {}
  StrippedScan(StrippedScan&&) = default;  // only before begin()
  StrippedScan& operator=(StrippedScan&&) = default;

  ScanIterator<StrippedScan> begin() {
    if (!it_) it_.emplace(std::ranges::begin(base_));
    return {this};
  }
  std::default_sentinel_t end() const { return {}; }
  Result<void> status() const {
    if (failed_) return *failed_;
    return base_.status();
  }

 private:
  friend struct ScanIterator<StrippedScan>;
  KeyValue current() const {
    KeyValue kv = **it_;
    kv.key.remove_prefix(n_);
    return kv;
  }
  void advance() { ++*it_; }
  bool done() { return failed_ || *it_ == std::ranges::end(base_); }

  Base base_;
  std::size_t n_;
  std::optional<Error> failed_;
  std::optional<std::ranges::iterator_t<Base>> it_;
};

}  // namespace kvstack::detail
