// kvstack::KeyRange — which keys a scan visits, in which direction, how many — and KeyValue,
// the entry a scan yields.
#pragma once

#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kvstack::inline v0 {

/// One entry of a scan: views valid while the scan range that produced them lives.
/// Binds as `auto&& [key, value]`.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

/// A half-open range of keys `[lower, upper)` in unsigned byte order, plus direction and limit.
/// `KeyRange::prefix("user/").reverse().limit(10)` — the last ten keys starting with "user/".
class KeyRange {
 public:
  static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

  /// Every key.
  static KeyRange all() { return {}; }
  /// Keys starting with `p`; the empty prefix is every key.
  static KeyRange prefix(std::string_view p) {
    KeyRange r;
    r.lower_ = p;
    r.upper_ = prefix_successor(p);
    return r;
  }
  /// Keys `k` with `begin <= k < end`; empty when `begin >= end`.
  static KeyRange between(std::string_view begin, std::string_view end) {
    KeyRange r;
    r.lower_ = begin;
    r.upper_ = std::string(end);
    return r;
  }
  /// Keys `k >= begin`.
  static KeyRange from(std::string_view begin) {
    KeyRange r;
    r.lower_ = begin;
    return r;
  }

  /// The same keys, visited from the last to the first.
  KeyRange reverse() const& { return KeyRange(*this).reverse(); }
  KeyRange reverse() && {
    reverse_ = !reverse_;
    return std::move(*this);
  }
  /// At most `n` entries (counted in the scan's direction).
  KeyRange limit(std::size_t n) const& { return KeyRange(*this).limit(n); }
  KeyRange limit(std::size_t n) && {
    limit_ = n;
    return std::move(*this);
  }

  /// The entries' views need stay valid only until the iterator moves on (instead of while the
  /// range lives): an engine that otherwise keeps what a scan read pinned until the scan ends
  /// (RocksDB) then scans in constant memory. Others ignore it.
  KeyRange streaming() const& { return KeyRange(*this).streaming(); }
  KeyRange streaming() && {
    streaming_ = true;
    return std::move(*this);
  }

  /// The same range, direction, limit and streaming over keys stored behind `p` (as a layer or
  /// a namespace that prefixes its keys stores them): from `p ++ lower` to `p ++ upper`, or to
  /// the end of the keys starting with `p` when unbounded.
  KeyRange within(std::string_view p) const {
    KeyRange r = *this;
    r.lower_.insert(0, p);
    if (r.upper_) r.upper_->insert(0, p);
    else r.upper_ = prefix_successor(p);
    return r;
  }

  /// Inclusive lower bound ("" is the smallest key).
  std::string_view lower() const noexcept { return lower_; }
  /// Exclusive upper bound; empty optional when unbounded.
  const std::optional<std::string>& upper() const noexcept { return upper_; }
  bool is_reverse() const noexcept { return reverse_; }
  std::size_t max_count() const noexcept { return limit_; }
  bool is_streaming() const noexcept { return streaming_; }

  /// True when no key can fall in the range (or the limit is 0).
  bool is_empty() const noexcept { return limit_ == 0 || (upper_ && *upper_ <= lower_); }
  bool below_upper(std::string_view key) const noexcept {  // on every step of a scan: kept inline
    if (!upper_) return true;
    const std::size_t n = key.size() < upper_->size() ? key.size() : upper_->size();
    const int order = n == 0 ? 0 : std::memcmp(key.data(), upper_->data(), n);
    return order < 0 || (order == 0 && key.size() < upper_->size());
  }
  bool contains(std::string_view key) const noexcept { return key >= lower_ && below_upper(key); }

  /// The smallest key greater than every key starting with `p`; empty when there is none
  /// (p is empty or all 0xff bytes).
  static std::optional<std::string> prefix_successor(std::string_view p) {
    std::string s(p);
    while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
    if (s.empty()) return std::nullopt;
    s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
    return s;
  }

 private:
  std::string lower_;
  std::optional<std::string> upper_;
  bool reverse_ = false;
  bool streaming_ = false;
  std::size_t limit_ = unlimited;
};

}  // namespace kvstack
