// NamespacedRegistry on every engine (and a layer and a shard): typed CRUD, isolation between namespaces, ordered
// listing, atomic update, clear, and corrupt stored bytes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/uuid/uuid.hpp>
#include <catch2/catch.hpp>

#include <kvstack/registry/namespaced_registry.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {

struct NodeInfo {
  boost::uuids::uuid id{};
  std::string ip;
  std::uint16_t port = 0;
  std::vector<std::string> labels;
  std::int64_t heartbeats = 0;
  bool operator==(const NodeInfo&) const = default;
};

boost::uuids::uuid uuid_of(std::uint8_t seed) {
  boost::uuids::uuid u{};
  for (auto& b : u.data) b = seed;
  return u;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("registry CRUD with uuid keys", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  NodeInfo n{uuid_of(1), "10.0.0.1", 8080, {"gpu"}, 0};
  CHECK(nodes.get(n.id).value() == std::nullopt);
  CHECK_FALSE(nodes.contains(n.id).value());
  nodes.put(n.id, n).value();
  CHECK(nodes.get(n.id).value() == n);
  CHECK(nodes.contains(n.id).value());
  CHECK(nodes.count().value() == 1);
  CHECK(nodes.erase(n.id).value());
  CHECK_FALSE(nodes.erase(n.id).value());
  CHECK(nodes.count().value() == 0);
}

TEMPLATE_LIST_TEST_CASE("put_all stores a batch of entries at once", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  std::vector<std::pair<boost::uuids::uuid, NodeInfo>> batch;
  for (std::uint8_t i = 1; i <= 50; ++i) batch.emplace_back(uuid_of(i), NodeInfo{uuid_of(i), "10.0.0.1", i, {}, i});
  nodes.put_all(batch).value();
  CHECK(nodes.count().value() == 50);
  for (auto& [id, node] : batch) CHECK(nodes.get(id).value() == node);
  nodes.put_all(std::vector<std::pair<boost::uuids::uuid, NodeInfo>>{}).value();  // empty: fine
  CHECK(nodes.count().value() == 50);
}

TEMPLATE_LIST_TEST_CASE("namespaces never see each other's keys", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  const std::vector<std::string> names = {"node", "node:", "nod", "", std::string("a\0b", 3), "a", "user", "user2"};
  std::vector<NamespacedRegistry<TestType, std::string>> registries;
  for (const auto& ns : names) registries.emplace_back(db, ns);
  for (std::size_t i = 0; i < names.size(); ++i) {
    registries[i].put("k", "value of " + names[i]).value();
    registries[i].put(":k", "colon").value();  // the seeds' "node:" + ":" bug has nothing to hit
    registries[i].put(std::string(i + 1, 'x'), "own").value();
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO("namespace #" << i);
    CHECK(registries[i].get("k").value() == "value of " + names[i]);
    CHECK(registries[i].count().value() == 3);
    std::vector<std::string> keys;
    for (auto&& [key, value] : registries[i].list()) keys.push_back(key);
    CHECK(keys == std::vector<std::string>{":k", "k", std::string(i + 1, 'x')});
    CHECK(registries[i].name() == names[i]);
  }
  CHECK(registries[0].clear().value() == 3);  // "node" only
  CHECK(registries[0].count().value() == 0);
  for (std::size_t i = 1; i < names.size(); ++i) CHECK(registries[i].count().value() == 3);
}

TEMPLATE_LIST_TEST_CASE("list iterates in key order and decodes both sides", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, std::string, std::int64_t> signed_keys{db, "numbers"};
  for (std::int64_t k : {5LL, -1LL, 0LL, -300LL, 1LL << 40, -(1LL << 40)}) signed_keys.put(k, std::to_string(k)).value();
  std::vector<std::int64_t> keys;
  auto list = signed_keys.list();
  for (auto&& [key, value] : list) {
    CHECK(value == std::to_string(key));
    keys.push_back(key);
  }
  list.status().value();
  CHECK(keys == std::vector<std::int64_t>{-(1LL << 40), -300, -1, 0, 5, 1LL << 40});

  using Composite = std::tuple<std::string, std::uint32_t>;
  NamespacedRegistry<TestType, int, Composite> composite{db, "composite"};
  composite.put({"b", 1}, 3).value();
  composite.put({"a", 2}, 2).value();
  composite.put({"a", 1}, 1).value();
  std::vector<int> order;
  for (auto&& [key, value] : composite.list()) order.push_back(value);
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEMPLATE_LIST_TEST_CASE("list(options) selects a range, a direction and a page", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  using Numbers = NamespacedRegistry<TestType, std::string, std::int64_t>;
  Numbers numbers{db, "n"};
  NamespacedRegistry<TestType, std::string, std::int64_t> neighbour{db, "n2"};  // must never show up
  for (std::int64_t k : {-5, -1, 0, 3, 7, 9}) numbers.put(k, std::to_string(k)).value();
  neighbour.put(4, "other").value();
  const auto keys_of = [](auto&& list) {
    std::vector<std::int64_t> keys;
    for (auto&& [key, value] : list) keys.push_back(key);
    list.status().value();
    return keys;
  };
  using Keys = std::vector<std::int64_t>;
  CHECK(keys_of(numbers.list({})) == Keys{-5, -1, 0, 3, 7, 9});
  CHECK(keys_of(numbers.list({.from = 0})) == Keys{0, 3, 7, 9});
  CHECK(keys_of(numbers.list({.to = 0})) == Keys{-5, -1});
  CHECK(keys_of(numbers.list({.from = -1, .to = 7})) == Keys{-1, 0, 3});
  CHECK(keys_of(numbers.list({.from = 7, .to = -1})).empty());
  CHECK(keys_of(numbers.list({.reverse = true, .limit = 2})) == Keys{9, 7});
  CHECK(keys_of(numbers.list({.from = -1, .to = 9, .reverse = true})) == Keys{7, 3, 0, -1});
  // Paging: each page starts past the last key of the one before.
  Keys paged;
  std::optional<std::int64_t> from;
  for (int page = 0; page < 10; ++page) {
    Keys got = keys_of(numbers.list({.from = from, .limit = 4}));
    if (from && !got.empty() && got.front() == *from) got.erase(got.begin());
    if (got.empty()) break;
    paged.insert(paged.end(), got.begin(), got.end());
    from = got.back();
  }
  CHECK(paged == Keys{-5, -1, 0, 3, 7, 9});
}

TEMPLATE_LIST_TEST_CASE("insert stores only when absent, and get_many reads several keys at once", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, std::string> names{db, "names"};
  CHECK(names.insert("a", "first").value());
  CHECK_FALSE(names.insert("a", "second").value());
  CHECK(names.get("a").value() == "first");

  // Racing inserts of one key: exactly one wins.
  std::atomic<int> won{0};
  std::vector<std::thread> racers;
  for (int t = 0; t < 4; ++t)
    racers.emplace_back([&, t, names]() mutable {
      if (names.insert("race", std::to_string(t)).value()) ++won;
    });
  for (auto& r : racers) r.join();
  CHECK(won == 1);

  names.put("c", "third").value();
  auto many = names.get_many({"c", "missing", "a"}).value();
  CHECK(many == std::vector<std::optional<std::string>>{"third", std::nullopt, "first"});
  CHECK(names.get_many(std::vector<std::string>{}).value().empty());
  db.put(names.storage_key("bad"), "\x01garbage").value();  // written behind the registry's back
  auto bad = names.get_many({"a", "bad"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::corruption);
  CHECK_THAT(bad.error().message(), Catch::Contains("key 'bad'"));
}

TEMPLATE_LIST_TEST_CASE("update is an atomic read-modify-write", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, NodeInfo, boost::uuids::uuid> nodes{db, "node"};
  auto id = uuid_of(9);
  CHECK_FALSE(nodes.update(id, [](NodeInfo&) {}).value());  // absent
  nodes.put(id, NodeInfo{id, "h", 1, {}, 0}).value();
  constexpr int threads = 4, each = 250;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, nodes]() mutable {  // a registry is a copyable handle
      for (int i = 0; i < each; ++i) nodes.update(id, [](NodeInfo& n) { ++n.heartbeats; }).value();
    });
  for (auto& w : workers) w.join();
  CHECK(nodes.get(id).value()->heartbeats == threads * each);
  CHECK(nodes.update(id, [](NodeInfo& n) { n.labels.push_back("edited"); }).value());
  CHECK(nodes.get(id).value()->labels == std::vector<std::string>{"edited"});
}

TEMPLATE_LIST_TEST_CASE("corrupt stored bytes are reported, not returned", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, NodeInfo, std::string> nodes{db, "node"};
  nodes.put("a", NodeInfo{{}, "ok", 1, {}, 0}).value();
  nodes.put("c", NodeInfo{{}, "ok", 3, {}, 0}).value();
  db.put(nodes.storage_key("b"), "\x01garbage").value();  // written behind the registry's back

  auto bad = nodes.get("b");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::corruption);
  CHECK_THAT(bad.error().message(), Catch::Contains("registry 'node'") && Catch::Contains("key 'b'"));
  CHECK(nodes.update("b", [](NodeInfo&) { FAIL("fn called on a corrupt value"); }).error() == errc::corruption);

  std::vector<std::string> seen;
  auto list = nodes.list();
  for (auto&& [key, value] : list) seen.push_back(key);
  CHECK(seen == std::vector<std::string>{"a"});  // stops at the corrupt entry ...
  CHECK(list.status().error() == errc::corruption);  // ... and says so

  // A key in the namespace that does not decode as the registry's Key type.
  NamespacedRegistry<TestType, int, std::uint32_t> numbers{db, "numbers"};
  db.put(numbers.key_prefix() + "xy", kvstack::BinarySerializer::encode(1)).value();
  auto numbers_list = numbers.list();
  for (auto&& entry : numbers_list) (void)entry;
  CHECK(numbers_list.status().error() == errc::corruption);
}

TEMPLATE_LIST_TEST_CASE("registries are cheap handles over one backend", "[registry]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  NamespacedRegistry<TestType, std::string> a{db, "shared"};
  auto b = a;                 // copy
  auto c = std::move(b);      // move
  a.put("k", "v").value();
  CHECK(c.get("k").value() == "v");
  CHECK(&c.backend() == &db);
}
