// sim::Disk: copies share one store; with sync on commit a crash loses nothing; without it a
// crash leaves the state after some prefix of the commits since the last sync (and with
// `tear`, a prefix of the next commit's writes too); sync() makes commits durable.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/sim/disk.hpp>

using namespace kvstack;
using namespace kvstack::sim;

namespace {
using State = std::map<std::string, std::string>;
State state_of(const Disk<MemoryBackend>& d) {
  State out;
  for (auto&& [k, v] : d.scan(KeyRange::all())) out.emplace(k, v);
  return out;
}
}  // namespace

static_assert(Backend<Disk<MemoryBackend>>);

TEST_CASE("disk: copies share one store, and syncing disks lose nothing", "[sim][disk]") {
  Disk<MemoryBackend> a{MemoryBackend{}};
  Disk<MemoryBackend> b = a;
  a.put("k", "v").value();
  CHECK(b.get("k").value() == "v");
  Rng rng(1);
  CHECK(b.crash(rng) == 0);
  CHECK(a.get("k").value() == "v");
}

TEST_CASE("disk: counts its commits, and those a crash cannot lose", "[sim][disk]") {
  Disk<MemoryBackend> d{MemoryBackend{}, {.sync_on_commit = false}};
  d.put("a", "1").value();
  d.put("b", "2").value();
  CHECK(d.commits() == 2);
  CHECK(d.durable_commits() == 0);
  d.sync();
  d.put("c", "3").value();
  CHECK(d.commits() == 3);
  CHECK(d.durable_commits() == 2);
  Rng rng(1);
  d.crash(rng);
  CHECK(d.commits() == 3);  // numbers are not reused: a lost commit keeps its own
  CHECK(d.durable_commits() == 3);
  Disk<MemoryBackend> synced{MemoryBackend{}};
  synced.put("a", "1").value();
  CHECK(synced.durable_commits() == 1);
}

TEST_CASE("disk: a crash keeps a prefix of the unsynced commits", "[sim][disk]") {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Disk<MemoryBackend> d{MemoryBackend{}, {.sync_on_commit = false}};
    d.put("base", "1").value();
    d.sync();
    std::vector<State> states{state_of(d)};
    Rng rng(seed);
    for (int i = 0; i < 10; ++i) {
      const std::string k = "k" + std::to_string(rng.below(4));
      if (i % 3 == 0) (void)d.erase(k).value();
      else if (i % 3 == 1) d.write(WriteBatch{}.put(k, "b" + std::to_string(i)).put("x", std::to_string(i))).value();
      else d.transact([&](auto& tx) { return tx.put(k, "t" + std::to_string(i)); }).value();
      states.push_back(state_of(d));
    }
    d.crash(rng);
    const State after = state_of(d);
    CHECK(after.at("base") == "1");  // synced
    bool some_prefix = false;
    for (const auto& s : states) some_prefix = some_prefix || s == after;
    CHECK(some_prefix);
  }
}

TEST_CASE("disk: with tear, the last commit kept may be cut short", "[sim][disk]") {
  bool torn = false;
  for (std::uint64_t seed = 0; seed < 50 && !torn; ++seed) {
    Disk<MemoryBackend> d{MemoryBackend{}, {.sync_on_commit = false, .tear = true}};
    d.write(WriteBatch{}.put("a", "1").put("b", "1").put("c", "1")).value();
    Rng rng(seed);
    d.crash(rng);
    const State after = state_of(d);
    CHECK((after.empty() || after == State{{"a", "1"}} || after == State{{"a", "1"}, {"b", "1"}} ||
           after == State{{"a", "1"}, {"b", "1"}, {"c", "1"}}));
    torn = after.size() == 1 || after.size() == 2;
  }
  CHECK(torn);
}

TEST_CASE("disk: a batch writing one key twice is undone to what it held before", "[sim][disk]") {
  bool lost = false;
  for (std::uint64_t seed = 0; seed < 100 && !lost; ++seed) {
    Disk<MemoryBackend> d{MemoryBackend{}, {.sync_on_commit = false}};
    d.put("k", "0").value();
    d.sync();
    d.write(WriteBatch{}.put("k", "1").put("k", "2")).value();
    Rng rng(seed);
    d.crash(rng);
    const auto k = d.get("k").value();
    CHECK((k == "0" || k == "2"));
    lost = k == "0";
  }
  CHECK(lost);
}
