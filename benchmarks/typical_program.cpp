// A typical one-file kvstack program, as the README's usage section writes it: two registries on
// Ttl<AnyBackend> opened from the environment. benchmarks/compile_time.sh times its compilation.
#include <kvstack/kvstack.hpp>
#include <kvstack/backend/config.hpp>

#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_generators.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

namespace kv = kvstack;

struct NodeInfo {
  boost::uuids::uuid id;
  std::string ip;
  std::uint16_t port = 0;
  std::vector<std::string> tags;
};

struct Session {
  std::string user;
  std::int64_t created = 0;
};

int main() {
  kv::Ttl<kv::AnyBackend> db(kv::open(kv::Config::from_env().value()).value());
  kv::NamespacedRegistry<decltype(db), NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  kv::NamespacedRegistry<decltype(db), Session> sessions{db, "session"};

  NodeInfo n{boost::uuids::random_generator()(), "10.0.0.1", 8080, {"eu", "ssd"}};
  nodes.put(n.id, n).value();
  nodes.update(n.id, [](NodeInfo& x) { x.port = 9090; }).value();
  sessions.put("s1", Session{"ann", 1}, std::chrono::minutes(30)).value();
  for (auto&& [id, info] : nodes.list()) std::cout << info.ip << ':' << info.port << '\n';
  auto found = sessions.get("s1").value();
  std::cout << (found ? found->user : "none") << ' ' << nodes.count().value() << '\n';
  return nodes.erase(n.id).value() ? 0 : 1;
}
