// kvstack::stats and kvstack::count_keys — how many keys a range holds and how many bytes,
// counted exactly.
#pragma once

#include <concepts>
#include <cstdint>
#include <ranges>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// The keys in a range and their sizes.
struct Stats {
  std::uint64_t keys = 0;
  std::uint64_t key_bytes = 0;
  std::uint64_t value_bytes = 0;
  friend bool operator==(const Stats&, const Stats&) = default;
};

/// Exact figures for `range` (its limit applies; direction does not matter) on any backend,
/// layer or transaction: one streaming scan, so what a layer hides (expired keys) is not
/// counted. Engines' estimates (RocksDB's "estimate-num-keys") are not used: they are not exact.
template <class Source>
Result<Stats> stats(const Source& source, const KeyRange& range) {
  Stats s;
  auto scan = source.scan(range.streaming());
  for (auto it = std::ranges::begin(scan); it != std::ranges::end(scan); ++it) {
    auto&& [key, value] = *it;
    ++s.keys;
    s.key_bytes += key.size();
    s.value_bytes += value.size();
  }
  if (auto st = scan.status(); !st) return st.error();
  return s;
}

/// The number of keys in `range` (its limit applies), exactly: the source's own
/// `count(range) -> Result<std::uint64_t>` where it has one (the SQL engines count on the server,
/// RedisBackend with ZLEXCOUNT: nothing crosses the wire but the number), else one streaming scan.
template <class Source>
Result<std::uint64_t> count_keys(const Source& source, const KeyRange& range) {
  if constexpr (requires { { source.count(range) } -> std::same_as<Result<std::uint64_t>>; }) {
    return source.count(range);
  } else {
    auto s = stats(source, range);
    if (!s) return s.error();
    return s.value().keys;
  }
}

}  // namespace kvstack
