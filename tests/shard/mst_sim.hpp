// Replicas of an Mst shard in sim::Cluster over MemoryBackend disks, and the randomized workload
// one seed drives through them (used by the tests and by tools/soak.sh).
#pragma once

#include <algorithm>
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
  /// The records of node `id`, tombstones included (read from its disk, so also while it is
  /// down); a damaged one is a failure of the run, as an empty value of the key.
  std::map<std::string, MstRecord> records(std::uint64_t id) {
    std::map<std::string, MstRecord> out;
    for (auto&& [k, v] : disks.at(id).scan(KeyRange::prefix(std::string(1, detail::MstLayout::data)))) {
      auto r = MstRecord::decode(v);
      out.emplace(std::string(k.substr(1)), r ? r.value().owned() : MstRecord{});
    }
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

/// One write a client made and its record (for the reference model): at which node, in which
/// commit of its disk, and whether a crash of the node may have lost it since (its App's commits
/// are not durable, and the node crashed before it synced that commit).
struct MstWrite {
  std::string key;
  MstRecord record;
  std::uint64_t node = 0, commit = 0;
  bool possibly_lost = false;
};

/// What one seed found: empty when every check held.
struct MstOutcome {
  std::string failure;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
  std::uint64_t rounds_to_converge = 0;
};

/// What is wrong with `held` (a replica's records by key) as the last-writer-wins outcome of
/// `history`: empty if each key holds a write of the history outranked by no write but ones a
/// crash may have lost, or holds none or a delete, with every value written that no crash could
/// lose outranked by a delete.
inline std::string check_last_writer_wins(const std::vector<MstWrite>& history, const std::map<std::string, MstRecord>& held) {
  std::map<std::string, std::vector<const MstWrite*>> by_key;
  for (const auto& w : history) by_key[w.key].push_back(&w);
  for (const auto& [k, r] : held) by_key[k];
  std::string why;
  for (const auto& [k, writes] : by_key) {
    const auto it = held.find(k);
    const MstRecord* final = it == held.end() ? nullptr : &it->second;
    auto what = [](const MstRecord& r) { return (r.value ? *r.value : "a delete") + " (" + r.stamp.to_string() + ")"; };
    if (final && std::none_of(writes.begin(), writes.end(), [&](auto* w) { return w->record == *final; }))
      why += " " + k + " holds " + what(*final) + ", which no client wrote;";
    for (const auto* w : writes) {
      if (w->possibly_lost) continue;
      if (final && final->stamp < w->record.stamp)
        why += " " + k + " holds " + what(*final) + ", not the later " + what(w->record) + ";";
      if (!final && w->record.value &&
          std::none_of(writes.begin(), writes.end(), [&](auto* d) { return !d->record.value && w->record.stamp < d->record.stamp; }))
        why += " " + k + " lost " + what(w->record) + ";";
    }
  }
  return why;
}

/// 3 to 7 replicas; clients write overlapping keys at every live replica (puts, deletes,
/// batches, read-modify-write transactions) under loss, duplication, reordering, partitions,
/// crashes with restarts (losing the writes not yet synced, where the App's commits are not
/// durable) and clocks that drift, jump and stall. Checked: no replica reports an error; once
/// the faults heal and writes stop, within a bounded number of ticks every replica has the same
/// root digest and the same records, which are the last-writer-wins outcome of the history by
/// stamp, less writes a crash may have lost. `disk` is what the engine promises (a disk that
/// does not sync on commit although the App is said to: a known bug to find).
inline MstOutcome run_mst_seed(std::uint64_t seed, sim::DiskOptions disk = {}) {
  sim::Rng pick(seed);
  const std::uint64_t n = pick.between(3, 7);
  sim::NetworkOptions net{.min_delay = 1, .max_delay = pick.between(1, 6), .loss = 0.3 * static_cast<double>(pick.below(4)) / 3,
                          .duplicate = 0.1 * static_cast<double>(pick.below(3))};
  MstConfig config{.sync_ticks = pick.between(2, 8), .tombstone_horizon = pick.between(20, 400), .purge_ticks = 16,
                   .max_message_bytes = pick.between(64, 4096)};
  sim::ClockOptions clocks{.max_drift_ppm = 250'000 * pick.below(3)};
  // Half the seeds run over an App whose commits are not durable: a crash loses its last writes.
  config.app_commits_durable = pick.below(2) == 0;
  config.app_sync_ticks = pick.between(1, 30);
  disk.sync_on_commit = disk.sync_on_commit && config.app_commits_durable;
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
  auto noted = [&](std::uint64_t id, const std::string& key) -> std::string {
    auto r = c.shard(id).record(key);
    if (!r) return r.error().message();
    if (!r.value()) return "a write left no record of " + key;
    history.push_back({key, *r.value(), id, s.disks.at(id).commits()});
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
        why = noted(id, key);
      } else if (kind < 7) {
        auto r = shard.erase(key);
        if (!r) return fail("erase: " + r.error().message());
        if (r.value()) why = noted(id, key);
      } else if (kind < 8) {
        WriteBatch b;
        const std::string other = "k" + std::to_string(rng.below(12));
        b.put(key, "b" + std::to_string(step)).erase(other);
        if (auto r = shard.write(b); !r) return fail("write: " + r.error().message());
        why = noted(id, key);
        if (why.empty() && other != key) why = noted(id, other);
      } else {  // append to what this replica holds
        auto r = shard.transact([&](auto& tx) -> Result<void> {
          auto cur = tx.get(key);
          if (!cur) return cur.error();
          return tx.put(key, cur.value().value_or("") + "+");
        });
        if (!r) return fail("transact: " + r.error().message());
        why = noted(id, key);
      }
      if (!why.empty()) return fail(why);
      c.flush();
    } else if (roll < 59) {
      if (c.up(id)) {
        if (!config.app_commits_durable) {  // else the App promised every commit was on disk
          const std::uint64_t durable = s.disks.at(id).durable_commits();
          for (auto& w : history) w.possibly_lost |= w.node == id && w.commit > durable;
        }
        s.crash(id);
      } else {
        c.restart(id);
      }
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
  const auto held = s.records(1);
  for (std::uint64_t id = 2; id <= n; ++id)
    if (s.records(id) != held) return fail("replicas 1 and " + std::to_string(id) + " hold different records under one root");
  if (auto why = check_last_writer_wins(history, held); !why.empty()) return fail("the records are not the last writers':" + why);
  return out;
}

}  // namespace kvstack::test
