// detail::BufferedTransaction — the transaction every engine hands to `transact(fn)`: writes are
// buffered in an ordered write set, reads look there first and then at the committed state, and
// scans merge the two. The engine holds its writer lock for the whole transaction, so the
// committed state does not change under it, and applies the write set at commit. It remembers
// the last key it read, and over a server (or SQLite) every key it saw, so that an erase after a
// read costs no second read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/get_many.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/byte_order.hpp>
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

/// The keys a transaction saw in the committed state, and whether each was there: `erase` of a
/// key read or scanned before needs no second read. Holds up to `capacity` keys.
class ReadMemo {
 public:
  static constexpr std::size_t capacity = 1 << 14;
  void note(std::string_view key, bool exists) {
    if (auto it = keys_.find(key); it != keys_.end()) it->second = exists;
    else if (keys_.size() < capacity) keys_.emplace(key, exists);
  }
  std::optional<bool> find(std::string_view key) const {
    auto it = keys_.find(key);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, bool, ByteLess> keys_;
};

/// The range a MergedScan's base must cover: `range` with room in its limit for what `overlay`
/// hides or replaces (at most one committed entry per write).
inline KeyRange base_range(const KeyRange& range, const Overlay& overlay) {
  const std::size_t limit = range.max_count();
  return range.limit(limit > KeyRange::unlimited - overlay.size() ? KeyRange::unlimited : limit + overlay.size());
}

/// A scan of the committed state (`Base`, over `base_range(range, overlay)`) with an overlay
/// merged in; the overlay wins on equal keys and its erases hide keys. Applies the range's limit.
/// Notes the committed keys it passes in `memo`, if given.
template <class Base>
class MergedScan {
 public:
  MergedScan(Base base, const KeyRange& range, Overlay overlay, ReadMemo* memo = nullptr)
      : base_(std::move(base)), overlay_(std::move(overlay)), reverse_(range.is_reverse()),
        remaining_(range.max_count()), memo_(memo) {}
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
        int order = compare_bytes(key, b.key);
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
    if (memo_ && from_base_) memo_->note(current_.key, true);
  }

  Base base_;
  std::optional<std::ranges::iterator_t<Base>> it_;
  Overlay overlay_;
  std::size_t next_ = 0;
  bool reverse_;
  std::size_t remaining_;
  KeyValue current_;
  ReadMemo* memo_;
  bool from_base_ = false;
  bool has_current_ = false;
};

/// A Transaction over `Reader`, which reads the committed state: `get(key, fn) -> Result<bool>`
/// and `scan(KeyRange) -> ScanRange`, optionally `get_many(keys, fn)` (see detail::get_many). A
/// Reader whose reads cost a statement or a round trip says `static constexpr bool
/// remember_reads = true`, and the transaction then keeps a ReadMemo.
template <class Reader>
class BufferedTransaction {
  static constexpr bool remember = requires { requires Reader::remember_reads; };

 public:
  using Writes = std::map<std::string, std::optional<std::string>, ByteLess>;

  explicit BufferedTransaction(Reader reader) : reader_(std::move(reader)) {}

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (auto it = writes_.find(key); it != writes_.end()) {
      if (!it->second) return false;
      std::invoke(std::forward<F>(fn), std::string_view(*it->second));
      return true;
    }
    auto found = reader_.get(key, std::forward<F>(fn));
    if (found) {
      if (remember) memo_.note(key, found.value());
      last_read_.assign(key);
      last_found_ = found.value();
    }
    return found;
  }
  /// Reads `keys` together: `fn(i, value)` for each `keys[i]` present. One round trip on the
  /// server engines.
  template <class F>
  Result<void> get_many(std::span<const std::string_view> keys, F&& fn) const {
    std::vector<std::string_view> unwritten;
    std::vector<std::size_t> position;  // in keys, of each unwritten key
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (auto it = writes_.find(keys[i]); it == writes_.end()) unwritten.push_back(keys[i]), position.push_back(i);
      else if (it->second) std::invoke(fn, i, std::string_view(*it->second));
    }
    if (unwritten.empty()) return success();
    std::vector<bool> found(unwritten.size());
    auto read = kvstack::get_many(reader_, std::span<const std::string_view>(unwritten), [&](std::size_t j, std::string_view value) {
      found[j] = true;
      std::invoke(fn, position[j], value);
    });
    if (remember && read)
      for (std::size_t j = 0; j < unwritten.size(); ++j) memo_.note(unwritten[j], found[j]);
    return read;
  }
  Result<void> put(std::string_view key, std::string_view value) {
    auto it = writes_.lower_bound(key);
    if (it == writes_.end() || it->first != key) writes_.emplace_hint(it, key, value);
    else if (it->second) it->second->assign(value);  // (reuses its buffer)
    else it->second.emplace(value);
    return success();
  }
  Result<bool> erase(std::string_view key) {
    auto it = writes_.lower_bound(key);
    if (it != writes_.end() && it->first == key) return std::exchange(it->second, std::nullopt).has_value();
    Result<bool> existed = false;
    if (last_found_ && key == last_read_) {  // a pop: read, then erased
      existed = *last_found_;
    } else if (auto seen = remember ? memo_.find(key) : std::nullopt) {
      existed = *seen;
    } else {
      existed = reader_.get(key, [](std::string_view) {});
      if (remember && existed) memo_.note(key, existed.value());
    }
    if (existed && existed.value()) writes_.emplace_hint(it, key, std::nullopt);
    return existed;
  }
  auto scan(const KeyRange& range) const {
    auto overlay = overlay_in(writes_, range, [](const std::optional<std::string>& v) { return v; });
    auto base = reader_.scan(base_range(range, overlay));  // before overlay moves
    return MergedScan(std::move(base), range, std::move(overlay), remember ? &memo_ : nullptr);
  }

  /// The buffered writes, by key; what the engine applies at commit.
  const Writes& writes() const noexcept { return writes_; }

 private:
  Reader reader_;
  Writes writes_;
  mutable ReadMemo memo_;
  // The last key `get` read in the committed state, and whether it was there.
  mutable std::string last_read_;
  mutable std::optional<bool> last_found_;
};

}  // namespace kvstack::detail
