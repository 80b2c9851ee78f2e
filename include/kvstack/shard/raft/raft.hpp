// kvstack::Raft — consensus as a ReplicationPolicy, in the style of etcd's raft: a deterministic
// core (ticks, messages and proposals in; entries to apply and messages to send out) with
// pre-vote, check-quorum, flow control, ReadIndex read barriers, leader transfer, one-server
// membership changes, learners and log compaction behind the App's snapshots.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/log.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/raft/membership.hpp>
#include <kvstack/shard/raft/progress.hpp>

namespace kvstack::inline v0 {

/// A Raft member and its tuning (time in ticks).
struct RaftConfig {
  std::uint64_t id = 0;                      ///< this member (ids are non-zero)
  std::vector<std::uint64_t> voters{};       ///< the first membership, for a log that has none yet
  std::vector<std::uint64_t> learners{};     ///< likewise
  std::uint64_t seed = 0;                    ///< randomizes election timeouts (mixed with the id)
  std::uint64_t election_ticks = 10;         ///< a follower hearing no leader for [e, 2e) ticks campaigns
  std::uint64_t heartbeat_ticks = 1;         ///< a leader's heartbeat interval
  bool pre_vote = true;                      ///< ask whether a vote would win before raising the term
  bool check_quorum = true;                  ///< a leader not heard from by a quorum for e ticks steps down
  std::size_t max_append_bytes = std::size_t{1} << 20;      ///< per append message (at least one entry)
  std::uint64_t max_in_flight = 64;                         ///< appends in flight to one follower
  std::size_t max_in_flight_bytes = std::size_t{16} << 20;  ///< and their bytes
  std::size_t max_apply_bytes = std::size_t{16} << 20;      ///< entries handed to the App at once
  std::uint64_t compact_every = 4096;        ///< compact the log when this many applied entries precede the kept ones
  std::uint64_t max_log_entries = std::uint64_t{1} << 20;  ///< beyond this, compact past lagging followers (they get snapshots)
};

namespace raft {
/// Deliberate bugs, for showing that the simulation catches them (tests only). Each switch
/// breaks one rule of Raft.
struct Correct {
  static constexpr bool vote_without_log_check = false;  ///< grant votes to candidates whose log is behind
  static constexpr bool commit_earlier_terms = false;    ///< commit an earlier term's entry by counting (Figure 8)
  static constexpr bool read_without_quorum = false;     ///< answer read barriers without confirming leadership
  static constexpr bool compact_past_unsynced = false;   ///< compact the log past what the App has not synced
  static constexpr bool read_before_term_applied = false;  ///< a new leader's transactions read before its first entry applied
};
}  // namespace raft

/// Raft (Ongaro and Ousterhout; Ongaro's thesis for pre-vote, check-quorum, ReadIndex, leader
/// transfer and membership changes). Consistency is linearizable: writes apply once a majority
/// holds them; reads pass a barrier (`read`) that confirms the leadership with a round of
/// heartbeats, many reads sharing one round.
///
/// Membership changes one server at a time (`change_membership`): a new server joins as a
/// learner, receives the log (or a snapshot), and is then promoted. A change takes effect when
/// appended, and a leader proposes one only after it has committed an entry of its term and
/// every earlier change, which is what makes single-server changes safe (the thesis' fix).
///
/// Durability: the vote and the entries are saved to the log before any message that depends on
/// them is queued. The commit index is not saved: a restarted member starts from what its App
/// applied and learns the rest from the leader.
template <class Bugs = raft::Correct>
class BasicRaft {
 public:
  static constexpr bool needs_log = true;
  static constexpr Consistency consistency = Consistency::linearizable;

  explicit BasicRaft(RaftConfig config) : config_(std::move(config)) {
    rng_ = config_.seed ^ (config_.id * 0x9e3779b97f4a7c15ull);
    std::sort(config_.voters.begin(), config_.voters.end());
    std::sort(config_.learners.begin(), config_.learners.end());
  }

  bool is_leader() const noexcept { return role_ == Role::leader; }
  /// Whether this member leads and has applied its first entry of the term: every entry of its
  /// log is then applied or one it proposed itself, so a transaction may read before a barrier.
  bool leads_up_to_date() const noexcept {
    return role_ == Role::leader && (Bugs::read_before_term_applied || applied_ >= term_start_);
  }
  /// The leader this member follows (0: unknown).
  std::uint64_t leader() const noexcept { return leader_; }
  std::uint64_t term() const noexcept { return term_; }
  /// The membership as of the last entry of the log (in force, committed or not).
  const raft::Membership& membership() const { return configs_.back().second; }
  /// The membership as of `index`, encoded (for a snapshot's metadata).
  std::string membership_at(std::uint64_t index) const {
    for (auto it = configs_.rbegin(); it != configs_.rend(); ++it)
      if (it->first <= index) return it->second.encode();
    return configs_.front().second.encode();
  }

  template <class L>
  Result<void> start(L& log, std::uint64_t applied, std::uint64_t applied_term) {
    auto hs = log.hard_state();
    auto meta = log.snapshot_meta();
    auto last = log.last_index();
    if (!hs) return hs.error();
    if (!meta) return meta.error();
    if (!last) return last.error();
    term_ = hs.value().term;
    vote_ = hs.value().vote;
    first_ = meta.value().index + 1;
    last_ = last.value();
    auto last_term = log.term(last_);
    if (!last_term) return last_term.error();
    last_term_ = last_term.value();
    configs_.clear();
    auto base = raft::Membership::decode(meta.value().membership);
    configs_.emplace_back(meta.value().index, base ? *base : raft::Membership{config_.voters, config_.learners});
    for (std::uint64_t i = first_; i <= last_;) {  // the memberships the log's entries carry
      auto es = log.entries(i, last_ + 1, config_.max_apply_bytes);
      if (!es) return es.error();
      for (const auto& e : es.value())
        if (auto m = raft::membership_in(e.command)) configs_.emplace_back(e.index, std::move(*m));
      i += es.value().size();
    }
    if (applied > last_) {  // the App is ahead of the log (restored from a snapshot): the log starts after it
      const SnapshotMeta at{applied, applied_term, membership().encode()};
      if (auto r = log.install_snapshot(at); !r) return r;
      configs_ = {{applied, membership()}};
      first_ = applied + 1;
      last_ = applied;
      last_term_ = applied_term;
    }
    applied_ = applied;
    commit_ = std::max({applied_, first_ - 1, std::min(hs.value().commit, last_)});
    restoring_ = false;
    if (auto r = become_follower(log, term_, 0); !r) return r;
    if (membership().voters == std::vector<std::uint64_t>{config_.id} && promotable()) return campaign(log, false, false);
    return success();
  }

  template <class L>
  Result<std::uint64_t> propose(L& log, std::vector<std::string> commands) {
    if (role_ != Role::leader) return not_leader();
    if (transferee_ != 0)
      return Error{errc::busy, "raft: member " + std::to_string(config_.id) + " is handing its leadership to " +
                                   std::to_string(transferee_) + "; try again there"};
    std::vector<LogEntry> entries;
    entries.reserve(commands.size());
    for (auto& c : commands) {
      if (c.empty() || c.front() == raft::own_entry_mark)
        return Error{errc::invalid_argument, "raft: a command may be neither empty nor start with a zero byte"};
      entries.push_back({last_ + 1 + entries.size(), term_, std::move(c)});
    }
    const std::uint64_t first = last_ + 1;
    if (auto r = append_local(log, entries); !r) return r.error();
    if (auto r = maybe_commit(log); !r) return r.error();
    return first;
  }

  template <class L>
  Result<void> step(L& log, Message m) {
    if (m.term > term_) {
      const bool campaign_message = m.type == MessageType::vote || m.type == MessageType::pre_vote;
      const bool in_lease = config_.check_quorum && leader_ != 0 && election_elapsed_ < config_.election_ticks;
      if (campaign_message && in_lease && !m.done) return success();  // a leader is alive: ignore it
      const bool keeps_term = m.type == MessageType::pre_vote || (m.type == MessageType::pre_vote_response && !m.reject);
      if (!keeps_term) {
        const bool from_leader = m.type == MessageType::append || m.type == MessageType::heartbeat;
        if (auto r = become_follower(log, m.term, from_leader ? m.from : 0); !r) return r;
      }
    } else if (m.term < term_) {
      if (m.type == MessageType::append || m.type == MessageType::heartbeat)  // a deposed leader: tell it the term
        send({.type = MessageType::append_response, .to = m.from, .term = term_});
      else if (m.type == MessageType::pre_vote)
        send({.type = MessageType::pre_vote_response, .to = m.from, .term = term_, .reject = true});
      return success();
    }
    switch (m.type) {
      case MessageType::append: return on_append(log, m);
      case MessageType::heartbeat: return on_heartbeat(log, m);
      case MessageType::vote:
      case MessageType::pre_vote: return on_vote_request(log, m);
      case MessageType::vote_response:
      case MessageType::pre_vote_response: return on_vote_response(log, m);
      case MessageType::append_response: return on_append_response(log, m);
      case MessageType::heartbeat_response: return on_heartbeat_response(m);
      case MessageType::timeout_now:
        if (role_ != Role::leader && promotable()) return campaign(log, false, true);
        return success();
      default: return success();  // snapshot messages are the runner's
    }
  }

  template <class L>
  Result<void> tick(L& log) {
    ++election_elapsed_;
    if (role_ != Role::leader) {
      if (promotable() && election_elapsed_ >= timeout_) return campaign(log, config_.pre_vote, false);
      return success();
    }
    if (election_elapsed_ >= config_.election_ticks) {
      election_elapsed_ = 0;
      transferee_ = 0;  // a transfer that did not finish within an election timeout is abandoned
      if (config_.check_quorum) {
        if (!quorum_active()) return become_follower(log, term_, 0);
        for (auto& [id, p] : progress_) p.recent_active = false;
      }
    }
    if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeat();
    }
    return success();
  }

  template <class L>
  Result<Ready> ready(L& log) {
    Ready r;
    if (role_ == Role::leader) {
      if (round_due_) broadcast_heartbeat();
      for (auto& [id, p] : progress_)
        if (auto s = send_appends(log, id, p); !s) return s.error();
    }
    if (commit_ > applied_ && !restoring_ && applied_ + 1 >= first_) {
      auto es = log.entries(applied_ + 1, commit_ + 1, config_.max_apply_bytes);
      if (!es) return es.error();
      r.apply = std::move(es).value();
      for (auto& e : r.apply)
        if (!e.command.empty() && e.command.front() == raft::own_entry_mark) e.command.clear();
    }
    if (auto c = compact(log); !c) return c.error();
    r.messages = std::exchange(outbox_, {});
    r.snapshot_to = std::exchange(snapshot_to_, {});
    r.reads = std::exchange(read_states_, {});
    return r;
  }

  /// The App's writes up to `index` are on disk (the runner says so of an App whose commits are
  /// not durable as they return): the log is never compacted past what is not.
  void durable(std::uint64_t index) { durable_ = Bugs::compact_past_unsynced ? ~std::uint64_t{0} : index; }

  void applied(std::uint64_t index, std::uint64_t) {
    restoring_ = index == 0 && applied_ != 0;  // a snapshot began replacing the App
    applied_ = index;
  }
  void snapshot_sent(std::uint64_t peer, const SnapshotMeta& meta) {
    auto it = progress_.find(peer);
    if (it == progress_.end()) return;
    it->second.match = std::max(it->second.match, meta.index);
    it->second.become_probe();
  }

  /// The runner installed the snapshot `meta` in the App: the log keeps its entries after it when
  /// they continue it (they may be committed with this member's acknowledgement), else starts
  /// after it.
  template <class L>
  Result<void> restore(L& log, const SnapshotMeta& meta) {
    restoring_ = false;
    applied_ = meta.index;
    if (meta.index + 1 < first_) return success();  // older than the log's start: the App still needs a newer one
    auto base = raft::Membership::decode(meta.membership);
    const raft::Membership as_of = base ? *base : raft::Membership::decode(membership_at(meta.index)).value();
    bool continues = false;
    if (meta.index <= last_) {
      auto t = log.term(meta.index);
      if (!t) return t.error();
      continues = t.value() == meta.term;
    }
    if (continues) {
      if (auto r = log.compact(meta.index, as_of.encode()); !r) return r;
      std::erase_if(configs_, [&](const auto& c) { return c.first <= meta.index; });
      configs_.insert(configs_.begin(), {meta.index, as_of});
    } else {
      if (auto r = log.install_snapshot({meta.index, meta.term, as_of.encode()}); !r) return r;
      configs_ = {{meta.index, as_of}};
      last_ = meta.index;
      last_term_ = meta.term;
    }
    first_ = meta.index + 1;
    commit_ = std::max(commit_, meta.index);
    return success();
  }

  /// A read barrier: `id` comes back in Ready::reads with the index the App must apply before a
  /// read is linearizable, once a quorum confirmed this leadership (or not ok, if it is lost).
  template <class L>
  Result<void> read(L&, std::uint64_t id) {
    if (role_ != Role::leader) return not_leader();
    if constexpr (Bugs::read_without_quorum) {
      read_states_.push_back({id, commit_, true});
      return success();
    }
    if (commit_ < term_start_) {  // its commit index is not known yet to be the group's
      reads_before_commit_.push_back(id);
      return success();
    }
    reads_.push_back({id, commit_, round_ + 1});
    round_due_ = true;
    confirm_reads();
    return success();
  }

  /// Hands the leadership to voter `to` once its log has caught up (proposals are refused
  /// meanwhile; abandoned after an election timeout).
  template <class L>
  Result<void> transfer_leadership(L&, std::uint64_t to) {
    if (role_ != Role::leader) return not_leader();
    if (to == config_.id) return success();
    if (!membership().is_voter(to) || !progress_.contains(to))
      return Error{errc::invalid_argument, "raft: member " + std::to_string(to) + " is not a voter"};
    transferee_ = to;
    election_elapsed_ = 0;
    if (progress_.at(to).match == last_) send({.type = MessageType::timeout_now, .to = to, .term = term_});
    return success();
  }

  /// Proposes one membership change; returns the index of its entry. errc::busy while an
  /// earlier change or the leader's first entry is not committed.
  template <class L>
  Result<std::uint64_t> change_membership(L& log, const raft::MembershipChange& change) {
    if (role_ != Role::leader) return not_leader();
    if (commit_ < term_start_ || configs_.back().first > commit_)
      return Error{errc::busy, "raft: a membership change or the leader's first entry is not committed yet"};
    auto next = membership().after(change);
    if (!next) return next.error();
    const LogEntry e{last_ + 1, term_, raft::membership_command(next.value())};
    if (auto r = append_local(log, std::span(&e, 1)); !r) return r.error();
    if (auto r = maybe_commit(log); !r) return r.error();
    return e.index;
  }

  /// Starts an election now (a member that is not a voter does not).
  template <class L>
  Result<void> campaign_now(L& log) {
    if (role_ == Role::leader || !promotable()) return success();
    return campaign(log, config_.pre_vote, false);
  }

  ShardStatus status() const {
    ShardStatus s{.id = config_.id, .role = role_, .term = term_, .leader = leader_ ? std::optional(leader_) : std::nullopt,
                  .commit = commit_, .applied = applied_};
    for (const auto& [id, p] : progress_)
      s.peers.push_back({.id = id, .match = p.match, .lag_entries = last_ - std::min(last_, p.match),
                         .snapshotting = p.state == raft::Progress::State::snapshot});
    return s;
  }

 private:
  struct PendingRead {
    std::uint64_t id, index, round;
  };

  Error not_leader() const {
    std::string m = "raft: member " + std::to_string(config_.id) + " is not the leader; ";
    return Error{errc::not_leader, m + (leader_ ? "the leader is " + std::to_string(leader_) : "no leader is known")};
  }
  bool promotable() const { return membership().is_voter(config_.id) && !restoring_ && applied_ + 1 >= first_; }
  bool needs_snapshot() const { return restoring_ || applied_ + 1 < first_; }

  void send(Message m) {
    m.from = config_.id;
    outbox_.push_back(std::move(m));
  }
  std::uint64_t random_below(std::uint64_t n) {  // splitmix64
    std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) % n;
  }

  template <class L>
  Result<void> save_hard_state(L& log) {
    return log.save(HardState{term_, vote_, commit_});
  }

  template <class L>
  Result<void> become_follower(L& log, std::uint64_t term, std::uint64_t leader) {
    if (term != term_ || role_ == Role::leader) fail_reads();
    if (term != term_) {
      term_ = term;
      vote_.reset();
      if (auto r = save_hard_state(log); !r) return r;
    }
    role_ = Role::follower;
    pre_candidate_ = false;
    leader_ = leader;
    election_elapsed_ = heartbeat_elapsed_ = 0;
    timeout_ = config_.election_ticks + random_below(config_.election_ticks);
    progress_.clear();
    votes_.clear();
    transferee_ = 0;
    return success();
  }

  /// A pre-vote asks for term + 1 without taking it; a real campaign takes it and votes for itself.
  template <class L>
  Result<void> campaign(L& log, bool pre, bool transfer) {
    fail_reads();
    role_ = Role::candidate;
    pre_candidate_ = pre;
    leader_ = 0;
    progress_.clear();
    votes_.clear();
    election_elapsed_ = 0;
    timeout_ = config_.election_ticks + random_below(config_.election_ticks);
    if (!pre) {
      ++term_;
      vote_ = config_.id;
      if (auto r = save_hard_state(log); !r) return r;
    }
    votes_[config_.id] = true;
    if (granted() >= membership().quorum()) return pre ? campaign(log, false, transfer) : become_leader(log);
    for (std::uint64_t v : membership().voters)
      if (v != config_.id)
        send({.type = pre ? MessageType::pre_vote : MessageType::vote, .to = v, .term = pre ? term_ + 1 : term_,
              .index = last_, .log_term = last_term_, .done = transfer});
    return success();
  }
  std::size_t granted() const {
    return static_cast<std::size_t>(std::count_if(votes_.begin(), votes_.end(), [&](const auto& v) {
      return v.second && membership().is_voter(v.first);
    }));
  }

  template <class L>
  Result<void> become_leader(L& log) {
    role_ = Role::leader;
    pre_candidate_ = false;
    leader_ = config_.id;
    votes_.clear();
    election_elapsed_ = heartbeat_elapsed_ = 0;
    progress_.clear();
    for (std::uint64_t id : members())
      if (id != config_.id) progress_[id].next = last_ + 1;
    const LogEntry noop{last_ + 1, term_, {}};  // commits the earlier terms' entries (Figure 8)
    term_start_ = noop.index;
    if (auto r = append_local(log, std::span(&noop, 1)); !r) return r;
    round_due_ = true;  // tell the followers at once
    return maybe_commit(log);
  }
  std::vector<std::uint64_t> members() const {
    std::vector<std::uint64_t> ids = membership().voters;
    ids.insert(ids.end(), membership().learners.begin(), membership().learners.end());
    return ids;
  }

  /// Appends entries that continue the log from their first index on (dropping what conflicts),
  /// and follows the memberships they carry.
  template <class L>
  Result<void> append_local(L& log, std::span<const LogEntry> entries) {
    if (entries.empty()) return success();
    if (auto r = log.append(entries); !r) return r;
    const std::uint64_t from = entries.front().index;  // later memberships were in the dropped suffix
    configs_.erase(std::remove_if(configs_.begin() + 1, configs_.end(), [&](const auto& c) { return c.first >= from; }),
                   configs_.end());
    bool changed = false;
    for (const auto& e : entries)
      if (auto m = raft::membership_in(e.command)) {
        configs_.emplace_back(e.index, std::move(*m));
        changed = true;
      }
    last_ = entries.back().index;
    last_term_ = entries.back().term;
    if (role_ == Role::leader && changed)  // a new member is probed with the entry that adds it
      for (std::uint64_t id : members())
        if (id != config_.id && !progress_.contains(id)) progress_[id].next = last_;
    return success();
  }

  template <class L>
  Result<void> on_append(L& log, const Message& m) {
    if (role_ != Role::follower || leader_ != m.from)
      if (auto r = become_follower(log, term_, m.from); !r) return r;
    election_elapsed_ = 0;
    Message r{.type = MessageType::append_response, .to = m.from, .term = term_};
    if (m.index < commit_) {  // a late copy: what it carries is committed here already
      r.index = commit_;
      r.done = needs_snapshot();
      send(std::move(r));
      return success();
    }
    bool matches = m.index <= last_;
    if (matches) {
      auto t = log.term(m.index);
      if (!t) return t.error();
      matches = t.value() == m.log_term;
    }
    if (!matches) {
      r.reject = true;
      r.index = m.index;
      r.commit = last_;  // a hint: nothing after it can match
      r.done = needs_snapshot();
      send(std::move(r));
      return success();
    }
    std::size_t k = 0;  // the first entry this log lacks or holds differently
    for (; k < m.entries.size() && m.entries[k].index <= last_; ++k) {
      auto t = log.term(m.entries[k].index);
      if (!t) return t.error();
      if (t.value() != m.entries[k].term) break;
    }
    if (k < m.entries.size()) {
      if (m.entries[k].index <= commit_)
        return Error{errc::corruption, "raft: leader " + std::to_string(m.from) + " would overwrite committed entry " +
                                           std::to_string(m.entries[k].index)};
      if (auto a = append_local(log, std::span(m.entries).subspan(k)); !a) return a;
    }
    const std::uint64_t matched = m.index + m.entries.size();
    commit_ = std::max(commit_, std::min(m.commit, matched));
    r.index = matched;
    r.done = needs_snapshot();
    send(std::move(r));
    return success();
  }

  template <class L>
  Result<void> on_heartbeat(L& log, const Message& m) {
    if (role_ != Role::follower || leader_ != m.from)
      if (auto r = become_follower(log, term_, m.from); !r) return r;
    election_elapsed_ = 0;
    commit_ = std::max(commit_, std::min(m.commit, last_));
    send({.type = MessageType::heartbeat_response, .to = m.from, .term = term_, .done = needs_snapshot(),
          .session = m.session});
    return success();
  }

  template <class L>
  Result<void> on_vote_request(L& log, const Message& m) {
    const bool pre = m.type == MessageType::pre_vote;
    const bool can_vote = vote_ == m.from || (!vote_ && leader_ == 0) || (pre && m.term > term_);
    const bool up_to_date = Bugs::vote_without_log_check || m.log_term > last_term_ ||
                            (m.log_term == last_term_ && m.index >= last_);
    const MessageType answer = pre ? MessageType::pre_vote_response : MessageType::vote_response;
    if (!can_vote || !up_to_date) {
      send({.type = answer, .to = m.from, .term = term_, .reject = true});
      return success();
    }
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
      if (auto r = save_hard_state(log); !r) return r;
    }
    send({.type = answer, .to = m.from, .term = m.term});
    return success();
  }

  template <class L>
  Result<void> on_vote_response(L& log, const Message& m) {
    if (role_ != Role::candidate || pre_candidate_ != (m.type == MessageType::pre_vote_response)) return success();
    if (m.term != (pre_candidate_ ? term_ + 1 : term_)) return success();  // another campaign's
    votes_.emplace(m.from, !m.reject);
    if (granted() >= membership().quorum()) return pre_candidate_ ? campaign(log, false, m.done) : become_leader(log);
    const auto refused = std::count_if(votes_.begin(), votes_.end(), [&](const auto& v) {
      return !v.second && membership().is_voter(v.first);
    });
    if (static_cast<std::size_t>(refused) > membership().voters.size() - membership().quorum())
      return become_follower(log, term_, 0);
    return success();
  }

  template <class L>
  Result<void> on_append_response(L& log, const Message& m) {
    if (role_ != Role::leader) return success();
    auto it = progress_.find(m.from);
    if (it == progress_.end()) return success();
    raft::Progress& p = it->second;
    p.recent_active = true;
    using State = raft::Progress::State;
    if (m.reject) {
      if (p.state == State::replicate && m.index > p.match) {
        p.become_probe();
        p.next = std::max(p.match + 1, std::min(m.index, m.commit + 1));
      } else if (p.state == State::probe && m.index + 1 == p.next) {
        p.next = std::max(p.match + 1, std::min(m.index, m.commit + 1));
        p.probe_sent = false;
      }
    } else if (p.state != State::snapshot) {
      if (m.index > p.match) {
        p.match = std::min(m.index, last_);
        p.acknowledged(p.match);
        if (p.state == State::probe) p.become_replicate();
        else p.next = std::max(p.next, p.match + 1);
        if (auto c = maybe_commit(log); !c) return c;
        if (transferee_ == m.from && p.match == last_) send({.type = MessageType::timeout_now, .to = m.from, .term = term_});
      } else if (p.state == State::probe) {
        p.probe_sent = false;
      }
    }
    if (m.done) needs_snapshot_from(m.from, p);
    return success();
  }

  Result<void> on_heartbeat_response(const Message& m) {
    if (role_ != Role::leader) return success();
    auto it = progress_.find(m.from);
    if (it == progress_.end()) return success();
    raft::Progress& p = it->second;
    p.recent_active = true;
    p.acked_round = std::max(p.acked_round, m.session);
    if (p.state == raft::Progress::State::probe) p.probe_sent = false;
    // The follower answered a heartbeat sent after an append it never acknowledged: lost.
    if (p.state == raft::Progress::State::replicate && !p.in_flight.empty() && p.in_flight.front().round < m.session)
      p.become_probe();
    if (m.done) needs_snapshot_from(m.from, p);
    confirm_reads();
    return success();
  }
  void needs_snapshot_from(std::uint64_t id, raft::Progress& p) {
    if (p.state == raft::Progress::State::snapshot) return;
    p.become_snapshot();
    snapshot_to_.push_back(id);
  }

  /// Sends follower `id` what its progress allows: entries (or a snapshot, when they were
  /// compacted away).
  template <class L>
  Result<void> send_appends(L& log, std::uint64_t id, raft::Progress& p) {
    using State = raft::Progress::State;
    while (p.next <= last_ && p.state != State::snapshot && !(p.state == State::probe && p.probe_sent) &&
           p.window_open(config_.max_in_flight, config_.max_in_flight_bytes)) {
      if (p.next < first_) {
        needs_snapshot_from(id, p);
        return success();
      }
      auto prev_term = log.term(p.next - 1);
      auto es = log.entries(p.next, last_ + 1, config_.max_append_bytes);
      if (!prev_term) return prev_term.error();
      if (!es) return es.error();
      Message m{.type = MessageType::append, .to = id, .term = term_, .index = p.next - 1,
                .log_term = prev_term.value(), .commit = commit_};
      m.entries = std::move(es).value();
      const std::uint64_t last = m.entries.back().index;
      if (p.state == State::replicate) {
        p.sent(last, m.payload_bytes(), round_);
      } else {
        p.probe_sent = true;
      }
      send(std::move(m));
    }
    return success();
  }

  void broadcast_heartbeat() {
    ++round_;
    round_due_ = false;
    for (const auto& [id, p] : progress_)
      send({.type = MessageType::heartbeat, .to = id, .term = term_, .commit = std::min(p.match, commit_), .session = round_});
    confirm_reads();
  }

  bool quorum_active() const {
    std::size_t active = membership().is_voter(config_.id) ? 1 : 0;
    for (const auto& [id, p] : progress_) active += p.recent_active && membership().is_voter(id);
    return active >= membership().quorum();
  }

  /// Commits the highest index a majority of voters holds, if it is of this term (Figure 8: an
  /// earlier term's entry commits only beneath one of this term).
  template <class L>
  Result<void> maybe_commit(L& log) {
    std::vector<std::uint64_t> matches;
    for (std::uint64_t v : membership().voters) {
      if (v == config_.id) matches.push_back(last_);
      else if (auto it = progress_.find(v); it != progress_.end()) matches.push_back(it->second.match);
      else matches.push_back(0);
    }
    std::sort(matches.begin(), matches.end(), std::greater<>());
    const std::uint64_t q = matches[membership().quorum() - 1];
    if (q <= commit_) return success();
    if constexpr (!Bugs::commit_earlier_terms) {
      auto t = log.term(q);
      if (!t) return t.error();
      if (t.value() != term_) return success();
    }
    commit_ = q;
    if (commit_ >= term_start_ && !reads_before_commit_.empty()) {
      for (std::uint64_t id : std::exchange(reads_before_commit_, {})) reads_.push_back({id, commit_, round_ + 1});
      round_due_ = true;
    }
    if (configs_.back().first <= commit_) {  // the membership in force is committed
      std::erase_if(progress_, [&](const auto& p) { return !membership().contains(p.first); });
      if (!membership().is_voter(config_.id)) return become_follower(log, term_, 0);  // removed: step down
    }
    return success();
  }

  void confirm_reads() {
    if (reads_.empty()) return;
    std::vector<std::uint64_t> rounds;
    for (std::uint64_t v : membership().voters) {
      if (v == config_.id) rounds.push_back(UINT64_MAX);
      else if (auto it = progress_.find(v); it != progress_.end()) rounds.push_back(it->second.acked_round);
      else rounds.push_back(0);
    }
    std::sort(rounds.begin(), rounds.end(), std::greater<>());
    const std::uint64_t confirmed = rounds[membership().quorum() - 1];
    std::size_t n = 0;
    while (n < reads_.size() && reads_[n].round <= confirmed) {
      read_states_.push_back({reads_[n].id, reads_[n].index, true});
      ++n;
    }
    reads_.erase(reads_.begin(), reads_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void fail_reads() {
    for (const auto& r : reads_) read_states_.push_back({r.id, 0, false});
    for (std::uint64_t id : reads_before_commit_) read_states_.push_back({id, 0, false});
    reads_.clear();
    reads_before_commit_.clear();
  }

  /// Drops applied entries from the log in steps of compact_every, keeping those a follower
  /// still needs unless the log has grown past max_log_entries.
  template <class L>
  Result<void> compact(L& log) {
    if (applied_ < first_ || restoring_) return success();
    std::uint64_t low = std::min(applied_, durable_);
    for (const auto& [id, p] : progress_)
      if (p.state != raft::Progress::State::snapshot) low = std::min(low, p.match);
    if (last_ + 1 - first_ > config_.max_log_entries)
      low = std::min(durable_, std::max(low, applied_ - std::min(applied_, config_.max_log_entries / 2)));
    if (low < first_ || low + 1 - first_ < config_.compact_every) return success();
    const std::string as_of = membership_at(low);
    if (auto r = log.compact(low, as_of); !r) return r;
    std::erase_if(configs_, [&](const auto& c) { return c.first <= low; });
    configs_.insert(configs_.begin(), {low, raft::Membership::decode(as_of).value()});
    first_ = low + 1;
    return success();
  }

  RaftConfig config_;
  std::uint64_t rng_ = 0;
  Role role_ = Role::follower;
  bool pre_candidate_ = false;
  std::uint64_t term_ = 0;
  std::optional<std::uint64_t> vote_;
  std::uint64_t leader_ = 0;  // 0: unknown
  std::uint64_t commit_ = 0, applied_ = 0;
  std::uint64_t durable_ = ~std::uint64_t{0};  ///< the App's applied writes on disk (see durable())
  bool restoring_ = false;  // the App is receiving a snapshot
  std::uint64_t first_ = 1, last_ = 0, last_term_ = 0;  // the log's bounds
  std::vector<std::pair<std::uint64_t, raft::Membership>> configs_;  // by index; the first as of first_ - 1
  std::uint64_t election_elapsed_ = 0, heartbeat_elapsed_ = 0, timeout_ = 0;
  std::map<std::uint64_t, bool> votes_;
  std::map<std::uint64_t, raft::Progress> progress_;
  std::uint64_t term_start_ = 0;  // the index of this leader's first entry
  std::uint64_t transferee_ = 0;
  std::uint64_t round_ = 0;       // heartbeat rounds, for read barriers and lost appends
  bool round_due_ = false;
  std::vector<PendingRead> reads_;
  std::vector<std::uint64_t> reads_before_commit_;
  std::vector<ReadState> read_states_;
  std::vector<Message> outbox_;
  std::vector<std::uint64_t> snapshot_to_;
};

/// Raft as it should be.
using Raft = BasicRaft<>;

static_assert(check_replication_policy<Raft>());

}  // namespace kvstack
