// kvstack vs the same work written by hand on the same container, side by side in one run:
// MemoryBackend get / put / prefix scan of 100 keys, and a registry get / put of a NodeInfo.
//
// "Hand-written" is what a user would write for a thread-safe store without kvstack: the same
// copy-on-write B+tree (detail::CowBTree) behind a std::shared_mutex, keys built with the same
// key codec, values with the same BinarySerializer. The difference is what kvstack's layers
// cost. std::map behind a shared_mutex is listed as a familiar reference point.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target foundation_bench
//   build/bench/benchmarks/foundation_bench --benchmark_repetitions=21
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/uuid/uuid.hpp>

#include <kvstack/kvstack.hpp>

namespace {

constexpr int key_count = 100'000;

std::string key_of(int i) { return "key/" + std::to_string(1'000'000 + i); }
const std::string value(100, 'v');

// The hand-written thread-safe store over the same tree.
struct HandStore {
  mutable std::shared_mutex mu;
  kvstack::detail::CowBTree tree;
};

struct MapStore {
  mutable std::shared_mutex mu;
  std::map<std::string, std::string, std::less<>> map;
};

const std::vector<std::string>& keys() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> k;
    for (int i = 0; i < key_count; ++i) k.push_back(key_of(i));
    return k;
  }();
  return all;
}

template <class Put>
void fill(Put&& put) {
  for (const auto& k : keys()) put(k, value);
}

int next_index(std::uint64_t& x) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<int>((x >> 33) % key_count);
}

// ---- point get ----

void Get_Kvstack(benchmark::State& state) {
  kvstack::MemoryBackend db;
  fill([&](const std::string& k, const std::string& v) { db.put(k, v).value(); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    auto r = db.get(keys()[next_index(x)]);
    benchmark::DoNotOptimize(r);
  }
}
void Get_Hand(benchmark::State& state) {
  HandStore s;
  fill([&](const std::string& k, const std::string& v) { s.tree.assign(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::optional<std::string> r;
    {
      std::shared_lock lock(s.mu);
      if (const auto* e = s.tree.find(keys()[next_index(x)])) r = e->value();
    }
    benchmark::DoNotOptimize(r);
  }
}
void Get_StdMap(benchmark::State& state) {
  MapStore s;
  fill([&](const std::string& k, const std::string& v) { s.map.emplace(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::optional<std::string> r;
    {
      std::shared_lock lock(s.mu);
      if (auto it = s.map.find(keys()[next_index(x)]); it != s.map.end()) r = it->second;
    }
    benchmark::DoNotOptimize(r);
  }
}

// ---- put (overwrite of an existing key) ----

void Put_Kvstack(benchmark::State& state) {
  kvstack::MemoryBackend db;
  fill([&](const std::string& k, const std::string& v) { db.put(k, v).value(); });
  std::uint64_t x = 1;
  for (auto _ : state) benchmark::DoNotOptimize(db.put(keys()[next_index(x)], value));
}
void Put_Hand(benchmark::State& state) {
  HandStore s;
  std::mutex writer;  // a transactional store needs writers serialized apart from readers
  fill([&](const std::string& k, const std::string& v) { s.tree.assign(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::scoped_lock lock(writer, s.mu);
    benchmark::DoNotOptimize(s.tree.assign(keys()[next_index(x)], value));
  }
}
void Put_StdMap(benchmark::State& state) {
  MapStore s;
  fill([&](const std::string& k, const std::string& v) { s.map.emplace(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::unique_lock lock(s.mu);
    s.map.insert_or_assign(keys()[next_index(x)], value);
  }
}

// ---- prefix scan of 100 keys ----

std::string scan_prefix(int i) { return key_of(i / 100 * 100).substr(0, 9); }  // "key/1xxxx": 100 keys

void Scan100_Kvstack(benchmark::State& state) {
  kvstack::MemoryBackend db;
  fill([&](const std::string& k, const std::string& v) { db.put(k, v).value(); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::size_t bytes = 0, n = 0;
    for (auto&& [k, v] : db.scan(kvstack::KeyRange::prefix(scan_prefix(next_index(x))))) {
      bytes += k.size() + v.size();
      ++n;
    }
    benchmark::DoNotOptimize(bytes);
    if (n != 100) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_Hand(benchmark::State& state) {
  HandStore s;
  fill([&](const std::string& k, const std::string& v) { s.tree.assign(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::string prefix = scan_prefix(next_index(x));
    kvstack::detail::CowBTree::Snapshot snap;
    {
      std::shared_lock lock(s.mu);
      snap = s.tree.snapshot();
    }
    kvstack::detail::CowBTree::Cursor c(snap.root());
    std::size_t bytes = 0, n = 0;
    for (c.seek(prefix); c.valid() && c.key().starts_with(prefix); c.next()) {
      bytes += c.key().size() + c.value().size();
      ++n;
    }
    benchmark::DoNotOptimize(bytes);
    if (n != 100) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_StdMapLocked(benchmark::State& state) {  // no snapshot: holds the lock throughout
  MapStore s;
  fill([&](const std::string& k, const std::string& v) { s.map.emplace(k, v); });
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::string prefix = scan_prefix(next_index(x));
    std::shared_lock lock(s.mu);
    std::size_t bytes = 0;
    for (auto it = s.map.lower_bound(prefix); it != s.map.end() && it->first.starts_with(prefix); ++it)
      bytes += it->first.size() + it->second.size();
    benchmark::DoNotOptimize(bytes);
  }
}

// ---- registry of NodeInfo ----

struct NodeInfo {
  boost::uuids::uuid id{};
  std::string ip;
  std::uint16_t port = 0;
  std::uint8_t status = 0;
  std::map<std::string, std::string> metadata;
};

boost::uuids::uuid uuid_of(int i) {
  boost::uuids::uuid u{};
  for (int b = 0; b < 4; ++b) u.data[12 + b] = static_cast<std::uint8_t>(i >> (8 * (3 - b)));
  return u;
}
NodeInfo node_of(int i) { return {uuid_of(i), "10.0.0." + std::to_string(i % 250), 8080, 1, {{"zone", "a"}}}; }

constexpr int node_count = 10'000;

void RegistryGet_Kvstack(benchmark::State& state) {
  kvstack::MemoryBackend db;
  kvstack::NamespacedRegistry<kvstack::MemoryBackend, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  for (int i = 0; i < node_count; ++i) nodes.put(uuid_of(i), node_of(i)).value();
  std::uint64_t x = 1;
  for (auto _ : state) {
    auto r = nodes.get(uuid_of(next_index(x) % node_count));
    benchmark::DoNotOptimize(r);
  }
}
void RegistryGet_Hand(benchmark::State& state) {
  HandStore s;
  const std::string prefix = kvstack::encode_namespace("node");
  auto key = [&](int i) {
    std::string k = prefix;
    kvstack::encode_key(uuid_of(i), k);
    return k;
  };
  for (int i = 0; i < node_count; ++i) s.tree.assign(key(i), kvstack::BinarySerializer::encode(node_of(i)));
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::optional<NodeInfo> r;
    std::string k = key(next_index(x) % node_count);
    std::shared_lock lock(s.mu);
    if (const auto* e = s.tree.find(k)) r = kvstack::BinarySerializer::decode<NodeInfo>(e->value()).value();
    benchmark::DoNotOptimize(r);
  }
}

void RegistryPut_Kvstack(benchmark::State& state) {
  kvstack::MemoryBackend db;
  kvstack::NamespacedRegistry<kvstack::MemoryBackend, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  std::vector<NodeInfo> all;
  for (int i = 0; i < node_count; ++i) all.push_back(node_of(i));
  std::uint64_t x = 1;
  for (auto _ : state) {
    const NodeInfo& n = all[next_index(x) % node_count];
    benchmark::DoNotOptimize(nodes.put(n.id, n));
  }
}
void RegistryPut_Hand(benchmark::State& state) {
  HandStore s;
  std::mutex writer;
  const std::string prefix = kvstack::encode_namespace("node");
  std::vector<NodeInfo> all;
  for (int i = 0; i < node_count; ++i) all.push_back(node_of(i));
  std::uint64_t x = 1;
  for (auto _ : state) {
    const NodeInfo& n = all[next_index(x) % node_count];
    std::string k = prefix;
    kvstack::encode_key(n.id, k);
    std::string v;
    kvstack::BinarySerializer::encode(n, v);
    std::scoped_lock lock(writer, s.mu);
    benchmark::DoNotOptimize(s.tree.assign(k, v));
  }
}

}  // namespace

BENCHMARK(Get_Kvstack);
BENCHMARK(Get_Hand);
BENCHMARK(Get_StdMap);
BENCHMARK(Put_Kvstack);
BENCHMARK(Put_Hand);
BENCHMARK(Put_StdMap);
BENCHMARK(Scan100_Kvstack);
BENCHMARK(Scan100_Hand);
BENCHMARK(Scan100_StdMapLocked);
BENCHMARK(RegistryGet_Kvstack);
BENCHMARK(RegistryGet_Hand);
BENCHMARK(RegistryPut_Kvstack);
BENCHMARK(RegistryPut_Hand);
BENCHMARK_MAIN();
