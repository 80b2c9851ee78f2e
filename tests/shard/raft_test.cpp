// Raft in the simulator: elections, replication, read barriers, leader transfer, membership
// changes and snapshots one at a time; then randomized runs under every fault, checked for
// safety and liveness, that replay bit for bit and catch deliberately injected bugs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shard/raft_sim.hpp"
#include "sim/seed_count.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {
using Sim = RaftSim<>;

/// Ticks until some node leads; returns it.
std::uint64_t elect(Sim& s, std::uint64_t max_ticks = 500) {
  REQUIRE(s.cluster.run_until([&] { return s.leader().has_value(); }, max_ticks));
  return *s.leader();
}
/// Puts through the leader, ticking until the put applied there.
void put(Sim& s, std::uint64_t at, const std::string& key, const std::string& value) {
  auto t = s.cluster.shard(at).start_put(key, value);
  REQUIRE(t);
  s.cluster.flush();
  std::optional<Result<void>> done;
  REQUIRE(s.cluster.run_until([&] { return (done = s.cluster.shard(at).poll(t.value())).has_value(); }, 200));
  REQUIRE(*done);
}
/// A linearizable read at node `at`: the barrier, then the App.
Result<std::optional<std::string>> read(Sim& s, std::uint64_t at, const std::string& key) {
  auto t = s.cluster.shard(at).start_read();
  if (!t) return t.error();
  s.cluster.flush();
  std::optional<Result<void>> done;
  s.cluster.run_until([&] { return s.cluster.up(at) && (done = s.cluster.shard(at).poll(t.value())).has_value(); }, 200);
  if (!done) return Error{errc::timeout, "no answer"};
  if (!*done) return done->error();
  return s.cluster.shard(at).get_local(key);
}
std::uint64_t other_than(std::uint64_t id, std::uint64_t n) { return id % n + 1; }

constexpr std::uint64_t regression_seeds[] = {
    6,  // a node the group removed kept its clients' operations pending forever (now: unknown outcome)
    2007061,  // a re-elected leader's transaction read its own write of an earlier term that another
              // leader had replaced (an erase said the key existed): now such writes are forgotten
    2013826,  // a member removed after the group healed kept its client waiting (now: unknown outcome)
};
}  // namespace

TEST_CASE("raft: three nodes elect one leader, which replicates and commits", "[shard][raft]") {
  Sim s(1, 3, {1, 2, 3});
  const auto leader = elect(s);
  put(s, leader, "k", "v");
  CHECK(s.cluster.run_until([&] { return s.data(1) == s.data(2) && s.data(2) == s.data(3); }, 100));
  CHECK(s.data(other_than(leader, 3)).at("k") == "v");
  std::size_t leaders = 0;
  for (auto id : s.cluster.ids()) leaders += s.cluster.shard(id).status().role == Role::leader;
  CHECK(leaders == 1);
  CHECK(s.cluster.errors().empty());
}

TEST_CASE("raft: a follower refuses writes and barriers, naming the leader", "[shard][raft]") {
  Sim s(2, 3, {1, 2, 3});
  const auto leader = elect(s);
  s.cluster.run(5);  // the followers hear from it
  auto& follower = s.cluster.shard(other_than(leader, 3));
  auto w = follower.start_put("k", "v");
  REQUIRE(!w);
  CHECK(w.error().code() == errc::not_leader);
  CHECK(w.error().message().find("the leader is " + std::to_string(leader)) != std::string::npos);
  auto r = follower.start_read();
  REQUIRE(!r);
  CHECK(r.error().code() == errc::not_leader);
  CHECK(follower.status().leader == leader);
}

TEST_CASE("raft: an isolated leader steps down, its read barrier fails, and the majority goes on", "[shard][raft]") {
  Sim s(3, 3, {1, 2, 3});
  const auto old = elect(s);
  put(s, old, "k", "1");
  s.cluster.network().isolate(old);
  auto barrier = s.cluster.shard(old).start_read();  // it still believes it leads
  REQUIRE(barrier);
  s.cluster.flush();
  std::optional<Result<void>> done;
  REQUIRE(s.cluster.run_until([&] { return (done = s.cluster.shard(old).poll(barrier.value())).has_value(); }, 200));
  CHECK(done->error().code() == errc::not_leader);  // check-quorum deposed it before a quorum confirmed
  CHECK(s.cluster.shard(old).status().role != Role::leader);
  const auto next = elect(s);
  CHECK(next != old);
  put(s, next, "k", "2");
  CHECK(read(s, next, "k").value() == "2");
}

TEST_CASE("raft: a leader elected again forgets its writes that another leader replaced", "[shard][raft]") {
  Sim s(8, 3, {1, 2, 3});
  const auto first = elect(s);
  put(s, first, "k", "v");
  s.cluster.network().isolate(first);
  auto& shard = s.cluster.shard(first);
  std::uint64_t lost_at = 0;  // three writes the cut-off leader proposes: none can commit
  for (const char* key : {"a", "b", "x"}) lost_at = shard.start_put(key, "lost").value().index;
  s.cluster.flush();
  s.cluster.run(30);
  const auto second = elect(s);
  REQUIRE(second != first);
  s.cluster.network().heal();  // `first` rejoins; the new leader's entries replace its three
  REQUIRE(s.cluster.run_until([&] { return shard.status().applied == s.cluster.shard(second).status().commit; }, 200));
  REQUIRE(s.cluster.shard(second).with_policy([&](auto& p, auto& log) { return p.transfer_leadership(log, first); }));
  s.cluster.flush();
  REQUIRE(s.cluster.run_until([&] { return shard.status().role == Role::leader; }, 200));
  auto barrier = shard.start_read();
  REQUIRE(barrier);
  s.cluster.flush();
  std::optional<Result<void>> done;
  REQUIRE(s.cluster.run_until([&] { return (done = shard.poll(barrier.value())).has_value(); }, 200));
  REQUIRE(*done);
  REQUIRE(shard.status().applied < lost_at);  // what it proposed there was never applied or replaced
  auto [seen, ticket] = shard.start_transact([](auto& tx) { return tx.get("x"); });
  REQUIRE(seen);
  CHECK(seen.value() == std::nullopt);  // not the replaced write
}

TEST_CASE("raft: a transaction's limited scan reads past keys that proposed, unapplied writes erase", "[shard][raft]") {
  Sim s(9, 3, {1, 2, 3});
  const auto leader = elect(s);
  for (const char* key : {"a", "b", "c", "d"}) put(s, leader, key, "v");
  auto& shard = s.cluster.shard(leader);
  WriteBatch erase_ab;
  erase_ab.erase("a").erase("b");
  REQUIRE(shard.start_write(erase_ab));  // proposed, not applied: the cluster does not run
  REQUIRE(shard.status().applied < shard.log().last_index().value());
  auto [first, ticket] = shard.start_transact([](auto& tx) -> Result<std::vector<std::string>> {
    if (auto erased = tx.erase("d"); !erased) return erased.error();
    std::vector<std::string> keys;
    for (const KeyRange& range : {KeyRange::all().limit(1), KeyRange::all().reverse().limit(1)}) {
      auto scan = tx.scan(range);
      for (auto&& [k, v] : scan) keys.emplace_back(k);
      if (auto done = scan.status(); !done) return done.error();
    }
    return keys;
  });
  REQUIRE(first);
  CHECK(first.value() == std::vector<std::string>{"c", "c"});
}

TEST_CASE("raft: stale reads are an opt-in (not for transactions), and without it a follower's scan fails with the reason", "[shard][raft]") {
  Sim strict(2, 3, {1, 2, 3});
  auto leader = elect(strict);
  put(strict, leader, "k", "v");
  strict.cluster.run(10);
  auto& follower = strict.cluster.shard(other_than(leader, 3));
  CHECK(follower.get("k").error().code() == errc::not_leader);
  auto scan = follower.scan(KeyRange::all());
  int entries = 0;
  for (auto&& kv : scan) entries += !kv.key.empty();
  CHECK(entries == 0);
  CHECK(scan.status().error().code() == errc::not_leader);
  CHECK(follower.get_local("k").value() == "v");

  Sim stale(2, 3, {1, 2, 3}, {}, {}, ShardOptions{.stale_reads = true});
  leader = elect(stale);
  put(stale, leader, "k", "v");
  stale.cluster.run(10);
  CHECK(stale.cluster.shard(other_than(leader, 3)).get("k").value() == "v");
  // A transaction passes a barrier even so (it must not read a state older than what it applies
  // over): a follower refuses one.
  auto tx = stale.cluster.shard(other_than(leader, 3)).transact([](auto& t) { return t.get("k"); });
  REQUIRE(!tx);
  CHECK(tx.error().code() == errc::not_leader);
}

TEST_CASE("raft: memberships round-trip, and changes that do not apply are refused", "[shard][raft]") {
  const raft::Membership m{{1, 2, 3}, {7}};
  CHECK(raft::Membership::decode(m.encode()) == m);
  for (const char* bad : {"", "v1,2", "v1,,2;l", "v2,1;l", "v0;l", "vx;l", "v1;l3,"}) CHECK(!raft::Membership::decode(bad));
  using Kind = raft::MembershipChange::Kind;
  CHECK(m.after({Kind::add_learner, 2}).error().code() == errc::invalid_argument);
  CHECK(m.after({Kind::promote, 3}).error().code() == errc::invalid_argument);
  CHECK(m.after({Kind::remove, 9}).error().code() == errc::invalid_argument);
  CHECK(raft::Membership{{1}, {}}.after({Kind::remove, 1}).error().code() == errc::invalid_argument);
  CHECK(m.after({Kind::promote, 7}).value() == raft::Membership{{1, 2, 3, 7}, {}});
}

TEST_CASE("raft: pre-vote keeps a node that was cut off from raising the term when it returns", "[shard][raft]") {
  Sim s(4, 3, {1, 2, 3});
  const auto leader = elect(s);
  const auto lonely = other_than(leader, 3);
  s.cluster.network().isolate(lonely);
  s.cluster.run(200);  // it campaigns, and pre-votes never reach anyone
  const auto term = s.cluster.shard(leader).status().term;
  CHECK(s.cluster.shard(lonely).status().term == term);
  s.cluster.network().heal();
  s.cluster.run(50);
  CHECK(s.cluster.shard(leader).status().role == Role::leader);
  CHECK(s.cluster.shard(leader).status().term == term);
}

TEST_CASE("raft: leadership moves to a chosen voter", "[shard][raft]") {
  Sim s(5, 3, {1, 2, 3});
  const auto leader = elect(s);
  put(s, leader, "k", "v");
  const auto to = other_than(leader, 3);
  REQUIRE(s.cluster.shard(leader).with_policy([&](auto& p, auto& log) { return p.transfer_leadership(log, to); }));
  auto refused = s.cluster.shard(leader).start_put("x", "y");  // proposals wait for the new leader
  CHECK((!refused && refused.error().code() == errc::busy));
  s.cluster.flush();
  CHECK(s.cluster.run_until([&] { return s.cluster.shard(to).status().role == Role::leader; }, 100));
  put(s, to, "k", "w");
  CHECK(read(s, to, "k").value() == "w");
}

TEST_CASE("raft: a learner catches up, is promoted, and a voter leaves", "[shard][raft]") {
  Sim s(6, 4, {1, 2, 3});
  const auto leader = elect(s);
  for (int i = 0; i < 10; ++i) put(s, leader, "k" + std::to_string(i), "v");
  auto change = [&](raft::MembershipChange c) {
    std::uint64_t index = 0;
    auto r = s.cluster.shard(leader).with_policy([&](auto& p, auto& log) -> Result<void> {
      auto i = p.change_membership(log, c);
      if (!i) return i.error();
      index = i.value();
      return success();
    });
    REQUIRE(r);
    s.cluster.flush();
    REQUIRE(s.cluster.run_until([&] { return s.cluster.shard(leader).status().applied >= index; }, 200));
  };
  change({raft::MembershipChange::Kind::add_learner, 4});
  CHECK(s.cluster.run_until([&] { return s.data(4) == s.data(leader); }, 200));
  CHECK(!s.cluster.shard(4).policy().membership().is_voter(4));
  change({raft::MembershipChange::Kind::promote, 4});
  const auto leaving = other_than(leader, 3);
  change({raft::MembershipChange::Kind::remove, leaving});
  const auto& m = s.cluster.shard(leader).policy().membership();
  CHECK(m.voters.size() == 3);
  CHECK(m.is_voter(4));
  CHECK(!m.contains(leaving));
  // The group of three (with node 4) commits without the node that left.
  s.crash(leaving);
  put(s, leader, "after", "change");
  CHECK(s.cluster.run_until([&] { return s.data(4).contains("after"); }, 200));
}

TEST_CASE("raft: a follower cut off while the leader compacts receives a snapshot in chunks", "[shard][raft]") {
  Sim s(7, 3, {1, 2, 3}, {}, RaftConfig{.compact_every = 4, .max_log_entries = 16}, ShardOptions{.max_chunk_bytes = 32});
  const auto leader = elect(s);
  const auto behind = other_than(leader, 3);
  s.cluster.network().isolate(behind);
  std::size_t chunks = 0;
  s.cluster.observe([&](const Message& m) { chunks += m.type == MessageType::snapshot_chunk; });
  for (int i = 0; i < 60; ++i) put(s, leader, "k" + std::to_string(i % 20), std::string(20, char('a' + i % 26)));
  auto [first, entries] = s.log_of(leader);
  CHECK(first > 2);  // compacted past what the isolated follower has
  s.cluster.network().heal();
  CHECK(s.cluster.run_until([&] { return s.data(behind) == s.data(leader); }, 500));
  CHECK(chunks > 3);
  CHECK(s.cluster.errors().empty());
}

TEST_CASE("raft: a group of one commits at once, without a runner", "[shard][raft]") {
  MemoryBackend log_db;
  Shard<BackendLog<MemoryBackend>, MemoryBackend, Raft> s(BackendLog<MemoryBackend>(log_db, "log"), MemoryBackend{},
                                                           Raft({.id = 1, .voters = {1}}));
  CHECK(s.status().role == Role::leader);
  s.put("a", "1").value();
  CHECK(s.get("a").value() == "1");
  CHECK(s.transact([](auto& tx) -> Result<bool> { return tx.erase("a"); }).value());
  CHECK(s.get("a").value() == std::nullopt);
}

namespace {
/// Figure 8 of the Raft paper, step by step, on five members: an entry of term 1 reaches a
/// majority only under the leader of term 3; a member that led term 2 (and holds another entry
/// at that index) can still win term 4. Returns what went wrong: empty when the write that was
/// acknowledged survived (or was refused), and no member reported an error.
template <class Bugs>
std::string figure8() {
  RaftSim<Bugs> s(8, 5, {1, 2, 3, 4, 5}, {.min_delay = 1, .max_delay = 1},
                  RaftConfig{.election_ticks = 100'000, .pre_vote = false, .check_quorum = false, .max_append_bytes = 1});
  auto& c = s.cluster;
  auto& net = c.network();
  auto campaign = [&](std::uint64_t id) {  // until it leads, or 20 ticks
    for (int attempt = 0; attempt < 3 && c.shard(id).status().role != Role::leader; ++attempt) {
      (void)c.shard(id).with_policy([](auto& p, auto& log) { return p.campaign_now(log); });
      c.flush();
      c.run_until([&] { return c.shard(id).status().role != Role::candidate; }, 20);
    }
    return c.shard(id).status().role == Role::leader;
  };
  if (!campaign(1)) return "member 1 did not win term 1";
  auto first = c.shard(1).start_put("k", "a");
  c.flush();
  c.run(10);
  // Term 1: the entry "k=b" reaches member 2 only.
  for (std::uint64_t to : {3, 4, 5}) net.cut(1, to);
  auto b = c.shard(1).start_put("k", "b");
  if (!first || !b) return "member 1 refused a write";
  c.flush();
  c.run(5);
  // Term 2: member 5 wins with 3 and 4, and its first entry goes nowhere.
  net.heal();
  net.isolate(1);
  (void)c.shard(5).with_policy([](auto& p, auto& log) { return p.campaign_now(log); });
  c.flush();
  if (!c.run_until([&] { return c.shard(5).status().role == Role::leader; }, 20)) return "member 5 did not win term 2";
  net.isolate(5);
  // Term 3: member 1 (told of term 2 first) wins, and takes "k=b" to member 3 (a majority with 1
  // and 2), entry by entry.
  net.heal();
  net.isolate(5);
  c.run(3);
  if (!campaign(1)) return "member 1 did not win term 3";
  auto holds_b = [&](std::uint64_t id) {
    for (const auto& p : c.shard(1).status().peers)
      if (p.id == id) return p.match >= 3;
    return false;
  };
  if (!c.run_until([&] { return holds_b(3); }, 50)) return "member 3 did not receive k=b";
  net.isolate(1);  // before its own entry of term 3 reaches 3 and 4
  // Term 4: member 5 wins with 3 and 4, and replaces index 3.
  net.heal();
  net.isolate(1);
  c.run(3);
  if (!campaign(5)) return "member 5 did not win term 4";
  c.run(20);
  net.heal();
  c.run(50);
  std::optional<Result<void>> acknowledged;
  c.run_until([&] { return (acknowledged = c.shard(1).poll(b.value())).has_value(); }, 50);
  if (!c.errors().empty()) return "a member reported an error: " + c.errors().front();
  const auto value = s.data(5).at("k");
  if (acknowledged && *acknowledged && value != "b")
    return "k=b was acknowledged, and the group holds k=" + value + " (an acknowledged write was lost)";
  return {};
}
struct CommitEarlierTerms : raft::Correct {
  static constexpr bool commit_earlier_terms = true;
};
}  // namespace

TEST_CASE("raft: Figure 8, step by step: an earlier term's entry commits only under one of the leader's", "[shard][raft]") {
  CHECK(figure8<raft::Correct>() == "");
  // Counting replicas of the earlier term's entry commits it, and the next leader replaces it.
  const auto found = figure8<CommitEarlierTerms>();
  INFO(found);
  CHECK(found.find("acknowledged write was lost") != std::string::npos);
}

TEST_CASE("raft: random faults, 500 seeds (100 under a sanitizer)", "[shard][raft][sim]") {
  auto check_seed = [](std::uint64_t seed) {
    auto out = run_raft_seed(seed);
    INFO("replay: KVSTACK_SIM_SEED=" << seed << " kvstack_tests \"raft: random faults, 500 seeds (100 under a sanitizer)\"");
    CHECK(out.failure == "");
  };
  if (const char* one = std::getenv("KVSTACK_SIM_SEED")) return check_seed(std::strtoull(one, nullptr, 10));
  for (std::uint64_t seed : regression_seeds) check_seed(seed);
  for (std::uint64_t seed = 1000; seed < 1000 + sim_seeds(500); ++seed) check_seed(seed);
}

TEST_CASE("raft: a seed replays bit for bit", "[shard][raft][sim]") {
  auto a = run_raft_seed(42), b = run_raft_seed(42), c = run_raft_seed(43);
  CHECK(a.failure == "");
  CHECK(a.completed > 0);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.ticks == b.ticks);
  CHECK(a.trace_hash != c.trace_hash);
}

namespace {
struct VoteWithoutLogCheck : raft::Correct {
  static constexpr bool vote_without_log_check = true;
};
struct ReadWithoutQuorum : raft::Correct {
  static constexpr bool read_without_quorum = true;
};
struct ReadBeforeTermApplied : raft::Correct {
  static constexpr bool read_before_term_applied = true;
};
struct CompactPastUnsynced : raft::Correct {
  static constexpr bool compact_past_unsynced = true;
};
/// The first of the CI seeds (1000..1499) whose run finds what goes wrong with `disk` and the
/// bugs `Bugs` injects: "seed N: failure", or empty if none does.
template <class Bugs = raft::Correct>
std::string first_catch(sim::DiskOptions disk = {}) {
  for (std::uint64_t seed = 1000; seed < 1500; ++seed)
    if (auto out = run_raft_seed<Bugs>(seed, {}, disk); !out.failure.empty()) return "seed " + std::to_string(seed) + ": " + out.failure;
  return {};
}
}  // namespace

TEST_CASE("raft: the checks catch a vote granted to a candidate whose log is behind", "[shard][raft][sim]") {
  const auto found = first_catch<VoteWithoutLogCheck>();
  INFO(found);
  CHECK(found != "");
}

TEST_CASE("raft: the checks catch votes and entries acknowledged before they are durable", "[shard][raft][sim]") {
  // The engines answer commits before they reach the disk (no fsync), so a member replies to a
  // vote or an append with what a crash then takes back.
  const auto found = first_catch({.sync_on_commit = false});
  INFO(found);
  CHECK(found != "");
}

TEST_CASE("raft: the checks catch a log compacted past what an App that syncs lazily has on disk", "[shard][raft][sim]") {
  // Seeds whose App's commits wait for the shard's sync (ShardOptions::app_commits_durable =
  // false): a crash then loses applied entries that the log no longer holds.
  const auto found = first_catch<CompactPastUnsynced>();
  INFO(found);
  CHECK(found != "");
}

TEST_CASE("raft: the checks catch a new leader's transaction that reads before its first entry applied", "[shard][raft][sim]") {
  // An up-to-date leader's transactions read without a barrier first (half the seeds' clients
  // do so); a leader that has not applied its predecessors' entries yet reads stale data.
  const auto found = first_catch<ReadBeforeTermApplied>();
  INFO(found);
  CHECK(found != "");
}

TEST_CASE("raft: the checks catch a read served without confirming the leadership", "[shard][raft][sim]") {
  const auto found = first_catch<ReadWithoutQuorum>();
  INFO(found);
  CHECK(found != "");
}
