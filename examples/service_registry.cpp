// Service registry: the services of seed 002 (PlexSpaces) on one LMDB store, through the stack
// Metered<Watched<Ttl<LmdbBackend>>> — an actor registry, sessions that expire, a leader lease
// whose fencing token guards a shared resource, and a configuration key watched for hot reload.
// The store lives in the directory given as the first argument (default ./service-data).
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

#include <kvstack/kvstack.hpp>
#include <kvstack/backend/lmdb.hpp>

namespace kv = kvstack;
using namespace std::chrono_literals;

using Store = kv::Metered<kv::Watched<kv::Ttl<kv::LmdbBackend>>>;

struct ActorRef {
  std::string node;
  std::string mailbox;
};

struct Session {
  std::string user;
  std::uint32_t requests = 0;
};

// A resource that must never take orders from a deposed leader: it remembers the largest
// fencing token it has seen and refuses smaller ones.
struct FencedResource {
  std::uint64_t highest = 0;
  bool write(std::uint64_t token, const std::string& what) {
    if (token < highest) {
      std::cout << "  resource: refused '" << what << "' from stale token " << token << "\n";
      return false;
    }
    highest = token;
    std::cout << "  resource: accepted '" << what << "' with token " << token << "\n";
    return true;
  }
};

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "./service-data";
  auto opened = kv::LmdbBackend::open(path);
  if (!opened) {
    std::cerr << "cannot open the store: " << opened.error().message() << "\n";
    return 1;
  }
  Store db{kv::Watched{kv::Ttl{std::move(opened).value()}}, {.latency = true}};

  // Actor registry: lookup-heavy, listed in key order.
  kv::NamespacedRegistry<Store, ActorRef> actors{db, "actor"};
  actors.put("payment-processor", {"node-1", "mbox-17"}).value();
  actors.put("inventory", {"node-2", "mbox-3"}).value();
  std::cout << "actors:\n";
  for (auto&& [id, ref] : actors.list()) std::cout << "  " << id << " -> " << ref.node << "/" << ref.mailbox << "\n";

  // Configuration with hot reload: a subscription on the config namespace.
  kv::NamespacedRegistry<Store, std::string> config{db, "config"};
  std::string log_level = config.get("log-level").value().value_or("info");
  auto reload = db.subscribe(kv::KeyRange::prefix(config.key_prefix()), [&](const kv::Event& e) {
    if (e.kind != kv::EventKind::put) return;
    if (auto value = kv::BinarySerializer::decode<std::string>(e.value)) {
      log_level = value.value();
      std::cout << "  config reloaded: log-level = " << log_level << "\n";
    }
  });
  std::cout << "log-level at start: " << log_level << "\n";
  config.put("log-level", log_level == "debug" ? "info" : "debug").value();

  // Sessions expire on their own: gone from every read at their deadline, purged later.
  kv::NamespacedRegistry<Store, Session> sessions{db, "session"};
  sessions.put("alice", {"alice", 1}, 30min).value();
  sessions.put("probe", {"health-check", 0}, 20ms).value();
  std::cout << "sessions now: " << sessions.count().value() << "\n";
  std::this_thread::sleep_for(25ms);  // an example may wait; the tests use a ManualClock instead
  std::cout << "sessions 25 ms later: " << sessions.count().value() << " (alice has "
            << std::chrono::duration_cast<std::chrono::minutes>(db.ttl(sessions.storage_key("alice")).value().value()).count()
            << " min left)\n";
  std::cout << "purged " << db.purge_expired().value() << " expired key(s)\n";

  // A leader lease with a fencing token.
  kv::LeaseManager<Store> leases{db};
  FencedResource resource;
  auto leader = leases.acquire("leader", "node-1", 10s).value();
  if (!leader) {
    std::cout << "leader: held by " << leases.holder("leader").value()->holder << "\n";
  } else {
    std::cout << "node-1 leads with token " << leader->token << "\n";
    std::cout << "node-2 tries: " << (leases.acquire("leader", "node-2", 10s).value() ? "granted" : "refused") << "\n";
    resource.write(leader->token, "rebalance shards");
    leases.release(*leader).value();
    auto next = leases.acquire("leader", "node-2", 10s).value().value();
    std::cout << "node-2 leads with token " << next.token << "\n";
    resource.write(next.token, "compact");
    resource.write(leader->token, "late write from node-1");  // node-1 was paused; fenced out
    leases.release(next).value();
  }

  // Counters and metrics.
  std::cout << "visits: " << kv::increment(db, "visits").value() << "\n";
  auto metrics = db.metrics();
  std::cout << "operations: " << metrics[kv::Operation::get].count << " gets, " << metrics[kv::Operation::put].count
            << " puts, " << metrics[kv::Operation::transact].count << " transactions; get p99 "
            << metrics[kv::Operation::get].p99.count() << " ns\n";
  std::string prometheus = metrics.prometheus();
  std::cout << prometheus.substr(0, prometheus.find("\n# HELP", 1)) << "\n";
}
