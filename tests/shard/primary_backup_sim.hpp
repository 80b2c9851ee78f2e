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

namespace kvstack::test {

using SimDisk = sim::Disk<MemoryBackend>;
using PbShard = Shard<BackendLog<SimDisk>, SimDisk, AsyncPrimaryBackup>;

/// Nodes 1..n (node 1 starts as primary), each with a log disk and an App disk that outlive
/// crashes.
struct PrimaryBackupSim {
  struct Node {
    SimDisk log{MemoryBackend{}}, app{MemoryBackend{}};
  };
  PrimaryBackupConfig config;
  ShardOptions shard_options;
  std::map<std::uint64_t, Node> nodes;
  sim::Cluster<PbShard> cluster;

  PrimaryBackupSim(std::uint64_t seed, std::uint64_t n, sim::NetworkOptions net = {}, PrimaryBackupConfig base = {},
                   ShardOptions options = {})
      : config(with_members(base, n)), shard_options(options), nodes(make_nodes(n)),
        cluster(seed, config.members, [this](std::uint64_t id) { return open(id); }, net) {}

  Result<PbShard> open(std::uint64_t id) {
    PrimaryBackupConfig c = config;
    c.id = id;
    Node& node = nodes.at(id);
    return PbShard::open(BackendLog<SimDisk>{node.log, "log"}, node.app, AsyncPrimaryBackup{c}, shard_options);
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
  static std::map<std::uint64_t, Node> make_nodes(std::uint64_t n) {
    std::map<std::uint64_t, Node> m;
    for (std::uint64_t id = 1; id <= n; ++id) m.try_emplace(id);
    return m;
  }
};

/// What one seed of the randomized primary-backup workload found: empty when every check held.
struct SeedOutcome {
  std::string failure;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
};

/// Three replicas; random writes at the primary under loss, duplication, reordering,
/// partitions and crashes of any node (the primary restarts as primary); then the network
/// heals and every backup must converge to the primary's data with nothing lost, and no shard
/// may report an error.
inline SeedOutcome run_primary_backup_seed(std::uint64_t seed) {
  sim::Rng pick(seed);
  sim::NetworkOptions net{.min_delay = 1, .max_delay = pick.between(1, 6), .loss = 0.3 * static_cast<double>(pick.below(4)) / 3,
                          .duplicate = 0.1 * static_cast<double>(pick.below(3))};
  PrimaryBackupConfig config{.compact_every = pick.between(4, 64), .max_log_entries = pick.between(16, 128)};
  ShardOptions options{.max_chunk_bytes = pick.between(16, 256)};
  PrimaryBackupSim s(seed, 3, net, config, options);
  auto& c = s.cluster;
  sim::Rng& rng = c.rng();
  std::map<std::string, std::string> model;  // what the primary acknowledged
  SeedOutcome out;
  auto fail = [&](std::string why) {
    out.failure = std::move(why);
    return out;
  };
  for (int step = 0; step < 300; ++step) {
    const auto roll = rng.below(100);
    if (roll < 60 && c.up(1)) {
      const std::string key = "k" + std::to_string(rng.below(20));
      Result<void> r = success();
      if (rng.chance(0.2)) {
        if (auto e = c.shard(1).erase(key); !e) r = e.error();
        else model.erase(key);
      } else {
        const std::string value = std::string(rng.below(40), static_cast<char>('a' + rng.below(26)));
        if (r = c.shard(1).put(key, value); r) model[key] = value;
      }
      if (!r) return fail("a write at the primary failed: " + r.error().message());
      c.record(1, key);
      c.flush();
    } else if (roll < 63) {
      const std::uint64_t id = rng.between(1, 3);
      if (c.up(id)) c.crash(id);
      else c.restart(id);
    } else if (roll < 66) {
      c.network().isolate(rng.between(1, 3));
    } else if (roll < 68) {
      c.network().cut(rng.between(1, 3), rng.between(1, 3));
    } else if (roll < 72) {
      c.network().heal();
    }
    c.tick();
  }
  c.network().heal();
  c.network().options().loss = 0;
  for (std::uint64_t id = 1; id <= 3; ++id)
    if (!c.up(id)) c.restart(id);
  const std::uint64_t last = s.applied(1);
  const bool converged = c.run_until([&] { return s.applied(2) == last && s.applied(3) == last; }, 5000);
  out.trace_hash = c.trace_hash();
  out.ticks = c.now();
  if (!c.errors().empty()) return fail("a shard reported an error: " + c.errors().front());
  if (s.data(1) != model) return fail("the primary lost acknowledged writes");
  if (!converged) return fail("the backups did not catch up with the primary at " + std::to_string(last));
  for (std::uint64_t id : {2, 3})
    if (auto d = s.data(id); d != model) {
      auto [a, b] = std::mismatch(d.begin(), d.end(), model.begin(), model.end());
      return fail("backup " + std::to_string(id) + " differs from the primary at index " + std::to_string(last) + ": " +
                  (a == d.end() ? "(end)" : a->first + "=" + a->second) + " where the primary has " +
                  (b == model.end() ? "(end)" : b->first + "=" + b->second));
    }
  return out;
}

}  // namespace kvstack::test
