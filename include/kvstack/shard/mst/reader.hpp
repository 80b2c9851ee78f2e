// detail::MstReader — the user's data in an Mst replica's App: records under 'd' read as
// values, tombstones as absent keys (for gets, scans and transactions).
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/shard/mst/record.hpp>

namespace kvstack::inline v0::detail {

/// Where an Mst replica keeps things in its App.
struct MstLayout {
  static constexpr char data = 'd';              ///< 'd' ++ key: the key's MstRecord
  static constexpr std::string_view tree = "t";  ///< the MerkleSearchTree of the records
  static constexpr char tombstones = 'x';    ///< 'x' ++ 8-byte big-endian time it came ++ key: a tombstone's stamp
  static constexpr char collected = 'g';     ///< 'g' ++ key: when and which tombstone of it was collected
  static constexpr char collected_at = 'y';  ///< 'y' ++ 8-byte big-endian time ++ key: to forget that then
  static constexpr char pending = 'q';       ///< 'q' ++ key: written since the tree last took it in
  static constexpr std::string_view clock_key = "sclock";  ///< the last stamp issued or seen

  static std::string data_key(std::string_view key) { return std::string(1, data).append(key); }
  static std::string pending_key(std::string_view key) { return std::string(1, pending).append(key); }
  static std::string collected_key(std::string_view key) { return std::string(1, collected).append(key); }
  /// `kind` ++ `at` (8 bytes, big-endian, so entries sort by time) ++ key: an index by time.
  static std::string time_key(char kind, std::uint64_t at, std::string_view key) {
    std::string k(1, kind);
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((at >> (8 * i)) & 0xff));
    k += key;
    return k;
  }
};

/// The record of `key` through `reader` (an App or a transaction of it), if any.
template <class Reader>
Result<std::optional<MstRecord>> read_record(const Reader& reader, std::string_view key) {
  std::optional<MstRecord> out;
  Result<void> ok = success();
  auto got = reader.get(MstLayout::data_key(key), [&](std::string_view bytes) {
    auto v = MstRecord::decode(bytes);
    if (!v) ok = v.error();
    else out = v.value().owned();
  });
  if (!got) return got.error();
  if (!ok) return ok.error();
  return out;
}

/// Yields the live entries of a scan of records (keys behind the one-byte data prefix), values
/// viewed inside the records; a damaged record ends the scan with errc::corruption.
template <class Base>
class LiveScan : public ScanBase<LiveScan<Base>> {
 public:
  LiveScan(Base base, std::size_t limit) : base_(std::move(base)), limit_(limit) {}
  LiveScan(LiveScan&&) = default;  // only before begin()

  ScanIterator<LiveScan> begin() {
    if (!it_) {
      it_.emplace(std::ranges::begin(base_));
      settle();
    }
    return {this};
  }
  Result<void> status() const {
    if (this->error_) return *this->error_;
    return base_.status();
  }

 private:
  friend struct ScanIterator<LiveScan>;
  KeyValue current() const { return current_; }
  void advance() {
    ++*it_;
    settle();
  }
  bool done() { return done_; }
  /// Moves to the next live record, or ends.
  void settle() {
    for (; *it_ != std::ranges::end(base_); ++*it_) {
      if (yielded_ == limit_) break;
      KeyValue kv = **it_;
      auto r = MstRecord::decode(kv.value);
      if (!r) {
        this->error_ = r.error();
        break;
      }
      if (r.value().tombstone) continue;
      kv.key.remove_prefix(1);
      current_ = {kv.key, r.value().value};
      ++yielded_;
      return;
    }
    done_ = true;
  }

  Base base_;
  std::size_t limit_, yielded_ = 0;
  bool done_ = false;
  KeyValue current_{};
  std::optional<std::ranges::iterator_t<Base>> it_;
};

/// Reads the user's data out of an App's records: what a transaction reads below its writes.
template <class App>
class MstReader {
 public:
  explicit MstReader(const App* app) : app_(app) {}
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    Result<bool> out = false;
    auto found = app_->get(MstLayout::data_key(key), [&](std::string_view bytes) {
      auto r = MstRecord::decode(bytes);
      if (!r) out = r.error();
      else if (!r.value().tombstone) {
        std::invoke(fn, r.value().value);
        out = true;
      }
    });
    if (!found) return found.error();
    return out;
  }
  auto scan(const KeyRange& range) const {
    static constexpr char prefix = MstLayout::data;
    // Tombstones take no part in the limit: the engine's scan has none, the live scan counts.
    return LiveScan(app_->scan(range.within({&prefix, 1}).limit(std::numeric_limits<std::size_t>::max())),
                    range.max_count());
  }

 private:
  const App* app_;
};

}  // namespace kvstack::detail
