// MerkleSearchTree: the root is a pure function of the contents, whatever the order of writes;
// a write rewrites one path; diff visits only subtrees that differ; damaged nodes are errors.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/shard/mst/mst.hpp>

#include "sim/seed_count.hpp"

#if KVSTACK_WITH_LMDB
#include <kvstack/backend/lmdb.hpp>

#include "laws/backends.hpp"
#endif

using namespace kvstack;

namespace {

using Tree = MerkleSearchTree<MemoryBackend>;

/// Walks the tree under `d` and checks its shape: keys ascending and within (low, high), each on
/// its node's layer, subtrees on lower layers. Returns the keys with their value digests.
void walk(const Tree& tree, const Digest& d, std::uint32_t above, const std::string* low, const std::string* high,
          std::map<std::string, Digest>& out, std::size_t& nodes) {
  if (!d) return;
  auto n = tree.node(d).value();
  REQUIRE(n);
  ++nodes;
  CHECK(n->layer < above);
  REQUIRE(!n->entries.empty());
  for (std::size_t i = 0; i <= n->entries.size(); ++i) {
    const std::string* lo = i == 0 ? low : &n->entries[i - 1].key;
    const std::string* hi = i == n->entries.size() ? high : &n->entries[i].key;
    walk(tree, n->slot(i), n->layer, lo, hi, out, nodes);
    if (i == n->entries.size()) break;
    const auto& e = n->entries[i];
    CHECK(Tree::layer_of(e.key) == n->layer);
    if (low) CHECK(*low < e.key);
    if (high) CHECK(e.key < *high);
    out.emplace(e.key, e.value);
  }
}

/// The tree's contents, after checking its shape and that the store holds no node it does not reach.
std::map<std::string, Digest> contents(const Tree& tree, const MemoryBackend& store) {
  std::map<std::string, Digest> out;
  std::size_t nodes = 0;
  walk(tree, tree.root().value(), UINT32_MAX, nullptr, nullptr, out, nodes);
  std::size_t stored = 0;
  for (auto&& kv : store.scan(KeyRange::prefix("mn"))) stored += !kv.key.empty();
  CHECK(stored == nodes);
  return out;
}

std::string random_key(std::mt19937_64& rng, std::size_t universe) {
  return "key" + std::to_string(rng() % universe);
}

}  // namespace

TEST_CASE("mst: a key's layer comes from the leading zero bits of its SHA-256", "[mst]") {
  // SHA-256("") starts e3 b0 (no zero bits); the counts below are over 100,000 keys.
  CHECK(Digest::of("").hex().starts_with("e3b0c442"));
  std::map<std::uint32_t, int> layers;
  for (int i = 0; i < 100000; ++i) ++layers[Tree::layer_of("k" + std::to_string(i))];
  CHECK(layers[0] > 73000);  // 3/4 of keys
  CHECK(layers[0] < 77000);
  CHECK(layers[1] > 17000);  // 3/16
  CHECK(layers[1] < 20500);
  CHECK(layers[2] > 4000);   // 3/64
  CHECK(layers[2] < 5400);
  CHECK(MerkleSearchTree<MemoryBackend, 16>::layer_of("k1") == Tree::layer_of("k1") / 2);
}

TEST_CASE("mst: random orders of inserts and erases that end with the same contents give the same root, 1,000 cases (200 under a sanitizer)",
          "[mst][single-threaded]") {
  std::mt19937_64 rng(Catch::rngSeed() + 2019);
  for (std::uint64_t c = 0; c < test::sim_seeds(1000); ++c) {
    const std::size_t universe = 1 + rng() % 80;
    // The final contents, and a history per tree that reaches them: every key may be written,
    // overwritten and erased on the way.
    std::map<std::string, Digest> final;
    for (std::size_t i = 0; i < universe; ++i)
      if (rng() % 3 != 0) final["key" + std::to_string(i)] = Digest::of(std::to_string(rng() % 5));
    Digest roots[2];
    for (int t = 0; t < 2; ++t) {
      MemoryBackend store;
      Tree tree(store, "m");
      std::vector<std::string> keys;
      for (std::size_t i = 0; i < universe; ++i) keys.push_back("key" + std::to_string(i));
      std::shuffle(keys.begin(), keys.end(), rng);
      for (auto n = rng() % (3 * universe); n > 0; --n) {  // noise first, then the final value or an erase
        if (rng() % 2) REQUIRE(tree.put(random_key(rng, universe), Digest::of("noise" + std::to_string(rng()))));
        else REQUIRE(tree.erase(random_key(rng, universe)));
      }
      std::shuffle(keys.begin(), keys.end(), rng);
      for (const auto& k : keys) {
        auto it = final.find(k);
        if (it != final.end()) REQUIRE(tree.put(k, it->second));
        else REQUIRE(tree.erase(k));
      }
      INFO("case " << c << ", tree " << t);
      REQUIRE(contents(tree, store) == final);
      roots[t] = tree.root().value();
      for (const auto& [k, v] : final) CHECK(tree.get(k).value() == v);
      CHECK(!tree.get("absent").value());
    }
    INFO("case " << c);
    CHECK(roots[0] == roots[1]);
    CHECK(static_cast<bool>(roots[0]) == !final.empty());
  }
}

TEST_CASE("mst: erase reports whether the key was there, and an emptied tree has the zero root", "[mst]") {
  MemoryBackend store;
  Tree tree(store, "m");
  CHECK(!tree.root().value());
  REQUIRE(tree.put("a", Digest::of("1")));
  const Digest one = tree.root().value();
  REQUIRE(tree.put("a", Digest::of("2")));
  CHECK(tree.root().value() != one);  // a new value changes the root
  REQUIRE(tree.put("a", Digest::of("1")));
  CHECK(tree.root().value() == one);
  CHECK(tree.erase("a").value());
  CHECK(!tree.erase("a").value());
  CHECK(!tree.root().value());
  CHECK(store.scan(KeyRange::all()).begin() == store.scan(KeyRange::all()).end());
}

/// Counts the writes a tree makes to its store.
struct CountingStore : MemoryBackend {
  std::size_t writes = 0;
  Result<void> put(std::string_view k, std::string_view v) {
    ++writes;
    return MemoryBackend::put(k, v);
  }
  Result<bool> erase(std::string_view k) {
    ++writes;
    return MemoryBackend::erase(k);
  }
};

TEST_CASE("mst: a write rewrites one path of the tree, not the tree", "[mst]") {
  CountingStore store;
  MerkleSearchTree<CountingStore> tree(store, "m");
  for (int i = 0; i < 8000; ++i) REQUIRE(tree.put("k" + std::to_string(i), Digest::of(std::to_string(i))));
  auto depth = [&](std::string_view key) {  // nodes from the root to the key's
    std::size_t n = 0;
    for (Digest d = tree.root().value(); d;) {
      ++n;
      auto node = tree.node(d).value().value();
      const std::size_t i = node.lower_bound(key);
      if (i < node.entries.size() && node.entries[i].key == key) break;
      d = node.slot(i);
    }
    return n;
  };
  std::size_t worst = 0, total = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "new" + std::to_string(i);
    store.writes = 0;
    REQUIRE(tree.put(key, Digest::of("v")));
    // Each node on the key's path is dropped and written again; a new key's subtree splits in
    // two at each level below it. The root record is one more write.
    const std::size_t d = depth(key);
    CHECK(store.writes <= 4 * d + 3);
    worst = std::max(worst, store.writes);
    total += store.writes;
  }
  INFO("worst " << worst << ", mean " << total / 200.0);
  CHECK(worst < 60);  // log4(8,000) is about 6.5 levels; a rebuild would be thousands
  store.writes = 0;
  REQUIRE(tree.erase("k77"));
  CHECK(store.writes < 60);
}

namespace {
/// Pulls what `from` has that `into` lacks, as a replica would: from the root, fetching only
/// the nodes `into` does not hold. Returns the keys found and counts the nodes fetched.
std::set<std::string> pull(const Tree& from, const Tree& into, std::size_t& fetched) {
  std::set<std::string> keys;
  MstDiff diff;
  const Digest root = from.root().value();
  if (root && !into.has(root).value()) diff.fetch.push_back(root);
  while (!diff.fetch.empty()) {
    const Digest d = diff.fetch.back();
    diff.fetch.pop_back();
    CHECK(!into.has(d).value());  // only subtrees that differ
    ++fetched;
    auto node = from.node(d).value();
    REQUIRE(node);
    REQUIRE(into.diff(*node, diff));
    keys.insert(diff.keys.begin(), diff.keys.end());
    diff.keys.clear();
  }
  return keys;
}
}  // namespace

TEST_CASE("mst: diff finds exactly the keys that differ, visiting only subtrees whose digests differ", "[mst][single-threaded]") {
  std::mt19937_64 rng(Catch::rngSeed() + 7);
  MemoryBackend sa, sb;
  Tree a(sa, "m"), b(sb, "m");
  for (int i = 0; i < 5000; ++i) {
    const std::string k = "k" + std::to_string(i);
    REQUIRE(a.put(k, Digest::of(k)));
    REQUIRE(b.put(k, Digest::of(k)));
  }
  std::size_t fetched = 0;
  CHECK(pull(a, b, fetched).empty());
  CHECK(fetched == 0);
  CHECK(a.root().value() == b.root().value());
  for (std::size_t d : {1, 10, 100}) {
    std::set<std::string> touched;  // in a: new values, new keys and erased keys
    for (std::size_t i = 0; i < d; ++i) {
      const std::string k = "k" + std::to_string(rng() % 6000);
      touched.insert(k);
      if (rng() % 4 == 0) REQUIRE(a.erase(k));  // only b has it then: b's own pull finds it
      else REQUIRE(a.put(k, Digest::of("changed" + std::to_string(i))));
    }
    std::set<std::string> changed;  // what a has that b has not
    for (const auto& k : touched)
      if (auto v = a.get(k).value(); v && v != b.get(k).value()) changed.insert(k);
    fetched = 0;
    const auto found = pull(a, b, fetched);
    INFO("d = " << d << ", nodes fetched " << fetched);
    CHECK(found == changed);
    CHECK(fetched <= std::max<std::size_t>(d, 1) * 12);
    for (const auto& k : found) REQUIRE(b.put(k, a.get(k).value().value()));
    std::size_t back = 0;
    for (const auto& k : pull(b, a, back)) REQUIRE(b.erase(k));  // what a erased
    CHECK(a.root().value() == b.root().value());
  }
}

TEST_CASE("mst: a damaged or missing node is corruption", "[mst]") {
  MemoryBackend store;
  Tree tree(store, "m");
  for (int i = 0; i < 200; ++i) REQUIRE(tree.put("k" + std::to_string(i), Digest::of("v")));
  const Digest root = tree.root().value();
  const std::string bytes = tree.node(root).value()->encode();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(!MstNode::decode(bytes.substr(0, cut)));
  CHECK(!MstNode::decode(bytes + "x"));
  MstNode unordered{0, {}, {{"b", Digest::of("1"), {}}, {"a", Digest::of("2"), {}}}};
  CHECK(MstNode::decode(unordered.encode()).error().message().find("out of order") != std::string::npos);
  std::swap(unordered.entries[0], unordered.entries[1]);
  CHECK(MstNode::decode(unordered.encode()).value() == unordered);
  CHECK(MstNode::decode(std::string("\x01\x00\x00", 3)).error().message().find("entry count") != std::string::npos);

  std::string key = "mn";
  key.append(root.view());
  REQUIRE(store.put(key, "garbage"));
  auto got = tree.get("k5");
  REQUIRE(!got);
  CHECK(got.error().code() == errc::corruption);
  REQUIRE(store.erase(key));
  auto missing = tree.put("k5", Digest::of("w"));
  REQUIRE(!missing);
  CHECK(missing.error().message().find("missing") != std::string::npos);
}

#if KVSTACK_WITH_LMDB
TEST_CASE("mst: on LMDB, the same writes give the same root as in memory, and survive a reopen", "[mst][lmdb]") {
  test::TempDir dir;
  MemoryBackend mem;
  Tree model(mem, "m");
  Digest root;
  {
    auto db = LmdbBackend::open(dir / "db").value();
    MerkleSearchTree<LmdbBackend> tree(db, "m");
    for (int i = 0; i < 2000; ++i) {
      const std::string k = "k" + std::to_string(i * 7919 % 2000);
      REQUIRE(tree.put(k, Digest::of(k)));
      REQUIRE(model.put(k, Digest::of(k)));
      if (i % 3 == 0) {
        REQUIRE(tree.erase("k" + std::to_string(i / 3)));
        REQUIRE(model.erase("k" + std::to_string(i / 3)));
      }
    }
    root = tree.root().value();
    CHECK(root == model.root().value());
  }
  auto db = LmdbBackend::open(dir / "db").value();
  MerkleSearchTree<LmdbBackend> tree(db, "m");
  CHECK(tree.root().value() == root);
  CHECK(tree.get("k1999").value() == model.get("k1999").value());
}
#endif
