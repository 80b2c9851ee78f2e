// kvstack::ReplicationPolicy — how a shard's writes travel: a deterministic core driven by
// proposals, messages and ticks (no threads, clocks, sockets or global randomness inside), plus
// the values it exchanges with its runner: Message, Ready and ShardStatus.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/log.hpp>

namespace kvstack::inline v0 {

/// What a policy promises to readers.
enum class Consistency : unsigned char {
  linearizable,  ///< every read sees every write acknowledged before it began
  eventual,      ///< replicas converge once writes stop; a replica may lag
};

/// The role a replica plays in its shard.
enum class Role : unsigned char {
  standalone, primary, backup, leader, follower, candidate,
  replica,  ///< an Mst replica: one of equals, each accepting writes
};

/// What replicas say to each other. One flat struct for every policy (as etcd's raftpb.Message),
/// so that a Transport carries any policy's messages.
enum class MessageType : unsigned char {
  append,             ///< entries after (index, log_term); commit is the sender's
  append_response,    ///< index: the highest index the sender holds; reject: it has a gap
  snapshot_chunk,     ///< chunk number `offset` of transfer `session` of `snapshot`; `done` on the last
  snapshot_response,  ///< offset: the next chunk of `session` the sender expects
  // Consensus (Raft). index and log_term of a vote request are the candidate's last entry; a
  // granted pre-vote answers with the term it was asked for.
  vote,                ///< a candidate asks for a vote in `term`; done: a leader transfer (ignore the lease)
  vote_response,       ///< reject: refused
  pre_vote,            ///< would a vote in `term` be granted? (changes no one's term)
  pre_vote_response,   ///< reject: it would not
  heartbeat,           ///< the leader is alive; commit: how far the receiver may commit; session: its round
  heartbeat_response,  ///< session: the round answered
  timeout_now,         ///< leader transfer: campaign at once
  // Anti-entropy (Mst). data holds digests, framed nodes or framed records; done marks an answer.
  mst_root,         ///< data: the sender's root digest; index: the sender's time when it took it
  mst_get_nodes,    ///< data: the digests of the nodes wanted
  mst_nodes,        ///< data: nodes, each length-prefixed
  mst_get_records,  ///< data: keys, each length-prefixed
  mst_records,      ///< data: a key and its record, each length-prefixed, per record
  mst_pulled,       ///< the sender holds all the receiver held at the receiver's time `index`
};
/// The highest MessageType (for decoders).
inline constexpr MessageType last_message_type = MessageType::mst_pulled;

struct Message {
  MessageType type = MessageType::append;
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  std::uint64_t log_term = 0;
  std::uint64_t commit = 0;
  bool reject = false;
  bool done = false;
  std::uint64_t offset = 0;
  std::uint64_t session = 0;
  std::vector<LogEntry> entries{};
  std::string data{};       ///< snapshot chunk bytes
  SnapshotMeta snapshot{};  ///< what a snapshot chunk belongs to
  friend bool operator==(const Message&, const Message&) = default;

  /// The bytes this message carries (entries' commands and snapshot data), for size limits.
  std::size_t payload_bytes() const noexcept {
    std::size_t n = data.size();
    for (const auto& e : entries) n += e.command.size();
    return n;
  }
};

/// How far one peer is behind, as the primary or leader sees it.
struct PeerStatus {
  std::uint64_t id = 0;
  std::uint64_t match = 0;        ///< highest index the peer acknowledged
  std::uint64_t lag_entries = 0;  ///< entries it has not acknowledged
  std::uint64_t lag_bytes = 0;    ///< their command bytes
  std::uint64_t lag_ticks = 0;    ///< ticks since the oldest of them was proposed (0: caught up)
  bool snapshotting = false;      ///< being re-seeded from a snapshot
  friend bool operator==(const PeerStatus&, const PeerStatus&) = default;
};

/// A replica's view of its shard.
struct ShardStatus {
  std::uint64_t id = 0;
  Role role = Role::standalone;
  std::uint64_t term = 0;
  std::optional<std::uint64_t> leader{};  ///< the primary or leader, when known
  std::uint64_t commit = 0;             ///< highest index known durable where the policy requires
  std::uint64_t applied = 0;            ///< highest index applied to the App
  std::vector<PeerStatus> peers{};
  friend bool operator==(const ShardStatus&, const ShardStatus&) = default;

  /// Prometheus text exposition (version 0.0.4) of these figures as gauges, names prefixed with
  /// `prefix`: the replica's term, commit and applied index, and each peer's acknowledged index
  /// and lag (entries, bytes, ticks), labelled `peer`.
  std::string prometheus(std::string_view prefix = "kvstack_shard") const {
    std::string out;
    auto gauge = [&](std::string_view name, std::string_view help) {
      out.append("# HELP ").append(prefix).append(name).append(" ").append(help).append("\n# TYPE ");
      out.append(prefix).append(name).append(" gauge\n");
    };
    auto sample = [&](std::string_view name, std::uint64_t value, const std::string& labels = {}) {
      out.append(prefix).append(name).append(labels).append(" ").append(std::to_string(value)).append("\n");
    };
    const std::string self = "{replica=\"" + std::to_string(id) + "\"}";
    gauge("_term", "The replica's term.");
    sample("_term", term, self);
    gauge("_commit_index", "Highest index known durable where the policy requires.");
    sample("_commit_index", commit, self);
    gauge("_applied_index", "Highest index applied to the application store.");
    sample("_applied_index", applied, self);
    auto per_peer = [&](std::string_view name, std::string_view help, std::uint64_t PeerStatus::*field) {
      if (peers.empty()) return;
      gauge(name, help);
      for (const auto& p : peers) sample(name, p.*field, "{peer=\"" + std::to_string(p.id) + "\"}");
    };
    per_peer("_peer_match_index", "Highest index the peer acknowledged.", &PeerStatus::match);
    per_peer("_peer_lag_entries", "Entries the peer has not acknowledged.", &PeerStatus::lag_entries);
    per_peer("_peer_lag_bytes", "Command bytes the peer has not acknowledged.", &PeerStatus::lag_bytes);
    per_peer("_peer_lag_ticks", "Ticks since the oldest entry the peer has not acknowledged was proposed.",
             &PeerStatus::lag_ticks);
    return out;
  }
};

/// The answer to a read barrier (a policy's `read(log, id)`): once the App has applied `index`,
/// reads see every write acknowledged before the barrier was asked for. Not `ok`: the replica
/// lost its leadership first.
struct ReadState {
  std::uint64_t id = 0;
  std::uint64_t index = 0;
  bool ok = true;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

/// What a policy asks its runner to do, in this order: apply `apply` to the App (each entry
/// exactly once, in index order; an empty command is the policy's own and changes no data),
/// then send `messages`. `snapshot_to` lists peers that need the whole App (their log position
/// was compacted away); the runner ships it in chunks. `reads` answers read barriers.
struct Ready {
  std::vector<LogEntry> apply;
  std::vector<Message> messages;
  std::vector<std::uint64_t> snapshot_to;
  std::vector<ReadState> reads;
  bool empty() const noexcept { return apply.empty() && messages.empty() && snapshot_to.empty() && reads.empty(); }
};

namespace detail {
/// The smallest LogStorage, for probing policies that take the log as a template parameter.
struct LogProbe {
  Result<std::uint64_t> first_index() const;
  Result<std::uint64_t> last_index() const;
  Result<std::uint64_t> term(std::uint64_t) const;
  Result<std::vector<LogEntry>> entries(std::uint64_t, std::uint64_t, std::size_t) const;
  Result<void> append(std::span<const LogEntry>);
  Result<HardState> hard_state() const;
  Result<void> save(const HardState&);
  Result<void> compact(std::uint64_t);
  Result<SnapshotMeta> snapshot_meta() const;
  Result<void> install_snapshot(const SnapshotMeta&);
};

/// Makes `app`'s commits so far durable, whether its sync() answers a Result (the engines) or
/// nothing (sim::Disk); an App without sync() (in memory) has nothing to make durable.
template <class App>
Result<void> sync_app(App& app) {
  if constexpr (requires { { app.sync() } -> std::same_as<Result<void>>; }) return app.sync();
  else if constexpr (requires { app.sync(); }) app.sync();
  return success();
}

template <class P>
concept PolicyTraits = requires {
  { P::needs_log } -> std::convertible_to<bool>;
  { P::consistency } -> std::convertible_to<Consistency>;
};
template <class P, class L>
concept PolicyDriven = requires(P& p, L& log, std::uint64_t i, Message m, std::vector<std::string> cmds) {
  { p.start(log, i, i) } -> std::same_as<Result<void>>;
  { p.propose(log, std::move(cmds)) } -> std::same_as<Result<std::uint64_t>>;
  { p.step(log, std::move(m)) } -> std::same_as<Result<void>>;
  { p.tick(log) } -> std::same_as<Result<void>>;
  { p.ready(log) } -> std::same_as<Result<Ready>>;
};
template <class P>
concept PolicyObserved = requires(P& p, const P& cp, std::uint64_t i, const SnapshotMeta& meta) {
  p.applied(i, i);
  p.snapshot_sent(i, meta);
  { cp.status() } -> std::same_as<ShardStatus>;
};
}  // namespace detail

/// A replication policy as a deterministic core over the log type `L` (NoLog for policies
/// whose `needs_log` is false). Its runner (a Shard, driven by sim::Cluster or by threads and a
/// Transport) calls:
/// - `start(log, index, term)` once, with the index and term of the last entry the App applied;
/// - `propose(log, commands)`: writes, in order (one or more: a runner batches those that queue
///   up meanwhile); returns the index the first will apply at (the others follow it), or
///   errc::not_leader;
/// - `step(log, message)`: a message from a peer; `tick(log)`: one unit of time has passed;
/// - `ready(log)`: what to apply and send now; then `applied(index, term)` once the App has
///   applied up to that entry (also after installing a snapshot), and `snapshot_sent(peer,
///   meta)` when a peer installed one;
/// - `status()`: role, term, leader, commit, applied and each peer's lag.
/// Traits: `needs_log` (whether L must be a LogStorage) and `consistency`. The same sequence of
/// calls gives the same results, bit for bit.
template <class P, class L = detail::LogProbe>
concept ReplicationPolicy = detail::PolicyTraits<P> && detail::PolicyDriven<P, L> && detail::PolicyObserved<P>;

/// `static_assert(kvstack::check_replication_policy<P>())`: true for a ReplicationPolicy;
/// otherwise each missing part fails to compile with one line naming it.
template <class P, class L = detail::LogProbe>
consteval bool check_replication_policy() {
  static_assert(requires { { P::needs_log } -> std::convertible_to<bool>; },
                "kvstack::ReplicationPolicy: missing `static constexpr bool needs_log`");
  static_assert(requires { { P::consistency } -> std::convertible_to<Consistency>; },
                "kvstack::ReplicationPolicy: missing `static constexpr Consistency consistency`");
  static_assert(requires(P& p, L& l, std::uint64_t i) { { p.start(l, i, i) } -> std::same_as<Result<void>>; },
                "kvstack::ReplicationPolicy: missing `start(log, applied_index, applied_term) -> Result<void>`");
  static_assert(requires(P& p, L& l, std::vector<std::string> c) { { p.propose(l, std::move(c)) } -> std::same_as<Result<std::uint64_t>>; },
                "kvstack::ReplicationPolicy: missing `propose(log, std::vector<std::string> commands) -> Result<std::uint64_t>`");
  static_assert(requires(P& p, L& l, Message m) { { p.step(l, std::move(m)) } -> std::same_as<Result<void>>; },
                "kvstack::ReplicationPolicy: missing `step(log, Message) -> Result<void>`");
  static_assert(requires(P& p, L& l) { { p.tick(l) } -> std::same_as<Result<void>>; },
                "kvstack::ReplicationPolicy: missing `tick(log) -> Result<void>`");
  static_assert(requires(P& p, L& l) { { p.ready(l) } -> std::same_as<Result<Ready>>; },
                "kvstack::ReplicationPolicy: missing `ready(log) -> Result<Ready>`");
  static_assert(requires(P& p, std::uint64_t i) { p.applied(i, i); },
                "kvstack::ReplicationPolicy: missing `applied(std::uint64_t index, std::uint64_t term)`");
  static_assert(requires(P& p, std::uint64_t i, const SnapshotMeta& m) { p.snapshot_sent(i, m); },
                "kvstack::ReplicationPolicy: missing `snapshot_sent(peer, const SnapshotMeta&)`");
  static_assert(requires(const P& p) { { p.status() } -> std::same_as<ShardStatus>; },
                "kvstack::ReplicationPolicy: missing `status() const -> ShardStatus`");
  return true;  // only reached for a ReplicationPolicy
}

}  // namespace kvstack
