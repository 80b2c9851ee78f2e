// Shipping a replicated shard's App to a peer in bounded chunks: SnapshotSender reads a
// consistent scan of the data into chunks, one in flight at a time; SnapshotReceiver installs
// them in order, each chunk in one transaction, and the applied mark with the last one.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>
#include <kvstack/shard/apply.hpp>
#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0::detail {

/// Sends the App's data as a byte stream of records (key and value, varint-length-prefixed),
/// cut into chunks of at most `max_bytes`, over one scan opened with the applied mark it
/// matches. `chunk` is the chunk in flight: sent again until the peer asks for the next.
template <class App>
class SnapshotSender {
  using Scan = decltype(std::declval<const App&>().scan(KeyRange::all()));

 public:
  Message chunk;
  std::uint64_t idle_ticks = 0;

  /// Opens the scan; the caller holds off writers meanwhile, so the mark matches the data.
  static Result<SnapshotSender> open(const App& app, std::uint64_t peer, const ShardStatus& self,
                                     std::uint64_t session, std::size_t max_bytes) {
    auto mark = read_mark(app);
    if (!mark) return mark.error();
    if (mark.value().restoring) return Error{errc::busy, "shard: cannot send a snapshot while restoring one"};
    SnapshotSender s;
    s.max_bytes_ = max_bytes == 0 ? 1 : max_bytes;
    static constexpr char prefix = AppLayout::data;
    s.scan_ = std::make_unique<Scan>(app.scan(KeyRange::prefix({&prefix, 1}).streaming()));
    s.it_.emplace(std::ranges::begin(*s.scan_));
    s.chunk.type = MessageType::snapshot_chunk;
    s.chunk.from = self.id;
    s.chunk.to = peer;
    s.chunk.term = self.term;
    s.chunk.session = session;
    s.chunk.snapshot = {mark.value().index, mark.value().term, {}};
    s.chunk.index = mark.value().index;
    if (auto r = s.fill(); !r) return r.error();
    return s;
  }

  /// Moves on to the next chunk (the peer has the current one).
  Result<void> advance() {
    ++chunk.offset;
    idle_ticks = 0;
    return fill();
  }

 private:
  Result<void> fill() {
    auto end = std::ranges::end(*scan_);
    while (pending_.size() < max_bytes_ && *it_ != end) {
      KeyValue kv = **it_;
      put_varint(kv.key.size() - 1, pending_);
      pending_.append(kv.key.substr(1));
      put_varint(kv.value.size(), pending_);
      pending_.append(kv.value);
      ++*it_;
    }
    if (auto st = scan_->status(); !st) return st;
    const std::size_t n = std::min(max_bytes_, pending_.size());
    chunk.data.assign(pending_, 0, n);
    pending_.erase(0, n);
    chunk.done = pending_.empty() && *it_ == end;
    return success();
  }

  std::size_t max_bytes_ = 0;
  std::unique_ptr<Scan> scan_;
  std::optional<std::ranges::iterator_t<Scan>> it_;
  std::string pending_;
};

/// Installs the chunks of one transfer at a time, in order (a chunk 0 of another transfer
/// starts over). The first chunk empties the data and
/// sets the restoring mark; the last one clears it and sets the applied mark to the snapshot's.
/// A crash in between leaves the mark, so the replica knows its data is incomplete.
class SnapshotReceiver {
 public:
  struct Answer {
    Message response;
    bool started = false;    ///< this chunk began a snapshot (the App's data is now incomplete)
    bool installed = false;  ///< this chunk completed the snapshot
  };

  /// Forgets the transfer in progress (entries were applied over what it had written).
  void abandon() { session_ = {}; }

  /// Handles chunk `m` for a replica whose policy is at `term`.
  template <class App>
  Result<Answer> accept(App& app, const Message& m, std::uint64_t term) {
    Answer a;
    a.response.type = MessageType::snapshot_response;
    a.response.from = m.to;
    a.response.to = m.from;
    a.response.term = std::max(term, m.term);
    a.response.index = m.snapshot.index;
    a.response.session = m.session;
    if (m.term < term) {
      a.response.reject = true;
      return a;
    }
    const Session session{m.from, m.session, m.snapshot.index, m.snapshot.term};
    if (std::find(finished_.begin(), finished_.end(), session) != finished_.end()) {
      a.response.offset = m.offset + 1;  // a late copy of a chunk of an installed snapshot
      return a;
    }
    if (m.offset == 0 && !(session_ == session)) {  // a new transfer replaces an unfinished one
      session_ = session;
      next_ = 0;
      carry_.clear();
    }
    if (!(session_ == session) || m.offset != next_) {
      a.response.offset = session_ == session ? next_ : 0;  // a duplicate, or ask to start over
      return a;
    }
    std::string carry = carry_ + m.data;
    std::string_view in = carry;
    auto wrote = app.transact([&](auto& tx) -> Result<void> {
      if (m.offset == 0) {
        if (auto r = erase_data(tx); !r) return r;
        if (auto r = tx.put(AppLayout::restoring_key, ""); !r) return r;
      }
      std::string key;
      for (;;) {
        std::string_view rest = in, k, v;
        if (!take_bytes(rest, k) || !take_bytes(rest, v)) break;
        if (auto r = tx.put(AppLayout::data_key(k, key), v); !r) return r;
        in = rest;
      }
      if (!m.done) return success();
      if (!in.empty()) return Error{errc::corruption, "shard: a snapshot ends inside a record"};
      if (auto r = tx.erase(AppLayout::restoring_key); !r) return r.error();
      return tx.put(AppLayout::applied_key, encode_mark(m.snapshot.index, m.snapshot.term));
    });
    if (!wrote) return wrote.error();
    carry_ = std::string(in);
    a.response.offset = ++next_;
    a.started = m.offset == 0;
    a.installed = m.done;
    if (m.done) {
      finished_[finished_count_++ % finished_.size()] = session;
      session_ = {};
    }
    return a;
  }

 private:
  struct Session {
    // A sender that restarts numbers its transfers from 1 again; a transfer of the same mark
    // is the same bytes, so the mark completes the identity.
    std::uint64_t from = 0, id = 0, index = 0, term = 0;
    friend bool operator==(const Session&, const Session&) = default;
  };

  Session session_;
  std::array<Session, 8> finished_{};  // the last transfers installed, whose late copies are ignored
  std::size_t finished_count_ = 0;
  std::uint64_t next_ = 0;
  std::string carry_;
};

}  // namespace kvstack::detail
