// Replicas of an Mst shard in sim::Cluster over MemoryBackend disks, and the randomized workload
// one seed drives through them (used by the tests and by tools/soak.sh).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/backend/memory.hpp>
#include <kvstack/shard/mst/mst.hpp>
#include <kvstack/sim/cluster.hpp>
#include <kvstack/sim/disk.hpp>

namespace kvstack::test {

using MstDisk = sim::Disk<MemoryBackend>;
using MstShard = Shard<NoLog, MstDisk, Mst<>>;

/// Replicas 1..n, each with an App disk that outlives crashes, and a physical clock that is the
/// node's own simulated clock (so it drifts, jumps and stalls as the cluster's faults say).
struct MstSim {
  MstConfig config;
  std::map<std::uint64_t, MstDisk> disks;
  sim::Cluster<MstShard> cluster;

  MstSim(std::uint64_t seed, std::uint64_t n, sim::NetworkOptions net = {}, MstConfig base = {}, sim::ClockOptions clocks = {},
         sim::DiskOptions disk = {})
      : config(with_members(base, n)), disks(make_disks(n, disk)),
        cluster(seed, config.members, [this](std::uint64_t id) { return open(id); }, net, clocks) {}

  Result<MstShard> open(std::uint64_t id) {
    MstConfig c = config;
    c.id = id;
    return MstShard::open(NoLog{}, disks.at(id), Mst<>(c), [this, id] { return cluster.local_time(id) + 1; });
  }
  /// Crashes node `id`: its shard stops, and its disk loses what it had not synced.
  void crash(std::uint64_t id) {
    cluster.crash(id);
    disks.at(id).crash(cluster.rng());
  }
  /// The live data of node `id` (read from its disk, so also while it is down).
  std::map<std::string, std::string> data(std::uint64_t id) {
    std::map<std::string, std::string> out;
    detail::MstReader<MstDisk> reader(&disks.at(id));
    for (auto&& [k, v] : reader.scan(KeyRange::all())) out.emplace(std::string(k), std::string(v));
    return out;
  }
  /// The root digest of node `id`, which must be up.
  Digest root(std::uint64_t id) { return cluster.shard(id).root().value(); }
  /// Whether every replica (all up) holds the same root.
  bool converged() {
    const Digest first = root(config.members.front());
    for (auto id : config.members)
      if (root(id) != first) return false;
    return true;
  }

 private:
  static MstConfig with_members(MstConfig c, std::uint64_t n) {
    c.members.clear();
    for (std::uint64_t id = 1; id <= n; ++id) c.members.push_back(id);
    return c;
  }
  static std::map<std::uint64_t, MstDisk> make_disks(std::uint64_t n, sim::DiskOptions disk) {
    std::map<std::uint64_t, MstDisk> m;
    for (std::uint64_t id = 1; id <= n; ++id) m.try_emplace(id, MemoryBackend{}, disk);
    return m;
  }
};

/// One write a client made and its record (for the reference model).
struct MstWrite {
  std::string key;
  MstRecord record;
};

/// What one seed found: empty when every check held.
struct MstOutcome {
  std::string failure;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
  std::uint64_t rounds_to_converge = 0;
};

/// The last-writer-wins outcome of `writes`: each key's value in its latest record by stamp,
/// absent where that record is a delete.
inline std::map<std::string, std::string> last_writer_wins(const std::vector<MstWrite>& writes) {
  std::map<std::string, const MstRecord*> latest;
  for (const auto& w : writes) {
    auto& l = latest[w.key];
    if (!l || l->stamp < w.record.stamp) l = &w.record;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, r] : latest)
    if (r->value) out.emplace(k, *r->value);
  return out;
}

/// 3 to 7 replicas; clients write overlapping keys at every live replica (puts, deletes,
/// batches, read-modify-write transactions) under loss, duplication, reordering, partitions,
/// crashes with restarts and clocks that drift, jump and stall. Checked: no replica reports an
/// error; once the faults heal and writes stop, within a bounded number of ticks every replica
/// has the same root digest and the same data, which is the last-writer-wins outcome of the
/// history by stamp.
inline MstOutcome run_mst_seed(std::uint64_t seed, sim::DiskOptions disk = {}) {
  sim::Rng pick(seed);
  const std::uint64_t n = pick.between(3, 7);
  sim::NetworkOptions net{.min_delay = 1, .max_delay = pick.between(1, 6), .loss = 0.3 * static_cast<double>(pick.below(4)) / 3,
                          .duplicate = 0.1 * static_cast<double>(pick.below(3))};
  MstConfig config{.sync_ticks = pick.between(2, 8), .tombstone_horizon = pick.between(20, 400), .purge_ticks = 16,
                   .max_message_bytes = pick.between(64, 4096)};
  sim::ClockOptions clocks{.max_drift_ppm = 250'000 * pick.below(3)};
  MstSim s(seed, n, net, config, clocks, disk);
  auto& c = s.cluster;
  sim::Rng& rng = c.rng();
  std::vector<MstWrite> history;
  MstOutcome out;
  auto fail = [&](std::string why) {
    out.failure = std::move(why);
    out.trace_hash = c.trace_hash();
    out.ticks = c.now();
    return out;
  };
  auto noted = [&](MstShard& shard, const std::string& key) -> std::string {
    auto r = shard.record(key);
    if (!r) return r.error().message();
    if (!r.value()) return "a write left no record of " + key;
    history.push_back({key, *r.value()});
    c.record(r.value()->stamp.wall, key);
    return {};
  };
  for (int step = 0; step < 400; ++step) {
    const auto roll = rng.below(100);
    const std::uint64_t id = rng.between(1, n);
    if (roll < 55 && c.up(id)) {
      auto& shard = c.shard(id);
      const std::string key = "k" + std::to_string(rng.below(12));
      const auto kind = rng.below(10);
      std::string why;
      if (kind < 5) {
        if (auto r = shard.put(key, "v" + std::to_string(step) + "@" + std::to_string(id)); !r) return fail("put: " + r.error().message());
        why = noted(shard, key);
      } else if (kind < 7) {
        auto r = shard.erase(key);
        if (!r) return fail("erase: " + r.error().message());
        if (r.value()) why = noted(shard, key);
      } else if (kind < 8) {
        WriteBatch b;
        const std::string other = "k" + std::to_string(rng.below(12));
        b.put(key, "b" + std::to_string(step)).erase(other);
        if (auto r = shard.write(b); !r) return fail("write: " + r.error().message());
        why = noted(shard, key);
        if (why.empty() && other != key) why = noted(shard, other);
      } else {  // append to what this replica holds
        auto r = shard.transact([&](auto& tx) -> Result<void> {
          auto cur = tx.get(key);
          if (!cur) return cur.error();
          return tx.put(key, cur.value().value_or("") + "+");
        });
        if (!r) return fail("transact: " + r.error().message());
        why = noted(shard, key);
      }
      if (!why.empty()) return fail(why);
      c.flush();
    } else if (roll < 59) {
      if (c.up(id)) s.crash(id);
      else c.restart(id);
    } else if (roll < 63) {
      c.network().isolate(id);
    } else if (roll < 66) {
      c.network().cut(id, rng.between(1, n));
    } else if (roll < 71) {
      c.network().heal();
    } else if (roll < 73) {
      c.jump_clock(id, rng.between(1, 50));
    } else if (roll < 75) {
      c.stall_clock(id, rng.between(1, 30));
    }
    c.tick();
    if (!c.errors().empty()) return fail("a replica reported an error: " + c.errors().front());
  }
  c.network().heal();
  c.network().options().loss = 0;
  c.network().options().duplicate = 0;
  for (std::uint64_t id = 1; id <= n; ++id)
    if (!c.up(id)) c.restart(id);
  const std::uint64_t healed = c.now();
  const bool converged = c.run_until([&] { return s.converged(); }, 2000);
  out.ticks = c.now();
  out.rounds_to_converge = (c.now() - healed) / config.sync_ticks;
  out.trace_hash = c.trace_hash();
  if (!c.errors().empty()) return fail("a replica reported an error: " + c.errors().front());
  if (!converged) return fail("the replicas did not converge within 2000 ticks of healing");
  const auto expected = last_writer_wins(history);
  for (std::uint64_t id = 1; id <= n; ++id)
    if (auto held = s.data(id); held != expected) {
      std::string why = "replica " + std::to_string(id) + " does not hold the last writer's values:";
      for (const auto& [k, v] : expected)
        if (auto it = held.find(k); it == held.end() || it->second != v) why += " " + k + " should be " + v + ";";
      for (const auto& [k, v] : held)
        if (!expected.contains(k)) why += " " + k + " should be absent;";
      return fail(why);
    }
  return out;
}

}  // namespace kvstack::test
