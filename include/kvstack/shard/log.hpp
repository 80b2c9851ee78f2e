// kvstack::LogStorage — what a replication log needs (after etcd-raft's Storage and openraft's
// log storage): its entries by index, the hard state, compaction behind a snapshot.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// One entry of a replication log: its index (from 1), the term it was proposed in, and the
/// command it carries (opaque bytes).
struct LogEntry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string command;
  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

/// What a consensus member must not forget: its current term, whom it voted for in it, and the
/// highest index it knows committed.
struct HardState {
  std::uint64_t term = 0;
  std::optional<std::uint64_t> vote;
  std::uint64_t commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

/// What replaced a compacted prefix of the log: the last index and term it covers, and the
/// membership as of then (opaque to the log).
struct SnapshotMeta {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string membership;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

/// A replication log. Entries are `[first_index(), last_index()]`, without holes; entry
/// `first_index() - 1` is the snapshot's (its term is kept). An empty, never compacted log has
/// first 1, last 0 and term(0) == 0.
///
/// Laws (tests/laws/log_storage_laws.cpp, on BackendLog over every engine):
/// - `term(i)` is defined on `[first - 1, last]`; other indices are errc::invalid_argument;
/// - `entries(lo, hi, max_bytes)` returns `[lo, hi)` in order, cut after the entry that reaches
///   max_bytes but never empty when lo < hi; indices outside `[first, last + 1]` are errors;
/// - `append(es)` takes contiguous entries starting at most at last + 1; it first drops every
///   entry from es[0].index on (the conflicting suffix); entries below first are skipped;
/// - `compact(upto)` drops entries up to `upto` (at most last) and keeps term(upto);
///   `install_snapshot(meta)` drops the whole log and starts it after meta.index;
/// - the hard state round-trips; all of it survives a reopen of a durable engine.
template <class L>
concept LogStorage = requires(L& log, const L& clog, std::span<const LogEntry> es, const HardState& hs,
                              const SnapshotMeta& meta, std::uint64_t i, std::size_t n) {
  { clog.first_index() } -> std::same_as<Result<std::uint64_t>>;
  { clog.last_index() } -> std::same_as<Result<std::uint64_t>>;
  { clog.term(i) } -> std::same_as<Result<std::uint64_t>>;
  { clog.entries(i, i, n) } -> std::same_as<Result<std::vector<LogEntry>>>;
  { log.append(es) } -> std::same_as<Result<void>>;
  { clog.hard_state() } -> std::same_as<Result<HardState>>;
  { log.save(hs) } -> std::same_as<Result<void>>;
  { log.compact(i) } -> std::same_as<Result<void>>;
  { clog.snapshot_meta() } -> std::same_as<Result<SnapshotMeta>>;
  { log.install_snapshot(meta) } -> std::same_as<Result<void>>;
};

/// `static_assert(kvstack::check_log_storage<L>())`: true for a LogStorage; otherwise each
/// missing operation fails to compile with one line naming it.
template <class L>
consteval bool check_log_storage() {
  static_assert(requires(const L& l) { { l.first_index() } -> std::same_as<Result<std::uint64_t>>; },
                "kvstack::LogStorage: missing `first_index() const -> Result<std::uint64_t>`");
  static_assert(requires(const L& l) { { l.last_index() } -> std::same_as<Result<std::uint64_t>>; },
                "kvstack::LogStorage: missing `last_index() const -> Result<std::uint64_t>`");
  static_assert(requires(const L& l, std::uint64_t i) { { l.term(i) } -> std::same_as<Result<std::uint64_t>>; },
                "kvstack::LogStorage: missing `term(std::uint64_t) const -> Result<std::uint64_t>`");
  static_assert(requires(const L& l, std::uint64_t i, std::size_t n) {
                  { l.entries(i, i, n) } -> std::same_as<Result<std::vector<LogEntry>>>;
                }, "kvstack::LogStorage: missing `entries(lo, hi, max_bytes) const -> Result<std::vector<LogEntry>>`");
  static_assert(requires(L& l, std::span<const LogEntry> es) { { l.append(es) } -> std::same_as<Result<void>>; },
                "kvstack::LogStorage: missing `append(std::span<const LogEntry>) -> Result<void>`");
  static_assert(requires(const L& l) { { l.hard_state() } -> std::same_as<Result<HardState>>; },
                "kvstack::LogStorage: missing `hard_state() const -> Result<HardState>`");
  static_assert(requires(L& l, const HardState& h) { { l.save(h) } -> std::same_as<Result<void>>; },
                "kvstack::LogStorage: missing `save(const HardState&) -> Result<void>`");
  static_assert(requires(L& l, std::uint64_t i) { { l.compact(i) } -> std::same_as<Result<void>>; },
                "kvstack::LogStorage: missing `compact(std::uint64_t upto) -> Result<void>`");
  static_assert(requires(const L& l) { { l.snapshot_meta() } -> std::same_as<Result<SnapshotMeta>>; },
                "kvstack::LogStorage: missing `snapshot_meta() const -> Result<SnapshotMeta>`");
  static_assert(requires(L& l, const SnapshotMeta& m) { { l.install_snapshot(m) } -> std::same_as<Result<void>>; },
                "kvstack::LogStorage: missing `install_snapshot(const SnapshotMeta&) -> Result<void>`");
  return true;  // only reached for a LogStorage
}

}  // namespace kvstack
