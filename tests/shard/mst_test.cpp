// Shard<NoLog, App, Mst<>>: stamps, last-writer-wins records and tombstones, merges that are
// commutative, associative and idempotent, and convergence in the simulator under every fault.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/shard/mst/mst.hpp>
#include <kvstack/sim/disk.hpp>

#include "shard/mst_pair.hpp"
#include "shard/mst_sim.hpp"
#include "sim/seed_count.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {

using Replica = Shard<NoLog, MemoryBackend, Mst<>>;

/// A replica of members {1, 2, 3} whose physical time is `*now`.
Replica replica(std::uint64_t id, const std::uint64_t* now, std::uint64_t horizon = 1'000'000) {
  return Replica::open(NoLog{}, MemoryBackend{}, Mst<>({.id = id, .members = {1, 2, 3}, .tombstone_horizon = horizon}),
                       [now] { return *now; })
      .value();
}

std::string framed(std::string_view bytes) {
  std::string out;
  detail::put_varint(bytes.size(), out);
  out.append(bytes);
  return out;
}

/// Hands `into` records as a peer would (records no one asked for are merged all the same).
void give(Replica& into, std::uint64_t from, const std::vector<std::pair<std::string, MstRecord>>& records) {
  Message m{.type = MessageType::mst_records, .from = from, .to = into.status().id, .done = true};
  for (const auto& [k, r] : records) m.data += framed(k) + framed(r.encode());
  REQUIRE(into.step(m));
}

std::map<std::string, std::string> data(const Replica& r) {
  std::map<std::string, std::string> out;
  for (auto&& [k, v] : r.scan(KeyRange::all())) out.emplace(std::string(k), std::string(v));
  return out;
}

}  // namespace

TEST_CASE("mst: hybrid clock stamps never go back, and pass every stamp observed", "[mst]") {
  HybridClock clock(7);
  const Stamp a = clock.now(100);
  CHECK(a == Stamp{100, 0, 7});
  CHECK(clock.now(100) == Stamp{100, 1, 7});  // the same millisecond
  CHECK(clock.now(50) == Stamp{100, 2, 7});   // the clock went back: the stamps do not
  CHECK(clock.now(120) == Stamp{120, 0, 7});
  clock.observe({500, 3, 9}, 130);  // a peer's clock runs ahead
  CHECK(clock.now(140) == Stamp{500, 5, 7});
  clock.observe({400, 0, 9}, 900);  // physical time passed both
  CHECK(clock.now(900) == Stamp{900, 1, 7});
  CHECK(Stamp{1, 0, 2} < Stamp{1, 1, 1});
  CHECK(Stamp{1, 1, 1} < Stamp{1, 1, 2});     // two writers never tie
  CHECK(Stamp{1, 1, 1, 1} < Stamp{1, 1, 1, 2});  // nor two incarnations of one
  HybridClock next(7, 4, clock.last());
  CHECK(next.now(900) == Stamp{900, 2, 7, 4});
  std::string bytes;
  Stamp{1ull << 40, 3, 12, 5}.encode(bytes);
  Stamp back;
  std::string_view in = bytes;
  CHECK((back.take(in) && back == Stamp{1ull << 40, 3, 12, 5} && in.empty()));
}

TEST_CASE("mst: a restart that lost the clock's last state never issues a stamp twice", "[mst]") {
  // The App does not sync on commit, and a crash loses a write and the clock that stamped it.
  // Restarted at the same physical time, the replica's next incarnation stamps differently.
  using DiskReplica = Shard<NoLog, sim::Disk<MemoryBackend>, Mst<>>;
  const MstConfig config{.id = 1, .members = {1, 2}, .app_commits_durable = false};
  for (std::uint64_t seed = 1;; ++seed) {
    sim::Disk<MemoryBackend> disk(MemoryBackend{}, {.sync_on_commit = false});
    Stamp lost;
    {
      auto r = DiskReplica::open(NoLog{}, disk, Mst<>(config), [] { return 1000; }).value();
      REQUIRE(r.put("k", "lost"));
      lost = r.record("k").value()->stamp;
    }
    sim::Rng rng(seed);
    disk.crash(rng);
    auto r = DiskReplica::open(NoLog{}, disk, Mst<>(config), [] { return 1000; }).value();
    if (r.record("k").value()) continue;  // the crash kept the write: try another
    REQUIRE(r.put("k", "again"));
    const Stamp again = r.record("k").value()->stamp;
    CHECK(lost == Stamp{1000, 0, 1, 1});
    CHECK(again == Stamp{1000, 0, 1, 2});
    break;
  }
}

TEST_CASE("mst: a replica reads its own writes, keeps deletes as stamped tombstones, and reports damage", "[mst]") {
  std::uint64_t now = 1000;
  Replica r = replica(1, &now);
  REQUIRE(r.put("a", "1"));
  REQUIRE(r.put("b", "2"));
  REQUIRE(r.put("c", "3"));
  CHECK(r.get("a").value() == "1");
  CHECK(r.record("a").value()->stamp == Stamp{1000, 0, 1, 1});
  CHECK(r.erase("b").value());
  CHECK(!r.erase("b").value());  // already a tombstone: nothing written
  CHECK(!r.erase("zz").value());
  CHECK(!r.get("b").value());
  const auto tomb = r.record("b").value();
  REQUIRE(tomb);
  CHECK(!tomb->value);
  CHECK(tomb->stamp == Stamp{1000, 3, 1, 1});
  CHECK(!r.record("zz").value());
  // Tombstones are skipped by scans and take no part in their limits.
  CHECK(data(r) == std::map<std::string, std::string>{{"a", "1"}, {"c", "3"}});
  std::vector<std::string> first;
  for (auto&& [k, v] : r.scan(KeyRange::from("b").limit(1))) first.emplace_back(k);
  CHECK(first == std::vector<std::string>{"c"});
  // A transaction's writes are stamped in one App transaction.
  now = 2000;
  REQUIRE(r.transact([](auto& tx) -> Result<void> {
    auto a = tx.get("a");
    if (!a) return a.error();
    if (auto w = tx.put("b", *a.value() + "!"); !w) return w;
    return tx.put("d", "4");
  }));
  CHECK(r.get("b").value() == "1!");
  CHECK(r.record("b").value()->stamp.wall == 2000);
  // A record someone damaged on disk is corruption, not a value.
  REQUIRE(r.app().put("dc", std::string("\xff\xff", 2)));
  auto damaged = r.get("c");
  REQUIRE(!damaged);
  CHECK(damaged.error().code() == errc::corruption);
  auto scanned = r.scan(KeyRange::all());
  for (auto&& kv : scanned) (void)kv;
  CHECK(scanned.status().error().code() == errc::corruption);
}

TEST_CASE("mst: the tree takes writes in later, many at once, and a restart takes in what it had not", "[mst]") {
  MstDisk disk(MemoryBackend{}, {});
  const MstConfig config{.id = 1, .members = {1, 2}, .tree_batch = 100};
  auto tree_has = [&](const std::string& key) {
    return MerkleSearchTree<MstDisk>(disk, std::string(detail::MstLayout::tree)).get(key).value().has_value();
  };
  {
    auto r = Shard<NoLog, MstDisk, Mst<>>::open(NoLog{}, disk, Mst<>(config)).value();
    for (int i = 0; i < 150; ++i) REQUIRE(r.put("k" + std::to_string(i), "v"));
    CHECK(tree_has("k0"));    // the 100th write took the first 100 in
    CHECK(!tree_has("k149"));  // the rest wait, marked
  }
  auto r = Shard<NoLog, MstDisk, Mst<>>::open(NoLog{}, disk, Mst<>(config)).value();
  CHECK(tree_has("k149"));  // opening took them in
  const Digest root = r.root().value();
  REQUIRE(r.erase("k3"));
  CHECK(tree_has("k3"));            // the tombstone not yet in the tree ...
  CHECK(r.root().value() != root);  // ... until the root is asked for
  CHECK(MerkleSearchTree<MstDisk>(disk, std::string(detail::MstLayout::tree)).get("k3").value() ==
        Digest::of(r.record("k3").value()->encode()));
}

TEST_CASE("mst: a later stamp wins wherever it was written, and a pull carries only what differs", "[mst]") {
  std::uint64_t now = 1000;
  Replica a = replica(1, &now), b = replica(2, &now);
  for (int i = 0; i < 300; ++i) REQUIRE(a.put("k" + std::to_string(i), "a"));
  sync_round(a, b);
  CHECK(b.root().value() == a.root().value());
  CHECK(data(b) == data(a));
  now = 1001;
  REQUIRE(b.put("k5", "b"));  // later: wins on both
  now = 999;
  REQUIRE(a.put("k5", "a2"));  // a's clock is behind its last stamp: still later than a's 1000
  CHECK(a.record("k5").value()->stamp == Stamp{1000, 300, 1, 1});
  REQUIRE(a.erase("k6"));
  const std::size_t messages = sync_round(a, b).messages;
  CHECK(a.get("k5").value() == "b");
  CHECK(!b.get("k6").value());
  CHECK(a.root().value() == b.root().value());
  CHECK(messages < 40);  // two keys among 300: a few levels of the tree, not the whole state
}

TEST_CASE("mst: merging is commutative, associative and idempotent, 200 random cases", "[mst][single-threaded]") {
  std::mt19937_64 rng(Catch::rngSeed() + 2019);
  std::uint64_t now = 1'000'000;
  for (int c = 0; c < 200; ++c) {
    // Overlapping keys and stamps; as in a real history, one stamp is one write (of one key).
    std::map<Stamp, std::pair<std::string, MstRecord>> writes;
    std::vector<std::pair<std::string, MstRecord>> sets[3];
    for (auto& s : sets)
      for (auto n = rng() % 40; n > 0; --n) {
        const Stamp stamp{1 + rng() % 50, rng() % 3, 1 + rng() % 3};
        auto made = std::pair{"k" + std::to_string(rng() % 30),
                              MstRecord{stamp, rng() % 4 ? std::optional<std::string>("v" + std::to_string(rng() % 9)) : std::nullopt}};
        s.push_back(writes.try_emplace(stamp, std::move(made)).first->second);
      }
    auto made = [&](std::uint64_t id, int set) {
      Replica r = replica(id, &now);
      give(r, id == 1 ? 2 : 1, sets[set]);
      return r;
    };
    INFO("case " << c);
    Replica xy = made(1, 0), y = made(2, 1), yx = made(1, 1), x = made(2, 0);
    sync_round(y, xy);
    sync_round(x, yx);
    CHECK(xy.root().value() == yx.root().value());  // commutative
    CHECK(data(xy) == data(yx));
    Replica z = made(3, 2);
    sync_round(z, xy);  // (x ⊔ y) ⊔ z
    Replica x2 = made(1, 0), y2 = made(2, 1), z2 = made(3, 2);
    sync_round(z2, y2);  // x ⊔ (y ⊔ z)
    sync_round(y2, x2);
    CHECK(xy.root().value() == x2.root().value());  // associative
    const Digest before = x2.root().value();
    Replica x3 = made(2, 0);
    sync_round(x3, x2);  // x ⊔ (x ⊔ y ⊔ z) = x ⊔ y ⊔ z
    sync_round(x2, x3);  // and the other way
    sync_round(x2, x3);  // again: idempotent
    CHECK(x2.root().value() == before);
    CHECK(x3.root().value() == before);
  }
}

TEST_CASE("mst: a tombstone is collected once every peer holds it, and a replica away long never brings a deleted key back",
          "[mst]") {
  std::uint64_t now = 1000;
  const std::uint64_t horizon = 10'000;
  Replica a = replica(1, &now, horizon), b = replica(2, &now, horizon), c = replica(3, &now, horizon);
  for (int i = 0; i < 20; ++i) REQUIRE(a.put("k" + std::to_string(i), "old"));
  sync_round(a, b);
  sync_round(a, c);
  auto purge_ticks = [&](std::initializer_list<Replica*> rs) {
    for (int t = 0; t < 64; ++t)  // a tick every purge_ticks collects
      for (Replica* r : rs) {
        REQUIRE(r->tick());
        (void)r->take_messages();  // lost: no round runs meanwhile
      }
  };
  // c goes away; a deletes k1; a and b keep in touch for longer than the horizon.
  now = 2000;
  REQUIRE(a.erase("k1"));
  REQUIRE(a.put("k2", "new"));
  for (int step = 0; step <= 11; ++step, now += 1000) sync_round(a, b);
  purge_ticks({&a, &b});
  CHECK(a.record("k1").value());  // still a tombstone: c has not pulled it
  CHECK(b.record("k1").value());
  CHECK(a.policy().counters().purged == 0);
  // c comes back, with k1's old value, and takes the delete.
  CHECK(c.get("k1").value() == "old");
  sync_round(c, a);
  sync_round(c, b);
  CHECK(!c.get("k1").value());
  CHECK(c.get("k2").value() == "new");
  // Once every peer has pulled from each, and the horizon has passed, all collect it.
  now += horizon + 1;
  sync_round(a, b);
  sync_round(a, c);
  sync_round(b, c);
  purge_ticks({&a, &b, &c});
  for (Replica* r : {&a, &b, &c}) {
    CHECK(!r->record("k1").value());
    CHECK(r->policy().counters().purged == 1);
  }
  CHECK(data(c) == data(a));
  CHECK(a.root().value() == b.root().value());
  CHECK(b.root().value() == c.root().value());
  // A late copy of the collected delete, or of the value it deleted, does not come back ...
  const auto late = MstRecord{{2000, 0, 1, 1}, std::nullopt}, deleted = MstRecord{{1000, 0, 1, 1}, "old"};
  give(a, 2, {{"k1", late}, {"k1", deleted}});
  CHECK(!a.record("k1").value());
  // ... until another horizon has passed; a later write of the key is taken at once.
  give(a, 2, {{"k1", MstRecord{{now, 0, 2}, "again"}}});
  CHECK(a.get("k1").value() == "again");
}

TEST_CASE("mst: over an App that does not sync on commit, a replica says it pulled a delete once it is on disk", "[mst]") {
  // b pulls a's delete of k, tells a, and crashes. Had the delete not been on disk, b would come
  // back with k's old value after a collected the delete.
  using DiskReplica = Shard<NoLog, sim::Disk<MemoryBackend>, Mst<>>;
  const std::uint64_t horizon = 10'000;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("crash seed " << seed);
    std::uint64_t now = 1000;
    sim::Disk<MemoryBackend> disk_a(MemoryBackend{}), disk_b(MemoryBackend{}, {.sync_on_commit = false});
    auto open = [&](sim::Disk<MemoryBackend>& disk, MstConfig c) {
      c.members = {1, 2};
      c.tombstone_horizon = horizon;
      return DiskReplica::open(NoLog{}, disk, Mst<>(c), [&] { return now; }).value();
    };
    const MstConfig lazy{.id = 2, .app_commits_durable = false, .app_sync_ticks = 1000};
    DiskReplica a = open(disk_a, {.id = 1});
    std::optional<DiskReplica> b = open(disk_b, lazy);
    REQUIRE(a.put("k", "old"));
    sync_round(a, *b);
    now = 2000;
    REQUIRE(a.erase("k").value());
    now = 2001;
    sync_round(a, *b);  // b pulls the delete and says so
    CHECK(!b->get("k").value());
    b.reset();
    sim::Rng rng(seed);
    disk_b.crash(rng);
    b = open(disk_b, lazy);
    auto collect = [](DiskReplica& r) {  // a tick every purge_ticks collects; no round runs
      for (int t = 0; t < 64; ++t) {
        REQUIRE(r.tick());
        (void)r.take_messages();
      }
      CHECK(r.policy().counters().purged == 1);
    };
    now += horizon + 1;
    collect(a);
    sync_round(a, *b);  // a refuses b's copy of the delete, and b learns that a pulled from it
    collect(*b);
    CHECK(!b->get("k").value());
    CHECK(a.root().value() == b->root().value());
  }
}

TEST_CASE("mst: a peer's malformed or unasked-for messages are dropped and counted", "[mst]") {
  std::uint64_t now = 1000;
  Replica a = replica(1, &now), b = replica(2, &now);
  REQUIRE(a.put("k", "v"));
  const Digest before = b.root().value();
  for (auto type : {MessageType::mst_root, MessageType::mst_get_nodes, MessageType::mst_nodes, MessageType::mst_get_records,
                    MessageType::mst_records}) {
    Message m{.type = type, .from = 1, .to = 2, .done = true};
    m.data = std::string("\x05garbage", 8);
    REQUIRE(b.step(m));
  }
  Message stranger{.type = MessageType::mst_records, .from = 9, .to = 2};  // not a member
  stranger.data = framed("k") + framed(MstRecord{{5000, 0, 9}, "evil"}.encode());
  REQUIRE(b.step(stranger));
  CHECK(b.root().value() == before);
  CHECK(b.policy().counters().rejected >= 3);
  for (auto& m : b.take_messages()) CHECK(m.to == 1);
  sync_round(a, b);
  CHECK(b.get("k").value() == "v");
}

namespace {
/// Seeds that once failed; each runs in every test run.
constexpr std::uint64_t regression_seeds[] = {
    30,  // pulls restarted at each root the peer sent: with rounds faster than a pull, none finished
};

void check_seed(std::uint64_t seed) {
  auto out = run_mst_seed(seed);
  INFO("replay: KVSTACK_SIM_SEED=" << seed << " kvstack_tests \"mst: random faults, 200 seeds (40 under a sanitizer)\"");
  CHECK(out.failure == "");
}
}  // namespace

TEST_CASE("mst: random faults, 200 seeds (40 under a sanitizer)", "[mst][sim]") {
  if (const char* one = std::getenv("KVSTACK_SIM_SEED")) {
    check_seed(std::strtoull(one, nullptr, 10));
    return;
  }
  for (std::uint64_t seed : regression_seeds) check_seed(seed);
  for (std::uint64_t seed = 1000; seed < 1000 + sim_seeds(200); ++seed) check_seed(seed);
}

TEST_CASE("mst: the checks catch a disk that loses acknowledged writes at a crash", "[mst][sim]") {
  // A known bug to find: the App does not sync on commit, so a crash loses writes the replica
  // had acknowledged before any peer pulled them, and the last-writer-wins check sees it.
  int caught = 0;
  for (std::uint64_t seed = 1000; seed < 1100 && caught <= 5; ++seed)
    caught += !run_mst_seed(seed, {.sync_on_commit = false}).failure.empty();
  CHECK(caught > 5);
}

TEST_CASE("mst: a seed replays bit for bit", "[mst][sim]") {
  auto a = run_mst_seed(42), b = run_mst_seed(42), c = run_mst_seed(43);
  CHECK(a.failure == "");
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.ticks == b.ticks);
  CHECK(a.trace_hash != c.trace_hash);
}
