// A primary and backups of AsyncPrimaryBackup in sim::Cluster over MemoryBackend disks, and the
// randomized workload one seed drives through it (used by the tests and by tools/soak.sh).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/backend/memory.hpp>
#include <kvstack/shard/shard.hpp>
#include <kvstack/sim/cluster.hpp>
#include <kvstack/sim/disk.hpp>
#include <kvstack/sim/linearizability.hpp>

namespace kvstack::test {

using SimDisk = sim::Disk<MemoryBackend>;
using PbShard = Shard<BackendLog<SimDisk>, SimDisk, AsyncPrimaryBackup>;

/// Nodes 1..n (node 1 starts as primary), each with a log disk and an App disk that outlive
/// crashes.
struct PrimaryBackupSim {
  struct Node {
    explicit Node(sim::DiskOptions disk) : log(MemoryBackend{}, disk), app(MemoryBackend{}, disk) {}
    SimDisk log, app;
  };
  PrimaryBackupConfig config;
  ShardOptions shard_options;
  std::map<std::uint64_t, Node> nodes;
  sim::Cluster<PbShard> cluster;

  PrimaryBackupSim(std::uint64_t seed, std::uint64_t n, sim::NetworkOptions net = {}, PrimaryBackupConfig base = {},
                   ShardOptions options = {}, sim::DiskOptions disk = {}, sim::ClockOptions clocks = {})
      : config(with_members(base, n)), shard_options(options), nodes(make_nodes(n, disk)),
        cluster(seed, config.members, [this](std::uint64_t id) { return open(id); }, net, clocks) {}

  Result<PbShard> open(std::uint64_t id) {
    PrimaryBackupConfig c = config;
    c.id = id;
    Node& node = nodes.at(id);
    return PbShard::open(BackendLog<SimDisk>{node.log, "log"}, node.app, AsyncPrimaryBackup{c}, shard_options);
  }

  /// Crashes node `id`: its shard stops, and its disks lose what they had not synced.
  void crash(std::uint64_t id) {
    cluster.crash(id);
    nodes.at(id).log.crash(cluster.rng());
    nodes.at(id).app.crash(cluster.rng());
  }

  /// The user data node `id` holds (read from its disk, so also while it is down).
  std::map<std::string, std::string> data(std::uint64_t id) {
    std::map<std::string, std::string> out;
    for (auto&& [k, v] : nodes.at(id).app.scan(KeyRange::prefix("d"))) out.emplace(std::string(k.substr(1)), std::string(v));
    return out;
  }
  /// The index node `id` has applied (0 in the middle of a snapshot).
  std::uint64_t applied(std::uint64_t id) {
    auto mark = detail::read_mark(nodes.at(id).app).value();
    return mark.restoring ? 0 : mark.index;
  }

 private:
  static PrimaryBackupConfig with_members(PrimaryBackupConfig c, std::uint64_t n) {
    c.members.clear();
    for (std::uint64_t id = 1; id <= n; ++id) c.members.push_back(id);
    if (c.primary == 0) c.primary = 1;
    return c;
  }
  static std::map<std::uint64_t, Node> make_nodes(std::uint64_t n, sim::DiskOptions disk) {
    std::map<std::uint64_t, Node> m;
    for (std::uint64_t id = 1; id <= n; ++id) m.try_emplace(id, disk);
    return m;
  }
};

/// What one seed of the randomized primary-backup workload found: empty when every check held.
struct SeedOutcome {
  std::string failure;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
};

/// Runs one client operation on `shard` and records it in `history` (logical times from
/// `clock`); returns the shard's error, if any.
template <class S>
Result<void> client_op(S& shard, sim::Rng& rng, std::vector<sim::Op>& history, std::uint64_t& clock) {
  sim::Op op{.key = "k" + std::to_string(rng.below(20)), .call = ++clock};
  const auto roll = rng.below(10);
  Result<void> r = success();
  if (roll < 3) {
    op.kind = sim::Op::Kind::get;
    if (auto v = shard.get(op.key); v) op.read = v.value();
    else r = v.error();
  } else if (roll < 7) {
    op.kind = sim::Op::Kind::put;
    op.value = std::string(rng.below(40), static_cast<char>('a' + rng.below(26)));
    r = shard.put(op.key, *op.value);
  } else if (roll < 8) {
    op.kind = sim::Op::Kind::erase;
    if (auto e = shard.erase(op.key); e) op.ok = e.value();
    else r = e.error();
  } else {
    op.kind = sim::Op::Kind::cas;
    if (!history.empty() && rng.chance(0.7)) op.expected = history[rng.below(history.size())].value;
    op.value = "cas" + std::to_string(op.call);
    auto swapped = shard.transact([&](auto& tx) -> Result<bool> {
      auto cur = tx.get(op.key);
      if (!cur) return cur.error();
      if (cur.value() != op.expected) return false;
      if (auto w = tx.put(op.key, *op.value); !w) return w.error();
      return true;
    });
    if (swapped) op.ok = swapped.value();
    else r = swapped.error();
  }
  op.ret = ++clock;
  if (r) history.push_back(std::move(op));
  return r;
}

/// Three replicas; random client operations at the primary under loss, duplication,
/// reordering, partitions, crashes of any node (the primary restarts as primary) and, with
/// `clock_faults`, clocks that drift, jump ahead and stall. Checked on
/// every run: the primary's history is linearizable; after every tick each backup holds exactly
/// the primary's state at the index it has applied (a prefix of its history, never anything
/// else); once the network heals every backup catches up; no shard reports an error.
inline SeedOutcome run_primary_backup_seed(std::uint64_t seed, sim::DiskOptions disk = {}, bool clock_faults = true) {
  sim::Rng pick(seed);
  sim::NetworkOptions net{.min_delay = 1, .max_delay = pick.between(1, 6), .loss = 0.3 * static_cast<double>(pick.below(4)) / 3,
                          .duplicate = 0.1 * static_cast<double>(pick.below(3))};
  PrimaryBackupConfig config{.compact_every = pick.between(4, 64), .max_log_entries = pick.between(16, 128)};
  ShardOptions options{.max_chunk_bytes = pick.between(16, 256)};
  sim::ClockOptions clocks{.max_drift_ppm = clock_faults ? 250'000 * pick.below(3) : 0};
  PrimaryBackupSim s(seed, 3, net, config, options, disk, clocks);
  auto& c = s.cluster;
  sim::Rng& rng = c.rng();
  std::vector<sim::Op> history;
  std::uint64_t clock = 0;
  std::map<std::uint64_t, std::map<std::string, std::string>> states{{0, {}}};  // the primary's, by index
  SeedOutcome out;
  auto fail = [&](std::string why) {
    out.failure = std::move(why);
    out.trace_hash = c.trace_hash();
    return out;
  };
  auto backups_hold_prefixes = [&]() -> std::string {
    for (std::uint64_t id : {2, 3}) {
      const std::uint64_t at = s.applied(id);
      auto it = states.find(at);
      if (at != 0 && it != states.end() && s.data(id) != it->second)
        return "backup " + std::to_string(id) + " at index " + std::to_string(at) + " holds what the primary never held";
    }
    return {};
  };
  for (int step = 0; step < 300; ++step) {
    const auto roll = rng.below(100);
    if (roll < 60 && c.up(1)) {
      if (auto r = client_op(c.shard(1), rng, history, clock); !r) return fail("the primary failed: " + r.error().message());
      states[s.applied(1)] = s.data(1);
      c.record(history.size());
      c.flush();
    } else if (roll < 63) {
      const std::uint64_t id = rng.between(1, 3);
      if (c.up(id)) s.crash(id);
      else c.restart(id);
    } else if (roll < 66) {
      c.network().isolate(rng.between(1, 3));
    } else if (roll < 68) {
      c.network().cut(rng.between(1, 3), rng.between(1, 3));
    } else if (roll < 72) {
      c.network().heal();
    } else if (roll < 74 && clock_faults) {
      c.jump_clock(rng.between(1, 3), rng.between(1, 30));
    } else if (roll < 76 && clock_faults) {
      c.stall_clock(rng.between(1, 3), rng.between(1, 30));
    }
    c.tick();
    if (auto why = backups_hold_prefixes(); !why.empty()) return fail(why + " (tick " + std::to_string(c.now()) + ")");
  }
  c.network().heal();
  c.network().options().loss = 0;
  for (std::uint64_t id = 1; id <= 3; ++id)
    if (!c.up(id)) c.restart(id);
  const std::uint64_t last = s.applied(1);
  std::string why;
  const bool converged = c.run_until([&] {
    why = backups_hold_prefixes();
    return !why.empty() || (s.applied(2) == last && s.applied(3) == last);
  }, 5000);
  out.trace_hash = c.trace_hash();
  out.ticks = c.now();
  if (!why.empty()) return fail(why);
  if (!c.errors().empty()) return fail("a shard reported an error: " + c.errors().front());
  if (auto lin = sim::check_linearizable(history); !lin)
    return fail("the primary's history is not linearizable on key " + lin.key);
  if (!converged) return fail("the backups did not catch up with the primary at " + std::to_string(last));
  for (std::uint64_t id : {2, 3})
    if (s.data(id) != s.data(1)) return fail("backup " + std::to_string(id) + " differs from the primary");
  return out;
}

}  // namespace kvstack::test
