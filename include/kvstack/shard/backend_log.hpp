// kvstack::BackendLog<B> — a LogStorage kept in any Backend, under a namespace of its own (so it
// may share one engine with the application's data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/codec/key.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/shard/log.hpp>

namespace kvstack::inline v0 {

/// A replication log in the Backend B (held by pointer: B outlives the log), under the key
/// prefix `ns`. Layout: `ns 'e' index` (big-endian) -> term (8 bytes, big-endian) ++ command;
/// `ns 'h'` -> the hard state; `ns 's'` -> the snapshot metadata. Each write is one transaction
/// of B, so a crash leaves either all of it or none; it is as durable as B's commits.
///
/// It keeps the first and last index in memory: every write to the log must go through this
/// object, one call at a time (a Shard serializes them).
template <class B>
class BackendLog {
  static_assert(check_backend<B>());

 public:
  BackendLog(B& backend, std::string_view ns) : backend_(&backend), prefix_(ns) {}

  Result<std::uint64_t> first_index() const {
    auto b = bounds();
    if (!b) return b.error();
    return b.value().meta.index + 1;
  }
  Result<std::uint64_t> last_index() const {
    auto b = bounds();
    if (!b) return b.error();
    return b.value().last;
  }

  Result<std::uint64_t> term(std::uint64_t i) const {
    auto b = bounds();
    if (!b) return b.error();
    const SnapshotMeta& meta = b.value().meta;
    if (i == meta.index) return meta.term;
    if (i < meta.index) return out_of_range("term", i, "compacted");
    if (i > b.value().last) return out_of_range("term", i, "past the last entry");
    std::optional<std::uint64_t> found;
    std::optional<Error> bad;
    auto got = backend_->get(entry_key(i), [&](std::string_view v) {
      if (v.size() < 8) bad = corrupt("entry " + std::to_string(i));
      else found = read_u64(v);
    });
    if (!got) return got.error();
    if (bad) return *bad;
    if (!found) return corrupt("a hole at " + std::to_string(i));
    return *found;
  }

  Result<std::vector<LogEntry>> entries(std::uint64_t lo, std::uint64_t hi, std::size_t max_bytes) const {
    auto b = bounds();
    if (!b) return b.error();
    const std::uint64_t first = b.value().meta.index + 1, last = b.value().last;
    if (lo < first || hi > last + 1 || lo > hi)
      return Error{errc::invalid_argument, "log '" + prefix_ + "': entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                               ") are not within [" + std::to_string(first) + ", " +
                                               std::to_string(last + 1) + ")"};
    std::vector<LogEntry> out;
    std::size_t bytes = 0;
    std::optional<Error> bad;
    auto scan = backend_->scan(KeyRange::between(entry_key(lo), entry_key(hi)));
    for (auto&& [k, v] : scan) {
      if (v.size() < 8) {
        bad = corrupt("an entry");
        break;
      }
      LogEntry e{read_u64(k.substr(k.size() - 8)), read_u64(v), std::string(v.substr(8))};
      if (e.index != lo + out.size()) {
        bad = corrupt("a hole at " + std::to_string(lo + out.size()));
        break;
      }
      bytes += e.command.size();
      out.push_back(std::move(e));
      if (bytes >= max_bytes) break;  // at least one entry: a large one is not stuck
    }
    if (bad) return *bad;
    if (auto st = scan.status(); !st) return st.error();
    if (out.size() != hi - lo && bytes < max_bytes) return corrupt("a hole at " + std::to_string(lo + out.size()));
    return out;
  }

  Result<void> append(std::span<const LogEntry> es) {
    for (std::size_t i = 1; i < es.size(); ++i)
      if (es[i].index != es[i - 1].index + 1)
        return Error{errc::invalid_argument, "log '" + prefix_ + "': appended entries are not contiguous at " +
                                                 std::to_string(es[i].index)};
    auto b = bounds();
    if (!b) return b.error();
    const std::uint64_t snap = b.value().meta.index, last = b.value().last;
    while (!es.empty() && es.front().index <= snap) es = es.subspan(1);  // compacted already
    if (es.empty()) return success();
    if (es.front().index > last + 1)
      return Error{errc::invalid_argument, "log '" + prefix_ + "': appending at " + std::to_string(es.front().index) +
                                               " would leave a hole after " + std::to_string(last)};
    auto wrote = backend_->transact([&](auto& tx) -> Result<void> {
      for (std::uint64_t i = es.front().index; i <= last; ++i)  // the conflicting suffix
        if (auto r = tx.erase(entry_key(i)); !r) return r.error();
      std::string value;
      for (const auto& e : es) {
        value.clear();
        KeyCodec<std::uint64_t>::encode(e.term, value);
        value += e.command;
        if (auto r = tx.put(entry_key(e.index), value); !r) return r;
      }
      return success();
    });
    return updating(std::move(wrote), Bounds{b.value().meta, es.back().index});
  }

  Result<HardState> hard_state() const {
    HardState h;
    std::optional<Error> bad;
    auto got = backend_->get(prefix_ + 'h', [&](std::string_view v) {
      if (v.size() != 25) {
        bad = corrupt("the hard state");
        return;
      }
      h.term = read_u64(v);
      if (v[8] != 0) h.vote = read_u64(v.substr(9));
      h.commit = read_u64(v.substr(17));
    });
    if (!got) return got.error();
    if (bad) return *bad;
    return h;
  }
  Result<void> save(const HardState& h) {
    std::string v;
    KeyCodec<std::uint64_t>::encode(h.term, v);
    v.push_back(h.vote ? '\1' : '\0');
    KeyCodec<std::uint64_t>::encode(h.vote.value_or(0), v);
    KeyCodec<std::uint64_t>::encode(h.commit, v);
    return backend_->put(prefix_ + 'h', v);
  }

  /// Drops the entries up to `upto`; the membership as of `upto` replaces the kept one when
  /// given (a consensus log whose configuration lives in its entries passes it).
  Result<void> compact(std::uint64_t upto, std::optional<std::string> membership = std::nullopt) {
    auto b = bounds();
    if (!b) return b.error();
    const SnapshotMeta& meta = b.value().meta;
    if (upto <= meta.index) return success();  // compacted already
    if (upto > b.value().last) return out_of_range("compact", upto, "past the last entry");
    auto term = this->term(upto);
    if (!term) return term.error();
    SnapshotMeta next = meta;
    next.index = upto;
    next.term = term.value();
    if (membership) next.membership = std::move(*membership);
    auto wrote = backend_->transact([&](auto& tx) -> Result<void> {
      for (std::uint64_t i = meta.index + 1; i <= upto; ++i)
        if (auto r = tx.erase(entry_key(i)); !r) return r.error();
      return tx.put(prefix_ + 's', encode(next));
    });
    return updating(std::move(wrote), Bounds{next, b.value().last});
  }

  Result<SnapshotMeta> snapshot_meta() const {
    auto b = bounds();
    if (!b) return b.error();
    return b.value().meta;
  }
  Result<void> install_snapshot(const SnapshotMeta& meta) {
    return updating(backend_->transact([&](auto& tx) -> Result<void> {
      std::vector<std::string> keys;
      {
        auto scan = tx.scan(KeyRange::prefix(prefix_ + 'e'));
        for (auto&& [k, v] : scan) keys.emplace_back(k);
        if (auto st = scan.status(); !st) return st.error();
      }
      for (const auto& k : keys)
        if (auto r = tx.erase(k); !r) return r.error();
      return tx.put(prefix_ + 's', encode(meta));
    }), Bounds{meta, meta.index});
  }

 private:
  struct Bounds {
    SnapshotMeta meta;
    std::uint64_t last = 0;
  };
  /// The snapshot metadata and the last index, read once and then kept (every write goes
  /// through this object, which refreshes them).
  Result<Bounds> bounds() const {
    if (!bounds_) {
      auto meta = meta_in(*backend_);
      if (!meta) return meta.error();
      auto last = last_in(*backend_, meta.value().index);
      if (!last) return last.error();
      bounds_ = Bounds{std::move(meta).value(), last.value()};
    }
    return *bounds_;
  }
  /// After a write: the bounds it leaves when it succeeded and they are known, else read them
  /// again on next use.
  Result<void> updating(Result<void> wrote, std::optional<Bounds> after) {
    if (wrote && after) bounds_ = std::move(after);
    else bounds_.reset();
    return wrote;
  }

  std::string entry_key(std::uint64_t i) const {
    std::string k = prefix_ + 'e';
    KeyCodec<std::uint64_t>::encode(i, k);
    return k;
  }
  static std::uint64_t read_u64(std::string_view s) {
    std::uint64_t v = 0;
    KeyCodec<std::uint64_t>::decode(s, v);
    return v;
  }
  static std::string encode(const SnapshotMeta& m) {
    std::string v;
    KeyCodec<std::uint64_t>::encode(m.index, v);
    KeyCodec<std::uint64_t>::encode(m.term, v);
    return v + m.membership;
  }
  template <class Source>
  Result<SnapshotMeta> meta_in(const Source& source) const {
    SnapshotMeta m;
    std::optional<Error> bad;
    auto got = source.get(prefix_ + 's', [&](std::string_view v) {
      if (v.size() < 16) {
        bad = corrupt("the snapshot metadata");
        return;
      }
      m.index = read_u64(v);
      m.term = read_u64(v.substr(8));
      m.membership = v.substr(16);
    });
    if (!got) return got.error();
    if (bad) return *bad;
    return m;
  }
  // The last index: the highest entry's, or the snapshot's when no entry follows it.
  template <class Source>
  Result<std::uint64_t> last_in(const Source& source, std::uint64_t snapshot_index) const {
    std::uint64_t last = snapshot_index;
    auto scan = source.scan(KeyRange::prefix(prefix_ + 'e').reverse().limit(1));
    for (auto&& [k, v] : scan) last = read_u64(k.substr(k.size() - 8));
    if (auto st = scan.status(); !st) return st.error();
    return last;
  }
  Error out_of_range(const char* what, std::uint64_t i, const char* why) const {
    return {errc::invalid_argument, "log '" + prefix_ + "': " + what + "(" + std::to_string(i) + "): " + why};
  }
  Error corrupt(const std::string& what) const {
    return {errc::corruption, "log '" + prefix_ + "': " + what + " does not decode"};
  }

  B* backend_;
  std::string prefix_;
  mutable std::optional<Bounds> bounds_;
};

}  // namespace kvstack
