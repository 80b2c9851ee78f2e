// Raft groups in sim::Cluster over MemoryBackend disks, the clients that drive them without
// blocking (tickets), and the randomized run one seed makes of it under every fault, checked
// for safety and liveness (used by the tests and by tools/soak.sh).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <kvstack/backend/memory.hpp>
#include <kvstack/shard/shard.hpp>
#include <kvstack/sim/cluster.hpp>
#include <kvstack/sim/disk.hpp>
#include <kvstack/sim/linearizability.hpp>

namespace kvstack::test {

using SimDisk = sim::Disk<MemoryBackend>;

/// Nodes 1..n, each with a log disk and an App disk that outlive crashes; `voters` start as the
/// group (the others join through membership changes).
template <class Bugs = raft::Correct>
struct RaftSim {
  using Policy = BasicRaft<Bugs>;
  using S = Shard<BackendLog<SimDisk>, SimDisk, Policy>;
  struct Node {
    Node(sim::DiskOptions disk, sim::DiskOptions app_disk) : log(MemoryBackend{}, disk), app(MemoryBackend{}, app_disk) {}
    SimDisk log, app;
  };
  RaftConfig config;
  ShardOptions shard_options;
  std::map<std::uint64_t, Node> nodes;
  sim::Cluster<S> cluster;

  RaftSim(std::uint64_t seed, std::uint64_t n, std::vector<std::uint64_t> voters, sim::NetworkOptions net = {},
          RaftConfig base = {}, ShardOptions options = {}, sim::DiskOptions disk = {}, sim::ClockOptions clocks = {})
      : config(with(base, seed, std::move(voters))), shard_options(options), nodes(make_nodes(n, disk, options.app_commits_durable)),
        cluster(seed, ids(n), [this](std::uint64_t id) { return open(id); }, net, clocks) {}

  /// Set when a member restarted with its App behind the start of its log: the log dropped
  /// entries that the App then lost in a crash.
  std::string lost_applies;

  Result<S> open(std::uint64_t id) {
    RaftConfig c = config;
    c.id = id;
    Node& node = nodes.at(id);
    auto mark = detail::read_mark(node.app);
    auto first = BackendLog<SimDisk>{node.log, "log"}.first_index();
    if (mark && first && !mark.value().restoring && mark.value().index + 1 < first.value() && lost_applies.empty())
      lost_applies = "node " + std::to_string(id) + " restarted with its App at applied index " + std::to_string(mark.value().index) +
                     ", behind its log's first entry " + std::to_string(first.value()) + " (the log dropped what the App lost)";
    return S::open(BackendLog<SimDisk>{node.log, "log"}, node.app, Policy{c}, shard_options);
  }

  /// Crashes node `id`: its shard stops, and its disks lose what they had not synced.
  void crash(std::uint64_t id) {
    cluster.crash(id);
    nodes.at(id).log.crash(cluster.rng());
    nodes.at(id).app.crash(cluster.rng());
  }

  /// The live leader with the highest term, if any.
  std::optional<std::uint64_t> leader() {
    std::optional<std::uint64_t> best;
    std::uint64_t term = 0;
    for (auto id : cluster.ids())
      if (cluster.up(id)) {
        auto st = cluster.shard(id).status();
        if (st.role == Role::leader && st.term >= term) best = id, term = st.term;
      }
    return best;
  }
  /// The user data node `id` holds (read from its disk, so also while it is down).
  std::map<std::string, std::string> data(std::uint64_t id) {
    std::map<std::string, std::string> out;
    for (auto&& [k, v] : nodes.at(id).app.scan(KeyRange::prefix("d"))) out.emplace(std::string(k.substr(1)), std::string(v));
    return out;
  }
  /// The index node `id` has applied (nullopt in the middle of a snapshot).
  std::optional<std::uint64_t> applied(std::uint64_t id) {
    auto mark = detail::read_mark(nodes.at(id).app).value();
    if (mark.restoring) return std::nullopt;
    return mark.index;
  }
  /// Node `id`'s log, read from its disk: first index and entries.
  std::pair<std::uint64_t, std::vector<LogEntry>> log_of(std::uint64_t id) {
    BackendLog<SimDisk> log(nodes.at(id).log, "log");
    const std::uint64_t first = log.first_index().value(), last = log.last_index().value();
    return {first, log.entries(first, last + 1, static_cast<std::size_t>(-1)).value()};
  }

 private:
  static RaftConfig with(RaftConfig c, std::uint64_t seed, std::vector<std::uint64_t> voters) {
    c.voters = std::move(voters);
    c.seed = seed;
    return c;
  }
  static std::vector<std::uint64_t> ids(std::uint64_t n) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t id = 1; id <= n; ++id) v.push_back(id);
    return v;
  }
  /// The App's disk syncs on commit unless the shard is told its commits are not durable.
  static std::map<std::uint64_t, Node> make_nodes(std::uint64_t n, sim::DiskOptions disk, bool app_durable) {
    sim::DiskOptions app_disk = disk;
    app_disk.sync_on_commit = disk.sync_on_commit && app_durable;
    std::map<std::uint64_t, Node> m;
    for (std::uint64_t id = 1; id <= n; ++id) m.try_emplace(id, disk, app_disk);
    return m;
  }
};

/// What one seed of the randomized Raft run found: empty when every check held.
struct RaftOutcome {
  std::string failure;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
  std::uint64_t completed = 0;  ///< client operations that completed
};

/// How a seed runs (the bug-injection tests shorten or lengthen it).
struct RaftRunOptions {
  int steps = 400;             ///< steps of load and faults, one tick each
  std::uint64_t clients = 4;   ///< concurrent clients, one operation each at a time
  bool faults = true;          ///< crashes, partitions, clock faults, membership changes, transfers
};

/// Clients that issue get, put, erase and cas at whichever node they believe leads, without
/// blocking (tickets polled every tick), and record what they saw. `read_first`: erase and cas
/// try the leader's transaction without a barrier first (try_start_transact), as
/// Shard::transact does.
template <class Sim>
class RaftClients {
 public:
  RaftClients(Sim& s, std::uint64_t n, bool read_first = false) : s_(s), clients_(n), read_first_(read_first) {
    for (std::uint64_t i = 0; i < n; ++i) clients_[i].target = 1 + i % s.cluster.ids().size();
  }

  /// Each idle client starts an operation with probability `p`.
  void issue(double p) {
    for (auto& c : clients_)
      if (!c.busy && s_.cluster.rng().chance(p)) begin(c);
  }
  /// Moves every pending operation on as far as its tickets allow.
  void poll() {
    for (auto& c : clients_)
      if (c.busy) advance(c);
  }
  /// Node `id` crashed: its pending operations end with an unknown outcome.
  void crashed(std::uint64_t id) {
    for (auto& c : clients_)
      if (c.busy && c.node == id) {
        if (c.op.kind != sim::Op::Kind::get && c.stage == Stage::entry) {
          c.op.known = false;
          history_.push_back(c.op);
        }
        c.busy = false;
      }
  }
  /// Starts a put at node `id` by one more client (to push the log past entries that pending
  /// operations wait on).
  void put_at(std::uint64_t id) {
    clients_.push_back({.target = id});
    begin(clients_.back(), sim::Op::Kind::put);
  }
  bool idle() const {
    return std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
  }
  /// The highest entry a pending operation waits on (0: none).
  std::uint64_t awaited() const {
    std::uint64_t i = 0;
    for (const auto& c : clients_)
      if (c.busy && c.stage == Stage::entry) i = std::max(i, c.ticket.index);
    return i;
  }
  const std::vector<sim::Op>& history() const { return history_; }
  /// The pending operations, described (for failure messages).
  std::string pending() const {
    std::string out;
    for (const auto& c : clients_)
      if (c.busy)
        out += " [node " + std::to_string(c.node) + (c.stage == Stage::entry ? " entry " : " barrier ") +
               std::to_string(c.ticket.index) + "/" + std::to_string(c.ticket.term) + "]";
    return out;
  }
  std::uint64_t completed() const { return completed_; }

 private:
  // barrier: before reading; confirm: after a read-only transaction read (then `after`).
  enum class Stage : unsigned char { barrier, confirm, entry };
  struct Client {
    std::uint64_t target = 1;
    bool busy = false;
    std::uint64_t node = 0;
    Stage stage = Stage::barrier;
    ShardTicket ticket{};
    ShardTicket after{};
    sim::Op op{};
  };

  void begin(Client& c, std::optional<sim::Op::Kind> kind = std::nullopt) {
    auto& rng = s_.cluster.rng();
    if (!s_.cluster.up(c.target)) c.target = rng.between(1, s_.cluster.ids().size());
    if (!s_.cluster.up(c.target)) return;
    c.node = c.target;
    c.op = sim::Op{.key = "k" + std::to_string(rng.below(6)), .call = ++clock_};
    const auto roll = rng.below(10);
    c.op.kind = kind ? *kind : roll < 3 ? sim::Op::Kind::get : roll < 7 ? sim::Op::Kind::put : roll < 8 ? sim::Op::Kind::erase : sim::Op::Kind::cas;
    auto& shard = s_.cluster.shard(c.node);
    Result<ShardTicket> t = success_ticket();
    if (c.op.kind == sim::Op::Kind::put) {
      c.op.value = "v" + std::to_string(c.op.call);
      c.stage = Stage::entry;
      t = shard.start_put(c.op.key, *c.op.value);
    } else {
      if (c.op.kind == sim::Op::Kind::cas) {
        if (!history_.empty() && rng.chance(0.7)) c.op.expected = history_[rng.below(history_.size())].value;
        c.op.value = "c" + std::to_string(c.op.call);
      }
      if (c.op.kind != sim::Op::Kind::get && read_first_) {
        if (auto attempt = shard.try_start_transact([&](auto& tx) { return run(c, tx); })) {
          s_.cluster.flush();
          c.busy = true;
          return started(c, shard, std::move(*attempt), false);
        }
      }
      c.stage = Stage::barrier;
      t = shard.start_read();
    }
    s_.cluster.flush();
    if (!t) return redirect(c);
    c.ticket = t.value();
    c.busy = true;
  }
  /// Erase or cas in a transaction.
  template <class Tx>
  static Result<bool> run(const Client& c, Tx& tx) {
    if (c.op.kind == sim::Op::Kind::erase) return tx.erase(c.op.key);
    auto cur = tx.get(c.op.key);
    if (!cur) return cur.error();
    if (cur.value() != c.op.expected) return false;
    if (auto w = tx.put(c.op.key, *c.op.value); !w) return w.error();
    return true;
  }
  /// A transaction ran: wait for its command, or (read first, read-only) for a barrier started
  /// now, then for what it read.
  template <class S, class R>
  void started(Client& c, S& shard, std::pair<R, ShardTicket> attempt, bool confirmed) {
    auto& [result, ticket] = attempt;
    if (!result) {
      c.busy = false;
      return redirect(c);
    }
    c.op.ok = result.value();
    if (!confirmed && !S::writes(ticket)) {
      auto barrier = shard.start_read();
      s_.cluster.flush();
      if (!barrier) {  // read-only: it had no effect
        c.busy = false;
        return redirect(c);
      }
      c.stage = Stage::confirm;
      c.ticket = barrier.value();
      c.after = ticket;
      return advance(c);
    }
    c.stage = Stage::entry;
    c.ticket = ticket;
    advance(c);
  }
  static Result<ShardTicket> success_ticket() { return ShardTicket{}; }

  void advance(Client& c) {
    auto& shard = s_.cluster.shard(c.node);
    auto done = shard.poll(c.ticket);
    if (!done) return;
    if (!*done) {
      if (done->error().code() == errc::timeout && c.stage == Stage::entry && c.op.kind != sim::Op::Kind::get) {
        c.op.known = false;  // a snapshot replaced the entry: it may have applied
        history_.push_back(c.op);
      }
      c.busy = false;
      return redirect(c);
    }
    if (c.stage == Stage::entry) return finish(c);
    if (c.stage == Stage::confirm) {
      c.stage = Stage::entry;
      c.ticket = c.after;
      return advance(c);
    }
    // The barrier passed: read, or run the transaction.
    if (c.op.kind == sim::Op::Kind::get) {
      auto v = shard.get_local(c.op.key);
      if (!v) {
        c.busy = false;
        return;
      }
      c.op.read = v.value();
      return finish(c);
    }
    auto attempt = shard.start_transact([&](auto& tx) { return run(c, tx); });
    s_.cluster.flush();
    started(c, shard, std::move(attempt), true);
  }
  void finish(Client& c) {
    c.op.ret = ++clock_;
    history_.push_back(c.op);
    c.busy = false;
    ++completed_;
    s_.cluster.record(history_.size());
  }
  /// After a failure: ask the node for its leader, or try another node.
  void redirect(Client& c) {
    std::optional<std::uint64_t> leader;
    if (s_.cluster.up(c.node)) leader = s_.cluster.shard(c.node).status().leader;
    c.target = leader && *leader != c.node ? *leader : s_.cluster.rng().between(1, s_.cluster.ids().size());
  }

  Sim& s_;
  std::vector<Client> clients_;
  bool read_first_ = false;
  std::vector<sim::Op> history_;
  std::uint64_t clock_ = 0;
  std::uint64_t completed_ = 0;
};

/// The checks every run makes after every tick: at most one leader per term (every message a
/// leader sends names it), every node's App at index i equal to every other node's at i, and
/// the entry every node applied at index i the same.
template <class Sim>
class RaftInvariants {
 public:
  explicit RaftInvariants(Sim& s) : s_(s) {
    s.cluster.observe([this](const Message& m) {
      if (m.type != MessageType::append && m.type != MessageType::heartbeat && m.type != MessageType::timeout_now) return;
      auto [it, fresh] = leaders_.emplace(m.term, m.from);
      if (!fresh && it->second != m.from && failure_.empty())
        failure_ = "two leaders in term " + std::to_string(m.term) + ": " + std::to_string(it->second) + " and " +
                   std::to_string(m.from) + " (at most one leader per term)";
    });
  }
  /// Checks the applied states now; returns the first violation seen so far.
  const std::string& check() {
    if (failure_.empty()) failure_ = s_.lost_applies;
    for (auto id : s_.cluster.ids()) {
      auto at = s_.applied(id);
      if (!at || failure_.size()) continue;
      check_applied_entries(id, *at);
      auto data = s_.data(id);
      auto [it, fresh] = states_.emplace(*at, data);
      if (!fresh && it->second != data)
        failure_ = "node " + std::to_string(id) + " at applied index " + std::to_string(*at) +
                   " holds other data than another node held there (applied prefixes differ)";
    }
    return failure_;
  }
  /// The entries node `id` applied since the last check, as its log holds them (those a
  /// snapshot covered are not there), against what every other node applied at those indices.
  void check_applied_entries(std::uint64_t id, std::uint64_t applied) {
    std::uint64_t& seen = seen_applied_[id];
    if (applied <= seen) {  // restarted from an App that had applied less (or the same)
      seen = applied;
      return;
    }
    BackendLog<SimDisk> log(s_.nodes.at(id).log, "log");
    const std::uint64_t from = std::max(seen + 1, log.first_index().value()), to = std::min(applied, log.last_index().value());
    seen = applied;
    if (from > to) return;
    const auto entries = log.entries(from, to + 1, static_cast<std::size_t>(-1)).value();
    for (const auto& e : entries) {
      auto [it, fresh] = applied_entries_.emplace(e.index, std::pair{e.term, e.command});
      if (!fresh && it->second != std::pair{e.term, e.command} && failure_.empty())
        failure_ = "node " + std::to_string(id) + " applied entry " + std::to_string(e.index) + " of term " + std::to_string(e.term) +
                   ", another node applied one of term " + std::to_string(it->second.first) + " there (applied prefixes differ)";
    }
  }
  /// Log matching: two logs that hold an entry with the same index and term hold the same
  /// entries up to it.
  std::string check_logs() {
    std::vector<std::pair<std::uint64_t, std::vector<LogEntry>>> logs;
    for (auto id : s_.cluster.ids()) logs.push_back(s_.log_of(id));
    for (std::size_t a = 0; a < logs.size(); ++a)
      for (std::size_t b = a + 1; b < logs.size(); ++b) {
        std::map<std::uint64_t, const LogEntry*> in_a;
        for (const auto& e : logs[a].second) in_a[e.index] = &e;
        std::uint64_t agreed = 0;  // the highest index where the terms agree
        for (const auto& e : logs[b].second)
          if (auto it = in_a.find(e.index); it != in_a.end() && it->second->term == e.term) agreed = e.index;
        for (const auto& e : logs[b].second)
          if (auto it = in_a.find(e.index); e.index <= agreed && it != in_a.end() && !(*it->second == e))
            return "the logs of nodes " + std::to_string(a + 1) + " and " + std::to_string(b + 1) + " differ at " +
                   std::to_string(e.index) + " below a common entry at " + std::to_string(agreed) + " (log matching)";
      }
    return {};
  }

 private:
  Sim& s_;
  std::map<std::uint64_t, std::uint64_t> leaders_;  // term -> the node that led it
  std::map<std::uint64_t, std::map<std::string, std::string>> states_;  // applied index -> data
  std::map<std::uint64_t, std::uint64_t> seen_applied_;  // node -> applied index at the last check
  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> applied_entries_;  // index -> (term, command)
  std::string failure_;
};

/// One seed: 3 or 5 nodes; clients at whichever node leads; loss, duplication, reordering,
/// partitions (symmetric, one-way, isolating the leader), crashes that lose unsynced writes,
/// clocks that drift, jump and stall, followers black-holed until the leader compacts past them
/// (snapshots), membership changes and leader transfers, all under load. Checked: the
/// invariants above after every tick, log matching, no error from any shard, a linearizable
/// history, and liveness: once faults heal, a leader within a bound and every operation done.
template <class Bugs = raft::Correct>
RaftOutcome run_raft_seed(std::uint64_t seed, RaftRunOptions run = {}, sim::DiskOptions disk = {}) {
  sim::Rng pick(seed);
  const std::uint64_t n = pick.chance(0.5) ? 3 : 5;
  std::vector<std::uint64_t> voters{1, 2, 3};
  if (n == 5 && pick.chance(0.5)) voters = {1, 2, 3, 4, 5};
  sim::NetworkOptions net{.min_delay = 1, .max_delay = pick.between(1, 4), .loss = 0.1 * static_cast<double>(pick.below(3)),
                          .duplicate = 0.05 * static_cast<double>(pick.below(3))};
  RaftConfig config{.election_ticks = pick.between(8, 16), .max_append_bytes = pick.chance(0.3) ? 1 : pick.between(64, 1024),
                    .max_in_flight = pick.between(1, 8), .compact_every = pick.between(8, 64),
                    .max_log_entries = pick.between(32, 256)};
  ShardOptions options{.max_chunk_bytes = pick.between(32, 256)};
  // One seed in four runs an App whose commits wait for the shard's sync (drawn apart from
  // `pick`, so that the other seeds replay as before).
  options.app_commits_durable = (seed * 0x9e3779b97f4a7c15ull) >> 62 != 0;
  options.app_sync_ticks = 1 + (seed * 0x9e3779b97f4a7c15ull) % 16;
  sim::ClockOptions clocks{.max_drift_ppm = run.faults ? 100'000 * pick.below(3) : 0};
  RaftSim<Bugs> s(seed, n, voters, net, config, options, disk, clocks);
  auto& c = s.cluster;
  sim::Rng& rng = c.rng();
  RaftClients clients(s, run.clients, (seed * 0x9e3779b97f4a7c15ull) >> 58 & 1);  // half the seeds
  RaftInvariants invariants(s);
  RaftOutcome out;
  auto fail = [&](std::string why) {
    out.failure = std::move(why) + " (tick " + std::to_string(c.now()) + ")";
    out.trace_hash = c.trace_hash();
    out.ticks = c.now();
    return out;
  };
  auto crash_node = [&](std::uint64_t id) {
    s.crash(id);
    clients.crashed(id);
  };
  auto any = [&] { return rng.between(1, n); };
  // Swarm testing: each seed runs its own mix of faults, some often, some never.
  enum Fault { crash, crash_leader, restart, isolate_leader, isolate, cut, heal, jump, stall, transfer, change, kinds };
  constexpr std::uint64_t base_rate[kinds] = {8, 6, 20, 8, 8, 8, 20, 8, 8, 8, 15};  // per mille per step
  std::uint64_t rate[kinds];
  for (int k = 0; k < kinds; ++k) rate[k] = run.faults ? base_rate[k] * (k == heal ? 1 + 2 * pick.below(2) : pick.below(3) * 2) : 0;
  // Leader churn: a new leader is deposed (isolated or crashed) a few ticks after it took over,
  // before or just after its first commits, where elections and commit rules are most fragile.
  const double depose_new = run.faults ? 0.3 * static_cast<double>(pick.below(3)) : 0;
  std::uint64_t led_term = 0, depose_at = 0, depose_id = 0;
  for (int step = 0; step < run.steps; ++step) {
    clients.issue(0.5);
    auto roll = rng.below(1000);
    int fault = 0;
    while (fault < kinds && roll >= rate[fault]) roll -= rate[fault++];
    if (auto led = s.leader(); led && c.shard(*led).status().term > led_term) {
      led_term = c.shard(*led).status().term;
      if (rng.chance(depose_new)) depose_id = *led, depose_at = c.now() + rng.below(4);
    }
    if (depose_id && c.now() >= depose_at) {
      if (c.up(depose_id) && rng.chance(0.5)) crash_node(depose_id);
      else c.network().isolate(depose_id);
      depose_id = 0;
    }
    auto leader = s.leader();
    switch (fault) {
      case crash: case restart: {
        const std::uint64_t id = any();
        if (fault == crash && c.up(id)) crash_node(id);
        if (fault == restart && !c.up(id)) c.restart(id);
        break;
      }
      case crash_leader: if (leader) crash_node(*leader); break;
      case isolate_leader: if (leader) c.network().isolate(*leader); break;
      case isolate: c.network().isolate(any()); break;
      case cut: c.network().cut(any(), any()); break;
      case heal: c.network().heal(); break;
      case jump: c.jump_clock(any(), rng.between(1, 3 * config.election_ticks)); break;
      case stall: c.stall_clock(any(), rng.between(1, 2 * config.election_ticks)); break;
      case transfer:
        if (leader) {
          const std::uint64_t to = any();
          (void)c.shard(*leader).with_policy([&](auto& p, auto& log) { return p.transfer_leadership(log, to); });
        }
        break;
      case change:
        if (leader && n == 5) {
          const std::uint64_t id = any();
          const auto& m = c.shard(*leader).policy().membership();
          raft::MembershipChange ch{.kind = raft::MembershipChange::Kind::add_learner, .id = id};
          if (m.is_learner(id)) ch.kind = raft::MembershipChange::Kind::promote;
          else if (m.is_voter(id) && m.voters.size() > 3) ch.kind = raft::MembershipChange::Kind::remove;
          (void)c.shard(*leader).with_policy([&](auto& p, auto& log) -> Result<void> {
            if (auto r = p.change_membership(log, ch); !r) return r.error();
            return success();
          });
        }
        break;
      default: break;
    }
    c.tick();
    clients.poll();
    if (auto& why = invariants.check(); !why.empty()) return fail(why);
  }
  // Heal everything; a leader must emerge and every operation complete.
  c.network().heal();
  c.network().options().loss = 0;
  c.network().options().duplicate = 0;
  for (auto id : c.ids())
    if (!c.up(id)) c.restart(id);
  const std::uint64_t healed = c.now();
  const std::uint64_t bound = 40 * config.election_ticks;
  if (!c.run_until([&] { return s.leader().has_value(); }, bound))
    return fail("no leader within " + std::to_string(bound) + " ticks of healing (liveness)");
  auto describe = [&] {
    std::string out = clients.pending();
    for (auto id : c.ids()) {
      auto st = c.shard(id).status();
      out += " {" + std::to_string(id) + ": role " + std::to_string(int(st.role)) + " term " + std::to_string(st.term) +
             " commit " + std::to_string(st.commit) + " applied " + std::to_string(st.applied) + "}";
    }
    return out;
  };
  const bool finished = c.run_until([&] {
    clients.poll();
    auto leader = s.leader();
    // A client at a node the group removed (also by a change that commits from now on) waits in
    // vain (it would time out): its outcome is unknown.
    if (leader)
      for (auto id : c.ids())
        if (!c.shard(*leader).policy().membership().contains(id)) clients.crashed(id);
    if (!invariants.check().empty() || clients.idle()) return true;
    if (leader && c.now() % 8 == 0 && c.shard(*leader).status().commit < clients.awaited()) clients.put_at(*leader);
    return false;
  }, bound);
  if (auto& why = invariants.check(); !why.empty()) return fail(why);
  if (!finished)
    return fail("client operations still pending " + std::to_string(c.now() - healed) + " ticks after healing (liveness):" + describe());
  // Every member catches up with the leader.
  const bool caught_up = c.run_until([&] {
    auto leader = s.leader();
    if (!leader) return false;
    const auto st = c.shard(*leader).status();
    for (auto id : c.ids())
      if (c.shard(*leader).policy().membership().contains(id) && s.applied(id).value_or(0) < st.commit) return false;
    return true;
  }, bound);
  if (auto& why = invariants.check(); !why.empty()) return fail(why);
  if (!caught_up) return fail("the members did not catch up with the leader after healing (liveness):" + describe());
  if (auto why = invariants.check_logs(); !why.empty()) return fail(why);
  if (!c.errors().empty()) return fail("a shard reported an error: " + c.errors().front());
  if (auto lin = sim::check_linearizable(clients.history()); !lin)
    return fail("the history is not linearizable on key " + lin.key);
  out.trace_hash = c.trace_hash();
  out.ticks = c.now();
  out.completed = clients.completed();
  return out;
}

}  // namespace kvstack::test
