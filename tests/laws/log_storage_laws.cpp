// The laws every LogStorage obeys (the Laws block of kvstack::LogStorage in shard/log.hpp), run
// on BackendLog over each engine; the cases follow openraft's storage test suite.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/shard/shard.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Entries = std::vector<LogEntry>;

namespace {
Entries run(std::uint64_t from, std::uint64_t to, std::uint64_t term) {  // entries [from, to]
  Entries out;
  for (std::uint64_t i = from; i <= to; ++i) out.push_back({i, term, "cmd" + std::to_string(i)});
  return out;
}
template <class Log>
void check_bounds(const Log& log, std::uint64_t first, std::uint64_t last) {
  CHECK(log.first_index().value() == first);
  CHECK(log.last_index().value() == last);
}
}  // namespace

static_assert(check_log_storage<BackendLog<MemoryBackend>>());

TEMPLATE_LIST_TEST_CASE("log: an empty log", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  check_bounds(log, 1, 0);
  CHECK(log.term(0).value() == 0);
  CHECK(log.term(1).error() == errc::invalid_argument);
  CHECK(log.entries(1, 1, 100).value().empty());
  CHECK(log.entries(1, 2, 100).error() == errc::invalid_argument);
  CHECK(log.hard_state().value() == HardState{});
  CHECK(log.snapshot_meta().value() == SnapshotMeta{});
}

TEMPLATE_LIST_TEST_CASE("log: append, read back, size-limited reads", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  db.put("app", "shares the engine").value();
  log.append(run(1, 5, 1)).value();
  check_bounds(log, 1, 5);
  CHECK(log.entries(1, 6, 1 << 20).value() == run(1, 5, 1));
  CHECK(log.entries(2, 4, 1 << 20).value() == run(2, 3, 1));
  CHECK(log.entries(1, 6, 8).value() == run(1, 2, 1));  // cut after the entry that reaches 8 bytes
  CHECK(log.entries(1, 6, 0).value() == run(1, 1, 1));  // never empty
  CHECK(log.term(5).value() == 1);
  CHECK(log.term(6).error() == errc::invalid_argument);
  CHECK(db.get("app").value() == "shares the engine");
  // A hole, or entries that do not follow one another, are refused and change nothing.
  CHECK(log.append(run(7, 8, 1)).error() == errc::invalid_argument);
  Entries gap = {{6, 1, "a"}, {8, 1, "b"}};
  CHECK(log.append(gap).error() == errc::invalid_argument);
  check_bounds(log, 1, 5);
}

TEMPLATE_LIST_TEST_CASE("log: append drops the conflicting suffix", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  log.append(run(1, 10, 1)).value();
  log.append(run(4, 6, 2)).value();  // a new leader's entries from 4 on: 7..10 go too
  check_bounds(log, 1, 6);
  CHECK(log.term(3).value() == 1);
  CHECK(log.term(4).value() == 2);
  Entries want = run(1, 3, 1);
  for (auto& e : run(4, 6, 2)) want.push_back(e);
  CHECK(log.entries(1, 7, 1 << 20).value() == want);
  log.append(run(7, 7, 2)).value();  // right after the last
  check_bounds(log, 1, 7);
}

TEMPLATE_LIST_TEST_CASE("log: compaction keeps the term of first - 1, append after it", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  log.append(run(1, 5, 1)).value();
  log.append(run(6, 10, 3)).value();
  log.compact(7).value();
  check_bounds(log, 8, 10);
  CHECK(log.term(7).value() == 3);  // first - 1
  CHECK(log.term(6).error() == errc::invalid_argument);
  CHECK(log.entries(7, 9, 100).error() == errc::invalid_argument);
  CHECK(log.entries(8, 11, 1 << 20).value() == run(8, 10, 3));
  CHECK(log.snapshot_meta().value().index == 7);
  CHECK(log.compact(5).has_value());  // behind the snapshot: nothing to do
  CHECK(log.compact(11).error() == errc::invalid_argument);
  check_bounds(log, 8, 10);
  // Appending what the snapshot covers skips it; after it, the log goes on.
  log.append(run(6, 12, 3)).value();
  check_bounds(log, 8, 12);
  log.compact(12).value();  // everything: an empty log after index 12
  check_bounds(log, 13, 12);
  CHECK(log.term(12).value() == 3);
  log.append(run(13, 13, 4)).value();
  check_bounds(log, 13, 13);
}

TEMPLATE_LIST_TEST_CASE("log: compaction keeps the membership, or takes the one given", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  log.install_snapshot({2, 1, "v1,2,3"}).value();
  log.append(run(3, 10, 2)).value();
  log.compact(4).value();
  CHECK(log.snapshot_meta().value() == SnapshotMeta{4, 2, "v1,2,3"});
  log.compact(6, "v1,2,3,4").value();
  CHECK(log.snapshot_meta().value() == SnapshotMeta{6, 2, "v1,2,3,4"});
  log.compact(6, "ignored").value();  // behind the snapshot: nothing changes
  CHECK(log.snapshot_meta().value().membership == "v1,2,3,4");
}

TEMPLATE_LIST_TEST_CASE("log: installing a snapshot replaces the log", "[laws][log]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  BackendLog<TestType> log(db, "raft/");
  log.append(run(1, 5, 1)).value();
  const SnapshotMeta meta{100, 7, "1,2,3"};
  log.install_snapshot(meta).value();
  check_bounds(log, 101, 100);
  CHECK(log.term(100).value() == 7);
  CHECK(log.snapshot_meta().value() == meta);
  CHECK(log.append(run(5, 5, 1)).has_value());  // covered by the snapshot: skipped
  check_bounds(log, 101, 100);
  log.append(run(101, 102, 8)).value();
  check_bounds(log, 101, 102);
}

TEMPLATE_LIST_TEST_CASE("log: the hard state round-trips, and everything survives a reopen", "[laws][log]", DurableTypes) {
  BackendFactory<TestType> factory;
  const HardState hs{5, 2, 40};
  {
    auto db = factory.open();
    BackendLog<TestType> log(db, "raft/");
    log.save(hs).value();
    CHECK(log.hard_state().value() == hs);
    log.save(HardState{6, std::nullopt, 41}).value();
    CHECK(log.hard_state().value() == HardState{6, std::nullopt, 41});
    log.save(hs).value();
    log.append(run(1, 50, 2)).value();
    log.compact(20).value();
  }
  auto db = factory.reopen();
  BackendLog<TestType> log(db, "raft/");
  CHECK(log.hard_state().value() == hs);
  check_bounds(log, 21, 50);
  CHECK(log.term(20).value() == 2);
  CHECK(log.entries(21, 51, 1 << 20).value() == run(21, 50, 2));
}

TEST_CASE("log: two logs in one engine, and bytes that do not decode", "[laws][log]") {
  MemoryBackend db;
  BackendLog<MemoryBackend> a(db, "a/"), b(db, "b/");
  a.append(run(1, 3, 1)).value();
  check_bounds(b, 1, 0);
  db.put("a/h", "short").value();
  CHECK(a.hard_state().error() == errc::corruption);
  db.put(std::string("a/e") + std::string(7, '\0') + '\2', "x").value();  // entry 2 without its term
  CHECK(a.term(2).error() == errc::corruption);
  CHECK(a.entries(1, 4, 1 << 20).error() == errc::corruption);
}
