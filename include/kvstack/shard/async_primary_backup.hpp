// kvstack::AsyncPrimaryBackup — asynchronous primary-backup replication: the primary applies a
// write at once, keeps it in its log as a durable outbox and ships it to every backup in order,
// again and again until acknowledged; backups apply by index, exactly once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/log.hpp>
#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0 {

/// The members of a primary-backup shard and its tuning (time in ticks).
struct PrimaryBackupConfig {
  std::uint64_t id = 0;                 ///< this replica (ids are non-zero: 0 means "unknown")
  std::vector<std::uint64_t> members{}; ///< every replica's id, this one included
  std::uint64_t primary = 0;            ///< the primary when the shard is first created
  std::size_t max_append_bytes = std::size_t{1} << 20;  ///< per append message (at least one entry)
  std::uint64_t max_unacknowledged = 1024;  ///< entries in flight to one backup
  std::uint64_t retry_ticks = 3;        ///< resend what has no acknowledgement after this long
  std::uint64_t heartbeat_ticks = 2;    ///< an idle primary tells backups where it is this often
  std::uint64_t compact_every = 1024;   ///< compact the log when every backup is this far past its start
  std::uint64_t max_log_entries = std::uint64_t{1} << 20;  ///< beyond this, compact anyway (lagging backups get snapshots)
};

/// The seeds' "Basic" policy, without its defect (fire and forget): nothing is dropped
/// silently. Consistency is eventual: a backup serves reads that may lag.
///
/// Backups report the index and term of the last entry they applied; the primary checks them
/// against its log (as Raft's log matching) and resends from there, or re-seeds the backup from
/// a snapshot when its log no longer reaches back that far or the backup holds entries the
/// primary does not (a deposed primary).
///
/// What a failover loses: `promote()` makes a backup the primary with exactly the entries it
/// had applied; the old primary's entries after that index (acknowledged to its clients, not
/// yet to that backup) are lost, and nothing before it. A deposed primary that comes back sees
/// the higher term, steps down and is re-seeded.
class AsyncPrimaryBackup {
 public:
  static constexpr bool needs_log = true;
  static constexpr Consistency consistency = Consistency::eventual;

  explicit AsyncPrimaryBackup(PrimaryBackupConfig config) : config_(std::move(config)) {}

  /// True on the primary.
  bool is_primary() const noexcept { return role_ == Role::primary; }
  std::uint64_t term() const noexcept { return term_; }
  /// How many backups have acknowledged `index` (Redis's WAIT counts these).
  std::size_t acknowledged(std::uint64_t index) const {
    return static_cast<std::size_t>(
        std::count_if(peers_.begin(), peers_.end(), [&](const auto& p) { return p.second.match >= index; }));
  }

  /// Makes this backup the primary, in a new term, with what it has applied (see the class
  /// comment for what that loses). Call it through `Shard::with_policy`.
  template <class L>
  Result<void> promote(L& log) {
    if (role_ == Role::primary) return success();
    if (auto r = log.install_snapshot(SnapshotMeta{applied_, applied_term_, {}}); !r) return r;
    if (auto r = set_term(log, term_ + 1, config_.id); !r) return r;
    become_primary(applied_);
    return success();
  }

  template <class L>
  Result<void> start(L& log, std::uint64_t applied, std::uint64_t applied_term) {
    auto hs = log.hard_state();
    if (!hs) return hs.error();
    applied_ = applied;
    applied_term_ = applied_term;
    term_ = hs.value().term;
    primary_ = hs.value().vote.value_or(config_.primary);
    if (term_ == 0)
      if (auto r = set_term(log, 1, config_.primary); !r) return r;
    if (primary_ != config_.id) return success();  // a backup
    auto first = log.first_index();
    auto last = log.last_index();
    if (!first) return first.error();
    if (!last) return last.error();
    if (applied >= last.value()) {  // nothing to re-apply: the log starts after the App
      if (applied > last.value())
        if (auto r = log.install_snapshot(SnapshotMeta{applied, applied_term, {}}); !r) return r;
      become_primary(applied);
      return success();
    }
    if (applied + 1 < first.value())
      return Error{errc::corruption, "AsyncPrimaryBackup: the App applied up to " + std::to_string(applied) +
                                         " but the log starts at " + std::to_string(first.value())};
    auto pending = log.entries(applied + 1, last.value() + 1, static_cast<std::size_t>(-1));  // written, not applied
    if (!pending) return pending.error();
    become_primary(last.value());
    for (auto& e : pending.value()) {
      track(e);
      unapplied_.push_back(std::move(e));
    }
    return success();
  }

  template <class L>
  Result<std::uint64_t> propose(L& log, std::vector<std::string> commands) {
    if (role_ != Role::primary)
      return Error{errc::not_leader, "AsyncPrimaryBackup: replica " + std::to_string(config_.id) +
                                         " is a backup; the primary is " + std::to_string(primary_)};
    const std::uint64_t first = last_ + 1;
    std::vector<LogEntry> entries;
    entries.reserve(commands.size());
    for (auto& c : commands) entries.push_back({first + entries.size(), term_, std::move(c)});
    if (auto r = log.append(entries); !r) return r.error();  // the outbox, before applying
    for (auto& e : entries) {
      last_ = e.index;
      if (!peers_.empty()) track(e);
      unapplied_.push_back(std::move(e));
    }
    return first;
  }

  template <class L>
  Result<void> step(L& log, Message m) {
    if (m.term > term_) {  // a newer primary's term
      if (auto r = set_term(log, m.term, m.type == MessageType::append ? m.from : 0); !r) return r;
      role_ = Role::backup;
      peers_.clear();
      outstanding_.clear();
    }
    if (m.type == MessageType::append) return on_append(m);
    if (m.type == MessageType::append_response && role_ == Role::primary && m.term == term_) return on_response(log, m);
    return success();
  }

  template <class L>
  Result<void> tick(L&) {
    ++now_;
    if (role_ != Role::primary) return success();
    for (auto& [id, p] : peers_) {
      if (p.sent > p.match && now_ - p.sent_at >= config_.retry_ticks) p.sent = p.match;  // resend the unacknowledged
      if (now_ - p.sent_at >= config_.heartbeat_ticks) p.heartbeat_due = true;
    }
    return success();
  }

  template <class L>
  Result<Ready> ready(L& log) {
    Ready r;
    r.apply = std::exchange(unapplied_, {});
    r.messages = std::exchange(outbox_, {});
    if (role_ != Role::primary) return r;
    auto first = log.first_index();
    if (!first) return first.error();
    for (auto& [id, p] : peers_) {
      if (p.snapshotting) continue;
      if (p.diverged || p.sent + 1 < first.value()) {  // its next entry was compacted away, or it went its own way
        p.snapshotting = true;
        p.diverged = false;
        r.snapshot_to.push_back(id);
        continue;
      }
      if (p.sent < last_ && p.sent - p.match < config_.max_unacknowledged) {
        auto es = log.entries(p.sent + 1, last_ + 1, config_.max_append_bytes);
        if (!es) return es.error();
        auto m = append_to(log, id, p.sent, std::move(es.value()));
        if (!m) return m.error();
        r.messages.push_back(std::move(m.value()));
        p.sent = r.messages.back().entries.back().index;
      } else if (p.heartbeat_due) {
        auto m = append_to(log, id, last_, {});
        if (!m) return m.error();
        r.messages.push_back(std::move(m.value()));
      } else {
        continue;
      }
      p.sent_at = now_;
      p.heartbeat_due = false;
    }
    if (auto c = compact(log); !c) return c.error();
    return r;
  }

  void applied(std::uint64_t index, std::uint64_t term) {
    applied_ = index;
    applied_term_ = term;
  }
  void snapshot_sent(std::uint64_t peer, const SnapshotMeta& meta) {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return;
    Peer& p = it->second;
    p.snapshotting = false;
    p.match = p.sent = meta.index;
    p.heartbeat_due = true;
  }

  ShardStatus status() const {
    ShardStatus s{.id = config_.id, .role = role_, .term = term_, .leader = primary_ ? std::optional(primary_) : std::nullopt,
                  .commit = role_ == Role::primary ? last_ : applied_, .applied = applied_};
    for (const auto& [id, p] : peers_) {
      PeerStatus ps{.id = id, .match = p.match, .lag_entries = last_ - std::min(last_, p.match), .snapshotting = p.snapshotting};
      auto oldest = std::partition_point(outstanding_.begin(), outstanding_.end(),
                                         [&](const Outstanding& o) { return o.index <= p.match; });
      if (oldest != outstanding_.end()) {
        ps.lag_bytes = proposed_bytes_ - oldest->bytes_before;
        ps.lag_ticks = std::max<std::uint64_t>(now_ - oldest->tick, 1);
      }
      s.peers.push_back(ps);
    }
    return s;
  }

 private:
  struct Peer {
    std::uint64_t match = 0;  // acknowledged
    std::uint64_t sent = 0;   // sent up to
    std::uint64_t sent_at = 0;
    bool heartbeat_due = true;
    bool snapshotting = false;
    bool diverged = false;  // holds entries the primary's log does not
  };
  struct Outstanding {  // a proposal some backup has not acknowledged, for the lag figures
    std::uint64_t index, tick;
    std::uint64_t bytes_before;  // proposed_bytes_ before it
  };
  void track(const LogEntry& e) {
    outstanding_.push_back({e.index, now_, proposed_bytes_});
    proposed_bytes_ += e.command.size();
  }

  void become_primary(std::uint64_t last) {
    role_ = Role::primary;
    primary_ = config_.id;
    last_ = last;
    peers_.clear();
    for (std::uint64_t id : config_.members)
      if (id != config_.id) peers_[id] = Peer{.match = 0, .sent = last};  // a heartbeat finds out where it is
  }

  template <class L>
  Result<void> set_term(L& log, std::uint64_t term, std::uint64_t primary) {
    if (auto r = log.save(HardState{term, primary, 0}); !r) return r;
    term_ = term;
    primary_ = primary;
    return success();
  }

  template <class L>
  Result<Message> append_to(L& log, std::uint64_t peer, std::uint64_t prev, std::vector<LogEntry> entries) const {
    auto prev_term = log.term(prev);
    if (!prev_term) return prev_term.error();
    Message m{.type = MessageType::append, .from = config_.id, .to = peer, .term = term_, .index = prev,
              .log_term = prev_term.value(), .commit = last_};
    m.entries = std::move(entries);
    return m;
  }

  /// A backup takes the entries that follow what it has, once it knows they continue its
  /// history (the entry it has last matches the primary's at that index).
  Result<void> on_append(const Message& m) {
    Message r{.type = MessageType::append_response, .from = config_.id, .to = m.from, .term = term_};
    if (m.term < term_) {
      r.reject = true;  // a deposed primary: the term tells it
      outbox_.push_back(std::move(r));
      return success();
    }
    primary_ = m.from;
    std::uint64_t have = applied_, have_term = applied_term_;
    if (!unapplied_.empty()) have = unapplied_.back().index, have_term = unapplied_.back().term;
    bool matches = m.index == have && m.log_term == have_term;
    for (const auto& e : m.entries) {
      if (e.index == have && e.term == have_term) matches = true;
      if (matches && e.index == have + 1) {
        unapplied_.push_back(e);
        have = e.index;
        have_term = e.term;
      }
    }
    r.reject = !matches;
    r.index = have;
    r.log_term = have_term;
    outbox_.push_back(std::move(r));
    return success();
  }

  /// The primary learns where a backup is. A rejection carries the backup's last entry: if the
  /// primary's log has it, shipping resumes after it; otherwise the backup is re-seeded.
  template <class L>
  Result<void> on_response(L& log, const Message& m) {
    auto it = peers_.find(m.from);
    if (it == peers_.end()) return success();
    Peer& p = it->second;
    if (p.snapshotting) return success();
    if (!m.reject) {
      p.match = std::max(p.match, std::min(m.index, last_));
      p.sent = std::max(p.sent, p.match);
      trim_outstanding();
      return success();
    }
    auto first = log.first_index();
    if (!first) return first.error();
    if (m.index > last_) {
      p.diverged = true;
    } else if (m.index + 1 >= first.value()) {
      auto t = log.term(m.index);
      if (!t) return t.error();
      p.diverged = t.value() != m.log_term;
    }
    p.match = p.sent = std::min(m.index, last_);  // below first: ready() re-seeds it
    p.heartbeat_due = true;
    return success();
  }

  void trim_outstanding() {
    std::uint64_t low = last_;
    for (const auto& [id, q] : peers_) low = std::min(low, q.match);
    while (!outstanding_.empty() && outstanding_.front().index <= low) outstanding_.pop_front();
  }

  /// Drops log entries every backup has, in steps of compact_every; and, when the log grows past
  /// max_log_entries, entries a lagging backup still needs (it is then re-seeded).
  template <class L>
  Result<void> compact(L& log) {
    auto first = log.first_index();
    if (!first) return first.error();
    std::uint64_t low = std::min(last_, applied_);
    for (const auto& [id, p] : peers_) low = std::min(low, p.match);
    if (last_ - std::min(last_, first.value()) >= config_.max_log_entries)
      low = std::max(low, std::min(applied_, last_ - config_.max_log_entries / 2));
    if (low < first.value() || low + 1 - first.value() < config_.compact_every) return success();
    return log.compact(low);
  }

  PrimaryBackupConfig config_;
  Role role_ = Role::backup;
  std::uint64_t term_ = 0;
  std::uint64_t primary_ = 0;  // 0: unknown
  std::uint64_t applied_ = 0, applied_term_ = 0;
  std::uint64_t last_ = 0;  // the primary's last log index
  std::uint64_t now_ = 0;   // ticks
  std::map<std::uint64_t, Peer> peers_;
  std::deque<Outstanding> outstanding_;  // in index order
  std::uint64_t proposed_bytes_ = 0;      // of every command tracked in outstanding_, ever
  std::vector<LogEntry> unapplied_;
  std::vector<Message> outbox_;
};

static_assert(check_replication_policy<AsyncPrimaryBackup>());

}  // namespace kvstack
