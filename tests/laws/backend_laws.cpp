// The laws every Backend obeys (docs/design.md, "What each law checks"; the Laws block of
// kvstack::Backend in core/concepts.hpp).
#include <algorithm>
#include <atomic>
#include <functional>
#include <ranges>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/transform.hpp>

#include <kvstack/core/get_many.hpp>
#include <kvstack/core/stats.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Equals;
using Strings = std::vector<std::string>;

namespace {
template <class B>
void put_all(B& db, const Strings& keys) {
  for (const auto& k : keys) db.put(k, "v:" + k).value();
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("CRUD: put, get, overwrite, erase", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  CHECK(db.get("missing").value() == std::nullopt);
  db.put("k", "v1").value();
  CHECK(db.get("k").value() == "v1");
  db.put("k", "v2").value();
  CHECK(db.get("k").value() == "v2");

  std::string seen;
  CHECK(db.get("k", [&](std::string_view v) { seen = v; }).value());
  CHECK(seen == "v2");
  CHECK_FALSE(db.get("missing", [&](std::string_view) { FAIL("called for an absent key"); }).value());

  CHECK(db.erase("k").value());
  CHECK(db.get("k").value() == std::nullopt);
  CHECK_FALSE(db.erase("k").value());  // erasing twice: false the second time
  CHECK_FALSE(db.erase("never").value());
}

TEMPLATE_LIST_TEST_CASE("binary keys and values round-trip", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  const Strings keys = {std::string("\0", 1), std::string("a\0b", 3), "\n", "ключ/鍵",
                        std::string(1024, 'k'), bytes({0xff, 0xff}), bytes({0x80, 0x00, 0x7f})};
  for (const auto& k : keys) db.put(k, k + "!").value();
  for (const auto& k : keys) CHECK(db.get(k).value() == k + "!");

  const std::string empty, one_mib(1 << 20, 'x');
  std::string sixteen_mib(16 << 20, '\0');
  for (std::size_t i = 0; i < sixteen_mib.size(); i += 4099) sixteen_mib[i] = static_cast<char>(i % 251);
  db.put("empty", empty).value();
  db.put("1MiB", one_mib).value();
  db.put("16MiB", sixteen_mib).value();
  CHECK(db.get("empty").value() == std::optional<std::string>(""));  // present, empty: not absent
  CHECK(db.get("1MiB").value() == one_mib);
  CHECK(db.get("16MiB").value() == sixteen_mib);
  std::size_t size = 0;
  CHECK(db.get("16MiB", [&](std::string_view v) { size = v.size(); }).value());
  CHECK(size == sixteen_mib.size());
}

TEMPLATE_LIST_TEST_CASE("keys order by unsigned bytes", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  const Strings sorted = {"", std::string("\0", 1), "A", "a", "a\x7f", bytes({'a', 0x80}), bytes({'a', 0xff}),
                          "b", bytes({0x7f}), bytes({0x80}), bytes({0xc3, 0xa9}), bytes({0xff}), bytes({0xff, 0x00})};
  Strings shuffled = {sorted[7], sorted[12], sorted[0], sorted[9], sorted[3], sorted[11], sorted[1],
                      sorted[5], sorted[2], sorted[10], sorted[4], sorted[8], sorted[6]};
  put_all(db, shuffled);
  CHECK_THAT(keys_of(db, KeyRange::all()), Equals(sorted));
  Strings reversed(sorted.rbegin(), sorted.rend());
  CHECK_THAT(keys_of(db, KeyRange::all().reverse()), Equals(reversed));
}

TEMPLATE_LIST_TEST_CASE("between includes begin and excludes end", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c", "d", "e"});
  CHECK_THAT(keys_of(db, KeyRange::between("b", "d")), Equals(Strings{"b", "c"}));
  CHECK_THAT(keys_of(db, KeyRange::between("b", "d").reverse()), Equals(Strings{"c", "b"}));
  CHECK_THAT(keys_of(db, KeyRange::between("bb", "dd")), Equals(Strings{"c", "d"}));
  CHECK_THAT(keys_of(db, KeyRange::between("", "c")), Equals(Strings{"a", "b"}));
  CHECK(keys_of(db, KeyRange::between("c", "c")).empty());
  CHECK(keys_of(db, KeyRange::between("d", "b")).empty());
  CHECK(keys_of(db, KeyRange::between("d", "b").reverse()).empty());
  CHECK_THAT(keys_of(db, KeyRange::from("d")), Equals(Strings{"d", "e"}));
}

TEMPLATE_LIST_TEST_CASE("reverse and limit", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c", "d", "e"});
  CHECK_THAT(keys_of(db, KeyRange::all().limit(2)), Equals(Strings{"a", "b"}));
  CHECK_THAT(keys_of(db, KeyRange::all().reverse().limit(2)), Equals(Strings{"e", "d"}));
  CHECK_THAT(keys_of(db, KeyRange::between("b", "e").reverse().limit(2)), Equals(Strings{"d", "c"}));
  CHECK(keys_of(db, KeyRange::all().limit(0)).empty());
  CHECK(keys_of(db, KeyRange::all().limit(99)).size() == 5);
  CHECK_THAT(keys_of(db, KeyRange::all().reverse().reverse()), Equals(Strings{"a", "b", "c", "d", "e"}));
}

TEMPLATE_LIST_TEST_CASE("prefix scans", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  const Strings keys = {"a", "aa", "aab", "ab", "b", bytes({'a', 0xff}), bytes({'a', 0xff, 0xff}),
                        bytes({'a', 0xff, 0xff, 'x'}), bytes({0xff}), bytes({0xff, 0xff, 0x01})};
  put_all(db, keys);
  CHECK_THAT(keys_of(db, KeyRange::prefix("a")),
             Equals(Strings{"a", "aa", "aab", "ab", bytes({'a', 0xff}), bytes({'a', 0xff, 0xff}),
                            bytes({'a', 0xff, 0xff, 'x'})}));
  CHECK_THAT(keys_of(db, KeyRange::prefix("aa")), Equals(Strings{"aa", "aab"}));
  CHECK_THAT(keys_of(db, KeyRange::prefix("ab")), Equals(Strings{"ab"}));
  CHECK_THAT(keys_of(db, KeyRange::prefix(bytes({'a', 0xff}))),
             Equals(Strings{bytes({'a', 0xff}), bytes({'a', 0xff, 0xff}), bytes({'a', 0xff, 0xff, 'x'})}));
  CHECK_THAT(keys_of(db, KeyRange::prefix(bytes({'a', 0xff, 0xff}))),
             Equals(Strings{bytes({'a', 0xff, 0xff}), bytes({'a', 0xff, 0xff, 'x'})}));
  CHECK_THAT(keys_of(db, KeyRange::prefix(bytes({0xff}))), Equals(Strings{bytes({0xff}), bytes({0xff, 0xff, 0x01})}));
  CHECK_THAT(keys_of(db, KeyRange::prefix(bytes({0xff, 0xff}))), Equals(Strings{bytes({0xff, 0xff, 0x01})}));
  CHECK_THAT(keys_of(db, KeyRange::prefix("a").reverse().limit(2)),
             Equals(Strings{bytes({'a', 0xff, 0xff, 'x'}), bytes({'a', 0xff, 0xff})}));
  CHECK(keys_of(db, KeyRange::prefix("c")).empty());
  CHECK(keys_of(db, KeyRange::prefix("")).size() == keys.size());  // the empty prefix is everything
}

TEMPLATE_LIST_TEST_CASE("count_keys counts what a scan of the range sees", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"", "a", "a_", "a%", "ab", "b", bytes({'a', 0xff}), bytes({0xff})});
  for (const KeyRange& range : {KeyRange::all(), KeyRange::prefix("a"), KeyRange::prefix("a_"), KeyRange::between("a", "b"),
                                KeyRange::between("b", "a"), KeyRange::from("b"), KeyRange::prefix("a").limit(2),
                                KeyRange::all().reverse().limit(3), KeyRange::prefix(bytes({0xff})), KeyRange::prefix("c")}) {
    INFO("lower '" << range.lower() << "' limit " << range.max_count());
    CHECK(count_keys(db, range).value() == keys_of(db, range).size());
  }
}

TEMPLATE_LIST_TEST_CASE("scans compose with std::ranges and range-v3 views", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c", "d"});
  auto scan = db.scan(KeyRange::all());
  auto odd = scan | ranges::views::filter([](KeyValue kv) { return kv.key == "a" || kv.key == "c"; }) |
             ranges::views::transform([](KeyValue kv) { return std::string(kv.value); }) | ranges::to<std::vector>();
  CHECK_THAT(odd, Equals(Strings{"v:a", "v:c"}));
  auto scan2 = db.scan(KeyRange::all().reverse());
  Strings first_two;
  for (auto&& [key, value] : scan2 | std::views::take(2)) first_two.emplace_back(key);
  CHECK_THAT(first_two, Equals(Strings{"d", "c"}));
}

TEMPLATE_LIST_TEST_CASE("a scan is a snapshot and writing while it is open is fine", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c", "d"});
  auto scan = db.scan(KeyRange::all());
  std::vector<std::pair<std::string_view, std::string_view>> views;
  bool wrote = false;
  for (auto&& [key, value] : scan) {
    views.emplace_back(key, value);
    if (!wrote) {  // the same thread writes while the scan is open
      db.put("b", "changed").value();
      db.put("bb", "new").value();
      db.erase("c").value();
      for (int i = 0; i < 500; ++i) db.put("z" + std::to_string(i), std::string(100, 'z')).value();
      wrote = true;
    }
  }
  scan.status().value();
  REQUIRE(views.size() == 4);
  // Views stay valid and unchanged while the range lives, whatever was written meanwhile.
  for (int i = 0; i < 4; ++i) {
    std::string k(1, static_cast<char>('a' + i));
    CHECK(views[i].first == k);
    CHECK(views[i].second == "v:" + k);
  }
  CHECK(db.get("b").value() == "changed");
  CHECK(db.get("c").value() == std::nullopt);
}

TEMPLATE_LIST_TEST_CASE("a long scan reads one snapshot (or, where the backend says not, each key once, in order)", "[laws]",
                        BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  constexpr int n = 2000;
  auto key = [](int i) { return "k" + std::to_string(10000 + i); };
  WriteBatch before;
  for (int i = 0; i < n; ++i) before.put(key(i), "old");
  db.write(before).value();
  std::vector<std::pair<std::string, std::string>> seen;
  auto scan = db.scan(KeyRange::all());
  for (auto&& [k, v] : scan) {
    if (seen.empty()) {  // once the scan has begun: rewrite every key, add some, erase one
      WriteBatch during;
      for (int i = 0; i < n; ++i) during.put(key(i), "new");
      for (int i = 0; i < n; i += 100) during.put(key(i) + "+", "added");
      during.erase(key(n - 1));
      db.write(during).value();
    }
    seen.emplace_back(k, v);
  }
  scan.status().value();
  if constexpr (snapshot_scans_v<TestType>) {
    REQUIRE(seen.size() == n);
    for (int i = 0; i < n; ++i) CHECK(seen[i] == std::pair{key(i), std::string("old")});
  } else {
    std::vector<std::string> keys;
    for (const auto& [k, v] : seen) {
      keys.push_back(k);
      CHECK((v == "old" || v == "new" || v == "added"));
    }
    CHECK(std::adjacent_find(keys.begin(), keys.end(), std::greater_equal<>()) == keys.end());  // in order, once each
    for (int i = 0; i < n - 1; ++i) CHECK(std::binary_search(keys.begin(), keys.end(), key(i)));  // none missing
  }
}

TEMPLATE_LIST_TEST_CASE("zero-copy get may write to the backend from its callback", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  db.put("k", "old").value();
  std::string seen;
  CHECK(db.get("k", [&](std::string_view v) {
            db.put("k", "new").value();
            seen = v;
          }).value());
  CHECK(seen == "old");
  CHECK(db.get("k").value() == "new");
}

TEMPLATE_LIST_TEST_CASE("write batches apply in order, all at once", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  db.put("gone", "x").value();
  WriteBatch batch;
  batch.put("a", "1").put("b", "2").erase("gone").put("c", "3").erase("c").put("a", "1b");
  db.write(batch).value();
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"a", "1b"}, {"b", "2"}}));
  db.write(WriteBatch{}).value();  // an empty batch is fine

  // A concurrent reader sees every batch whole: all keys carry the same generation.
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, scans{0};
  std::thread reader([&] {
    while (!done) {
      auto entries = collect(db, KeyRange::prefix("g/"));
      for (auto& [k, v] : entries)
        if (v != entries.front().second || entries.size() != 20) ++torn;
      ++scans;
    }
  });
  for (int gen = 0; gen < 300; ++gen) {
    WriteBatch b;
    for (int i = 0; i < 20; ++i) b.put("g/" + std::to_string(i), std::to_string(gen));
    db.write(b).value();
    if (gen == 0) while (scans == 0) std::this_thread::yield();
  }
  done = true;
  reader.join();
  CHECK(torn == 0);
  CHECK(scans > 0);
}

TEMPLATE_LIST_TEST_CASE("transact reads its own writes and commits all at once", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c"});
  auto result = db.transact([&](auto& tx) -> Result<int> {
    tx.put("b", "B").value();
    tx.put("bb", "BB").value();
    CHECK(tx.erase("c").value());
    CHECK_FALSE(tx.erase("c").value());
    CHECK_FALSE(tx.erase("never").value());
    CHECK(tx.get("b").value() == "B");
    CHECK(tx.get("c").value() == std::nullopt);
    std::string seen;
    CHECK(tx.get("bb", [&](std::string_view v) { seen = v; }).value());
    CHECK(seen == "BB");
    CHECK_FALSE(tx.get("c", [&](std::string_view) {}).value());
    CHECK_THAT(collect(tx, KeyRange::all()), Equals(Entries{{"a", "v:a"}, {"b", "B"}, {"bb", "BB"}}));
    CHECK_THAT(collect(tx, KeyRange::all().reverse().limit(2)), Equals(Entries{{"bb", "BB"}, {"b", "B"}}));
    CHECK_THAT(collect(tx, KeyRange::between("b", "c")), Equals(Entries{{"b", "B"}, {"bb", "BB"}}));
    // Nothing is visible outside before the commit.
    CHECK(db.get("bb").value() == std::nullopt);
    return 42;
  });
  CHECK(result.value() == 42);
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"a", "v:a"}, {"b", "B"}, {"bb", "BB"}}));
  // A limited scan reads past the entries the transaction erased.
  put_all(db, {"c", "d"});
  db.transact([&](auto& tx) -> Result<void> {
      CHECK(tx.erase("a").value());
      CHECK(tx.erase("b").value());
      CHECK_THAT(collect(tx, KeyRange::all().limit(1)), Equals(Entries{{"bb", "BB"}}));
      CHECK(tx.erase("d").value());
      CHECK_THAT(collect(tx, KeyRange::all().reverse().limit(1)), Equals(Entries{{"c", "v:c"}}));
      return success();
    }).value();
}

TEMPLATE_LIST_TEST_CASE("transact: get_many reads what get reads, and an erase after a read or a scan reports what was there", "[laws]",
                        BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b", "c", "d"});
  db.transact([&](auto& tx) -> Result<void> {
      tx.put("b", "B").value();
      CHECK(tx.erase("c").value());
      const std::vector<std::string_view> keys{"a", "b", "c", "x", "a"};
      Strings got(keys.size(), "-");
      get_many(tx, std::span<const std::string_view>(keys), [&](std::size_t i, std::string_view v) { got[i] = v; }).value();
      CHECK_THAT(got, Equals(Strings{"v:a", "B", "-", "-", "v:a"}));
      CHECK(tx.erase("a").value());
      CHECK_FALSE(tx.erase("a").value());
      CHECK_FALSE(tx.erase("x").value());
      CHECK_THAT(collect(tx, KeyRange::all()), Equals(Entries{{"b", "B"}, {"d", "v:d"}}));
      CHECK(tx.erase("d").value());
      CHECK_FALSE(tx.erase("d").value());
      tx.put("x", "X").value();
      CHECK(tx.erase("x").value());  // read as absent, then written
      return success();
    }).value();
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"b", "B"}}));
}

TEMPLATE_LIST_TEST_CASE("transact rolls back on error and returns it unchanged", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b"});
  auto result = db.transact([&](auto& tx) -> Result<void> {
    tx.put("a", "changed").value();
    tx.erase("b").value();
    tx.put("c", "new").value();
    return Error{errc::conflict, "precondition failed"};
  });
  REQUIRE_FALSE(result);
  CHECK(result.error() == errc::conflict);
  CHECK(result.error().context() == "precondition failed");
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"a", "v:a"}, {"b", "v:b"}}));
}

TEMPLATE_LIST_TEST_CASE("a throwing fn or callback leaves the store usable and unchanged", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  put_all(db, {"a", "b"});
  struct Thrown {};
  const auto throwing = [](std::string_view) { throw Thrown{}; };
  // More rounds than LMDB has reader slots (126): a slot or a lock left behind shows.
  for (int round = 0; round < 200; ++round) {
    CHECK_THROWS_AS(db.transact([&](auto& tx) -> Result<void> {
      tx.put("a", "changed").value();
      tx.erase("b").value();
      tx.put("c", "new").value();
      throw Thrown{};
    }),
                    Thrown);
    CHECK_THROWS_AS(db.transact([&](auto& tx) -> Result<bool> { return tx.get("a", throwing); }), Thrown);
    CHECK_THROWS_AS(db.get("a", throwing), Thrown);
    CHECK_THROWS_AS([&] {
      for (auto&& entry : db.scan(KeyRange::all())) throwing(entry.key);
    }(),
                    Thrown);
  }
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"a", "v:a"}, {"b", "v:b"}}));
  // Still usable: plain writes, batches and transactions go through.
  db.put("c", "C").value();
  db.write(WriteBatch().put("d", "D").erase("a")).value();
  db.transact([](auto& tx) { return tx.put("e", "E"); }).value();
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"b", "v:b"}, {"c", "C"}, {"d", "D"}, {"e", "E"}}));
}

TEMPLATE_LIST_TEST_CASE("many threads writing, scanning and transacting", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  db.put("counter", "0").value();
  constexpr int threads = 4, per_thread = 300;
  std::atomic<int> unsorted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        db.put("t" + std::to_string(t) + "/" + std::to_string(1000 + i), "x").value();
        auto r = db.transact([](auto& tx) -> Result<void> {
          int n = std::stoi(tx.get("counter").value().value());
          return tx.put("counter", std::to_string(n + 1));
        });
        r.value();
        if (i % 50 == 0) {
          auto keys = keys_of(db, KeyRange::all());
          if (!std::is_sorted(keys.begin(), keys.end())) ++unsorted;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(unsorted == 0);
  CHECK(db.get("counter").value() == std::to_string(threads * per_thread));  // no lost update
  for (int t = 0; t < threads; ++t)
    CHECK(keys_of(db, KeyRange::prefix("t" + std::to_string(t) + "/")).size() == per_thread);
}

TEMPLATE_LIST_TEST_CASE("data survives close and reopen", "[laws]", BackendTypes) {
  BackendFactory<TestType> factory;
  if constexpr (!BackendFactory<TestType>::durable) {
    SUCCEED("not a durable backend");
  } else {
    {
      auto db = factory.open();
      db.put("a", "1").value();
      db.write(WriteBatch{}.put("b", "2").erase("a")).value();
    }
    auto db = factory.reopen();
    CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"b", "2"}}));
  }
}
