// MemoryBackend specifics: the copy-on-write tree under growth and shrinkage, snapshots across
// structural changes, and a moved-from backend.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>

#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {
std::string key_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}
}  // namespace

TEST_CASE("memory: ascending, descending and random fill, then drain", "[memory]") {
  for (int pattern = 0; pattern < 3; ++pattern) {
    INFO("pattern " << pattern);
    MemoryBackend db;
    std::vector<int> order(20000);
    for (int i = 0; i < 20000; ++i) order[i] = i;
    if (pattern == 1) std::reverse(order.begin(), order.end());
    if (pattern == 2) std::shuffle(order.begin(), order.end(), std::mt19937(5));
    for (int i : order) db.put(key_of(i), std::to_string(i)).value();
    auto all = collect(db, KeyRange::all());
    REQUIRE(all.size() == 20000);
    REQUIRE(std::is_sorted(all.begin(), all.end()));
    // Remove all but every 97th key, in a shuffled order: nodes merge and refill.
    std::shuffle(order.begin(), order.end(), std::mt19937(6));
    for (int i : order)
      if (i % 97 != 0) REQUIRE(db.erase(key_of(i)).value());
    auto left = keys_of(db, KeyRange::all());
    REQUIRE(left.size() == (20000 + 96) / 97);
    for (std::size_t j = 0; j < left.size(); ++j) REQUIRE(left[j] == key_of(static_cast<int>(j) * 97));
    CHECK(keys_of(db, KeyRange::all().reverse()).front() == key_of(19982));
    for (auto& k : left) REQUIRE(db.erase(k).value());
    CHECK(collect(db, KeyRange::all()).empty());
    CHECK(collect(db, KeyRange::all().reverse()).empty());
  }
}

TEST_CASE("memory: a snapshot survives the tree being rebuilt under it", "[memory]") {
  MemoryBackend db;
  for (int i = 0; i < 5000; ++i) db.put(key_of(i), "old").value();
  auto scan = db.scan(KeyRange::all());
  for (int i = 0; i < 5000; i += 2) db.erase(key_of(i)).value();
  for (int i = 5000; i < 9000; ++i) db.put(key_of(i), "new").value();
  for (int i = 1; i < 5000; i += 2) db.put(key_of(i), "rewritten").value();
  int n = 0;
  for (auto&& [key, value] : scan) {
    REQUIRE(key == key_of(n));
    REQUIRE(value == "old");
    ++n;
  }
  CHECK(n == 5000);
  CHECK(keys_of(db, KeyRange::all()).size() == 2500 + 4000);
  CHECK(db.get(key_of(1)).value() == "rewritten");
}

TEST_CASE("memory: a moved-from backend answers closed", "[memory]") {
  MemoryBackend a;
  a.put("k", "v").value();
  MemoryBackend b = std::move(a);
  CHECK(b.get("k").value() == "v");
  CHECK(a.get("k").error() == errc::closed);  // NOLINT(bugprone-use-after-move)
  CHECK(a.put("k", "v").error() == errc::closed);
  auto scan = a.scan(KeyRange::all());
  CHECK(scan.begin() == scan.end());
  CHECK(scan.status().error() == errc::closed);
  CHECK(a.transact([](auto&) -> Result<void> { return success(); }).error() == errc::closed);
}

TEST_CASE("memory: point reads agree with a std::map through inserts, overwrites and erases", "[memory]") {
  // The hash index beside the tree: a small key space makes erases shift probe chains often.
  MemoryBackend db;
  std::map<std::string, std::string> model;
  std::mt19937 rng(11);
  for (int step = 0; step < 200000; ++step) {
    std::string key = key_of(static_cast<int>(rng() % 3000));
    switch (rng() % 4) {
      case 0:
      case 1: {
        std::string value(rng() % 3, static_cast<char>('a' + step % 26));  // sizes repeat: in-place rewrites
        db.put(key, value).value();
        model[key] = value;
        break;
      }
      case 2:
        REQUIRE(db.erase(key).value() == (model.erase(key) == 1));
        break;
      default: {
        auto it = model.find(key);
        REQUIRE(db.get(key).value() == (it == model.end() ? std::nullopt : std::optional(it->second)));
      }
    }
  }
  for (const auto& [key, value] : model) REQUIRE(db.get(key).value() == value);
  CHECK(collect(db, KeyRange::all()).size() == model.size());
}

TEST_CASE("memory: a value being read or scanned is not rewritten in place", "[memory]") {
  MemoryBackend db;
  db.put("k", "one").value();
  auto scan = db.scan(KeyRange::all());
  db.put("k", "two").value();  // same size: rewritten in place only when nothing else holds it
  std::vector<std::string> seen;
  for (auto&& [key, value] : scan) seen.emplace_back(value);
  CHECK(seen == std::vector<std::string>{"one"});
  // The callback holds the entry while it writes the same key with a value of the same size.
  std::string during, after;
  REQUIRE(db.get("k", [&](std::string_view v) {
               db.put("k", "six").value();
               during = std::string(v);
               after = db.get("k").value().value();
             }).value());
  CHECK(during == "two");
  CHECK(after == "six");
  db.put("k", "ten").value();  // nothing holds it now: in place
  CHECK(db.get("k").value() == "ten");
}

namespace {
using Model = std::map<std::string, std::string>;
void require_holds(const MemoryBackend& db, const Model& model) {
  Model scanned;
  for (auto&& [k, v] : collect(db, KeyRange::all())) scanned.emplace(k, v);
  REQUIRE(scanned == model);
  for (const auto& [k, v] : model) REQUIRE(db.get(k).value() == v);
}
// Random puts, overwrites and erases over 4,000 keys in one transaction (leaves split and merge),
// with a scan of the transaction in the middle when `scan_at` is below 3,000. Returns the model
// of what it wrote.
Model random_transaction(MemoryBackend::transaction& tx, Model model, std::mt19937& rng, int scan_at) {
  for (int step = 0; step < 3000; ++step) {
    if (step == scan_at) {
      Model scanned;
      for (auto&& [k, v] : collect(tx, KeyRange::all())) scanned.emplace(k, v);
      REQUIRE(scanned == model);
    }
    std::string key = key_of(static_cast<int>(rng() % 4000));
    if (rng() % 3 == 0) {
      REQUIRE(tx.erase(key).value() == (model.erase(key) == 1));
    } else {
      std::string value(rng() % 4, static_cast<char>('a' + step % 26));
      tx.put(key, value).value();
      model[key] = value;
    }
    REQUIRE(tx.get(key).value() == (model.count(key) ? std::optional(model[key]) : std::nullopt));
  }
  return model;
}
}  // namespace

TEST_CASE("memory: a transaction that fails or throws, having scanned its own writes, changes nothing", "[memory]") {
  // Thousands of writes in one transaction (at commit, leaves split and merge), some with a scan
  // of the transaction's own writes in between.
  MemoryBackend db;
  Model committed;
  for (int i = 0; i < 4000; i += 2) {
    db.put(key_of(i), "v").value();
    committed[key_of(i)] = "v";
  }
  std::mt19937 rng(23);
  for (int round = 0; round < 40; ++round) {
    const int scan_at = round % 2 ? static_cast<int>(rng() % 3000) : 3000;
    const bool fail = round % 4 < 2;
    Model written;
    auto result = db.transact([&](MemoryBackend::transaction& tx) -> Result<void> {
      written = random_transaction(tx, committed, rng, scan_at);
      if (fail) return Error{errc::conflict, "give up"};
      return success();
    });
    INFO("round " << round << ", scan at " << scan_at);
    REQUIRE(bool(result) == !fail);
    if (!fail) committed = written;
    require_holds(db, committed);
  }
  // An exception from fn takes the writes back too.
  CHECK_THROWS_AS(db.transact([&](MemoryBackend::transaction& tx) -> Result<void> {
    random_transaction(tx, committed, rng, 1000);
    throw std::runtime_error("fn threw");
  }), std::runtime_error);
  require_holds(db, committed);
}

TEST_CASE("memory: readers see the committed state while a transaction writes", "[memory]") {
  MemoryBackend db;
  for (int i = 0; i < 2000; ++i) db.put(key_of(i), "old").value();
  std::atomic<int> phase{0};  // 1: the transaction wrote; 2: the reader read
  std::thread reader([&] {
    while (phase.load() != 1) std::this_thread::yield();
    for (int i = 0; i < 2000; ++i) CHECK(db.get(key_of(i)).value() == "old");
    CHECK(db.get(key_of(5000)).value() == std::nullopt);
    auto all = collect(db, KeyRange::all());
    CHECK(all.size() == 2000);
    CHECK(std::all_of(all.begin(), all.end(), [](const auto& kv) { return kv.second == "old"; }));
    phase = 2;
  });
  db.transact([&](MemoryBackend::transaction& tx) -> Result<void> {
      for (int i = 0; i < 2000; ++i) tx.put(key_of(i), i % 2 ? "new" : "newer").value();
      for (int i = 0; i < 1000; ++i) tx.erase(key_of(i * 2)).value();
      tx.put(key_of(5000), "new").value();
      phase = 1;
      while (phase.load() != 2) std::this_thread::yield();  // the reader ran meanwhile
      return success();
    }).value();
  reader.join();
  CHECK(db.get(key_of(1)).value() == "new");
  CHECK(db.get(key_of(2)).value() == std::nullopt);
  CHECK(db.get(key_of(5000)).value() == "new");
  CHECK(collect(db, KeyRange::all()).size() == 1001);
}
