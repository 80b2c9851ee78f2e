// detail::MappedScan — a scan of the layer below with a function applied to each entry, which
// may change it, skip it or end the scan with an error. Layers that transform scans use it.
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

/// A scan of the layer below with `Map` applied to each entry: `map(kv, error) ->
/// std::optional<KeyValue>` (empty: skip the entry; setting `error` ends the scan with it). No
/// Result per entry: the map runs once per entry of every scan through the layer.
/// Applies the range's limit.
template <class Base, class Map>
class MappedScan {
 public:
  /// The scan below is made in place by `make()` (a scan can be large: not moved once more).
  template <class Make>
  MappedScan(std::in_place_t, Make&& make, Map map, std::size_t limit)
      : base_(std::forward<Make>(make)()), map_(std::move(map)), remaining_(limit) {}
  MappedScan(MappedScan&&) = default;  // only before begin()
  MappedScan& operator=(MappedScan&&) = default;

  ScanIterator<MappedScan> begin() {
    if (!it_) {
      it_.emplace(std::ranges::begin(base_));
      settle();
    }
    return {this};
  }
  std::default_sentinel_t end() const { return {}; }
  Result<void> status() const {
    if (error_) return *error_;
    return base_.status();
  }

 private:
  friend struct ScanIterator<MappedScan>;
  KeyValue current() const { return current_; }
  bool done() const { return !has_current_; }
  void advance() {
    ++*it_;
    settle();
  }
  void settle() {
    has_current_ = false;
    for (; remaining_ != 0 && *it_ != std::ranges::end(base_); ++*it_) {
      auto mapped = map_(KeyValue(**it_), error_);
      if (error_) return;
      if (mapped) {
        current_ = *mapped;
        has_current_ = true;
        --remaining_;
        return;
      }
    }
  }

  Base base_;
  Map map_;
  std::optional<std::ranges::iterator_t<Base>> it_;
  std::size_t remaining_;
  std::optional<Error> error_;
  KeyValue current_;
  bool has_current_ = false;
};

}  // namespace kvstack::detail
