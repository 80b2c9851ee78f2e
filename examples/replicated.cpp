// A replicated shard: a primary and a backup with AsyncPrimaryBackup, in one process, over the
// deterministic simulator's network (which drops and delays messages). The primary's writes
// reach the backup; the backup's lag shows in status(); a failover promotes the backup.
#include <cstdio>

#include <kvstack/kvstack.hpp>

namespace kv = kvstack;

using Disk = kv::sim::Disk<kv::MemoryBackend>;  // storage that outlives a crash of its node
using Replica = kv::Shard<kv::BackendLog<Disk>, Disk, kv::AsyncPrimaryBackup>;

int main() {
  Disk logs[2] = {Disk(kv::MemoryBackend{}), Disk(kv::MemoryBackend{})};
  Disk apps[2] = {Disk(kv::MemoryBackend{}), Disk(kv::MemoryBackend{})};
  auto open = [&](std::uint64_t id) {
    kv::PrimaryBackupConfig config{.id = id, .members = {1, 2}, .primary = 1};
    return Replica::open(kv::BackendLog<Disk>{logs[id - 1], "log"}, apps[id - 1], kv::AsyncPrimaryBackup{config});
  };
  kv::sim::Cluster<Replica> cluster(/*seed=*/42, {1, 2}, open, {.max_delay = 3, .loss = 0.2});
  Replica& primary = cluster.shard(1);
  Replica& backup = cluster.shard(2);

  // A Shard is a Backend: registries, Ttl and the Redis data model run on it unchanged.
  kv::NamespacedRegistry<Replica, std::string, int> users{primary, "user"};
  for (int id = 1; id <= 5; ++id) users.put(id, "user-" + std::to_string(id)).value();
  std::printf("primary applied %llu entries; backup lags by %llu\n",
              static_cast<unsigned long long>(primary.status().applied),
              static_cast<unsigned long long>(primary.status().peers.at(0).lag_entries));

  cluster.flush();  // hand the shards' messages to the network, then let time pass
  cluster.run_until([&] { return backup.status().applied == primary.status().applied; }, 1000);
  kv::NamespacedRegistry<Replica, std::string, int> replica_users{backup, "user"};
  std::printf("after %llu ticks the backup has %zu users; user 3 is %s\n",
              static_cast<unsigned long long>(cluster.now()), replica_users.count().value(),
              replica_users.get(3).value().value_or("missing").c_str());

  auto refused = replica_users.put(6, "user-6");  // backups serve reads, not writes
  std::printf("a write on the backup: %s\n", refused.error().message().c_str());

  cluster.crash(1);          // the primary is gone
  backup.promote().value();  // manual failover: the backup takes over in a new term
  replica_users.put(6, "user-6").value();
  std::printf("after failover the backup is %s in term %llu with %zu users\n",
              backup.status().role == kv::Role::primary ? "primary" : "backup",
              static_cast<unsigned long long>(backup.status().term), replica_users.count().value());
  return 0;
}
