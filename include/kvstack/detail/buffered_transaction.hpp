// detail::BufferedTransaction — the transaction every engine hands to `transact(fn)`: writes are
// buffered in an ordered write set, reads look there first and then at the committed state, and
// scans merge the two. The engine holds its writer lock for the whole transaction, so the
// committed state does not change under it, and applies the write set at commit.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/scan_base.hpp>

namespace kvstack::inline v0::detail {

/// A transaction's writes in `range`, in scan order; an empty optional is an erase.
using Overlay = std::vector<std::pair<std::string, std::optional<std::string>>>;

/// The writes of `writes` (a map ordered by key) in `range`, in scan order, each value taken by
/// `value_of(mapped)`.
template <class Map, class ValueOf>
Overlay overlay_in(const Map& writes, const KeyRange& range, ValueOf value_of) {
  Overlay overlay;
  if (!range.is_empty())
    for (auto it = writes.lower_bound(range.lower()); it != writes.end() && range.below_upper(it->first); ++it)
      overlay.emplace_back(it->first, value_of(it->second));
  if (range.is_reverse()) std::reverse(overlay.begin(), overlay.end());
  return overlay;
}

/// A scan of the committed state (`Base`: same range, no limit) with an overlay merged in; the
/// overlay wins on equal keys and its erases hide keys. Applies the range's limit.
template <class Base>
class MergedScan {
 public:
  MergedScan(Base base, const KeyRange& range, Overlay overlay)
      : base_(std::move(base)), overlay_(std::move(overlay)), reverse_(range.is_reverse()),
        remaining_(range.max_count()) {}
  MergedScan(MergedScan&&) = default;  // only before begin()
  MergedScan& operator=(MergedScan&&) = default;

  ScanIterator<MergedScan> begin() {
    if (!it_) {
      it_.emplace(std::ranges::begin(base_));
      settle();
    }
    return {this};
  }
  std::default_sentinel_t end() const { return {}; }
  Result<void> status() const { return base_.status(); }

 private:
  friend struct ScanIterator<MergedScan>;
  KeyValue current() const { return current_; }
  void advance() {
    if (from_base_) ++*it_;
    settle();
  }
  bool done() const { return !has_current_; }

  void settle() {
    has_current_ = from_base_ = false;
    if (remaining_ == 0) return;
    for (;;) {
      bool base = *it_ != std::ranges::end(base_);
      if (next_ == overlay_.size()) {
        if (!base) return;
        current_ = **it_;
        from_base_ = true;
        break;
      }
      const auto& [key, value] = overlay_[next_];
      if (base) {
        KeyValue b = **it_;
        int order = std::string_view(key).compare(b.key);
        if (reverse_) order = -order;
        if (order > 0) {
          current_ = b;
          from_base_ = true;
          break;
        }
        if (order == 0) ++*it_;  // the overlay replaces or erases this key
      }
      ++next_;
      if (value) {
        current_ = {key, *value};
        break;
      }
    }
    has_current_ = true;
    --remaining_;
  }

  Base base_;
  std::optional<std::ranges::iterator_t<Base>> it_;
  Overlay overlay_;
  std::size_t next_ = 0;
  bool reverse_;
  std::size_t remaining_;
  KeyValue current_;
  bool from_base_ = false;
  bool has_current_ = false;
};

/// A Transaction over `Reader`, which reads the committed state: `get(key, fn) -> Result<bool>`
/// and `scan(KeyRange) -> ScanRange`.
template <class Reader>
class BufferedTransaction {
 public:
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;

  explicit BufferedTransaction(Reader reader) : reader_(std::move(reader)) {}

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (auto it = writes_.find(key); it != writes_.end()) {
      if (!it->second) return false;
      std::invoke(std::forward<F>(fn), std::string_view(*it->second));
      return true;
    }
    return reader_.get(key, std::forward<F>(fn));
  }
  Result<void> put(std::string_view key, std::string_view value) {
    writes_.insert_or_assign(std::string(key), std::optional<std::string>(value));
    return success();
  }
  Result<bool> erase(std::string_view key) {
    auto existed = get(key, [](std::string_view) {});
    if (existed && existed.value()) writes_.insert_or_assign(std::string(key), std::nullopt);
    return existed;
  }
  auto scan(const KeyRange& range) const {
    auto overlay = overlay_in(writes_, range, [](const std::optional<std::string>& v) { return v; });
    return MergedScan(reader_.scan(range.limit(KeyRange::unlimited)), range, std::move(overlay));
  }

  /// The buffered writes, by key; what the engine applies at commit.
  const Writes& writes() const noexcept { return writes_; }

 private:
  Reader reader_;
  Writes writes_;
};

}  // namespace kvstack::detail
