// Quickstart: a node registry and a resource registry sharing one LMDB store, as in the seeds'
// NodeRegistry / NodeResourceRegistry — register, look up, update, list, remove. The store lives
// in the directory given as the first argument (default ./kvstack-data): run it twice and the
// second run finds what the first one left.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <kvstack/kvstack.hpp>
#include <kvstack/backend/lmdb.hpp>

namespace kv = kvstack;

enum class NodeStatus : std::uint8_t { active, draining, down };

struct NodeInfo {  // a plain struct: no macro, no annotation
  boost::uuids::uuid id;
  std::string ip;
  std::uint16_t port = 0;
  NodeStatus status = NodeStatus::active;
  std::map<std::string, std::string> metadata;
};

struct NodeResourceInfo {
  double cpu_percent = 0;
  std::uint64_t memory_bytes = 0;
  double load_average = 0;
  std::chrono::system_clock::time_point updated_at;
};

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "./kvstack-data";
  auto opened = kv::LmdbBackend::open(path);  // the embedded default engine
  if (!opened) {
    std::cerr << "cannot open the store: " << opened.error().message() << "\n";
    return 1;
  }
  kv::LmdbBackend db = std::move(opened).value();
  kv::NamespacedRegistry<kv::LmdbBackend, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  kv::NamespacedRegistry<kv::LmdbBackend, NodeResourceInfo, boost::uuids::uuid> resources{db, "resource"};
  kv::NamespacedRegistry<kv::LmdbBackend, std::uint64_t> runs{db, "quickstart"};

  const std::uint64_t run = runs.get("runs").value().value_or(0) + 1;
  runs.put("runs", run).value();
  std::cout << "run " << run << " on " << path << ": " << nodes.count().value()
            << " nodes registered by earlier runs\n";

  boost::uuids::random_generator make_id;
  for (int i = 1; i <= 3; ++i) {
    NodeInfo node{make_id(), "10.0.0." + std::to_string(i), 8080, NodeStatus::active, {{"zone", i < 3 ? "a" : "b"}}};
    nodes.put(node.id, node).value();
    resources.put(node.id, {12.5 * i, 1ull << (30 + i), 0.1 * i, std::chrono::system_clock::now()}).value();
    std::cout << "registered node " << node.id << " at " << node.ip << ":" << node.port << "\n";
  }

  auto first = nodes.list();
  auto [id, node] = *first.begin();
  auto found = nodes.get(id).value();
  std::cout << "looked up " << id << ": " << (found ? found->ip : "not found") << "\n";

  resources.update(id, [](NodeResourceInfo& r) {
    r.cpu_percent = 97.0;
    r.updated_at = std::chrono::system_clock::now();
  }).value();
  std::cout << "updated resources of " << id << ": cpu " << resources.get(id).value()->cpu_percent << "%\n";

  nodes.update(id, [](NodeInfo& n) { n.status = NodeStatus::draining; }).value();

  std::cout << "nodes (" << nodes.count().value() << "):\n";
  auto all = nodes.list();
  for (auto&& [node_id, info] : all) {
    auto res = resources.get(node_id).value();
    std::cout << "  " << node_id << " " << info.ip << " zone=" << info.metadata["zone"]
              << " status=" << (info.status == NodeStatus::draining ? "draining" : "active")
              << " cpu=" << (res ? res->cpu_percent : 0) << "%\n";
  }
  all.status().value();  // a scan that stopped on an error says so

  nodes.erase(id).value();
  resources.erase(id).value();
  std::cout << "removed " << id << "; " << nodes.count().value() << " nodes and " << resources.count().value()
            << " resource records left\n";
}
