// MemoryBackend specifics: the copy-on-write tree under growth and shrinkage, snapshots across
// structural changes, and a moved-from backend.
#include <algorithm>
#include <map>
#include <random>
#include <string>

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
