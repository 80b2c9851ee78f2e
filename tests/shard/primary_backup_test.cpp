// AsyncPrimaryBackup in the simulator: shipping with retries under every network fault,
// re-seeding from snapshots in chunks, failover and what it loses, lag figures, WAIT, and runs
// that repeat bit for bit.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "shard/primary_backup_sim.hpp"
#include "sim/seed_count.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {
/// Seeds that once failed; each runs in every test run, as it failed (before the simulation had
/// clock faults) and with clock faults.
constexpr std::uint64_t regression_seeds[] = {
    1,
    7300724,  // a late snapshot answer restarted the transfer: with tiny chunks it never finished
    9400172,  // a restarted primary's transfer had the number and mark of one its backup was in
              // the middle of: the backup asked for chunk 3, the primary waited for it to ask for 1
};

void check_seed(std::uint64_t seed) {
  auto out = run_primary_backup_seed(seed);
  INFO("replay: KVSTACK_SIM_SEED=" << seed << " kvstack_tests \"primary-backup: random faults, 200 seeds (40 under a sanitizer)\"");
  CHECK(out.failure == "");
}
}  // namespace

TEST_CASE("primary-backup: random faults, 200 seeds (40 under a sanitizer)", "[shard][sim]") {
  if (const char* one = std::getenv("KVSTACK_SIM_SEED")) {
    check_seed(std::strtoull(one, nullptr, 10));
    return;
  }
  for (std::uint64_t seed : regression_seeds) {
    INFO("regression seed " << seed << " without clock faults");
    CHECK(run_primary_backup_seed(seed, {}, false).failure == "");
    check_seed(seed);
  }
  for (std::uint64_t seed = 1000; seed < 1000 + sim_seeds(200); ++seed) check_seed(seed);
}

TEST_CASE("primary-backup: the checks catch a disk that loses acknowledged writes at a crash", "[shard][sim]") {
  // A known bug to find: the engines do not sync on commit, so a crash loses what the primary
  // had acknowledged (or what a backup had acknowledged), and the histories show it.
  int caught = 0;
  for (std::uint64_t seed = 1000; seed < 1100; ++seed)
    caught += !run_primary_backup_seed(seed, {.sync_on_commit = false}).failure.empty();
  CHECK(caught > 10);
}

TEST_CASE("primary-backup: a seed replays bit for bit", "[shard][sim]") {
  auto a = run_primary_backup_seed(42), b = run_primary_backup_seed(42), c = run_primary_backup_seed(43);
  CHECK(a.failure == "");
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.ticks == b.ticks);
  CHECK(a.trace_hash != c.trace_hash);
}

TEST_CASE("primary-backup: backups apply every write, in order, through loss and duplication", "[shard][sim]") {
  PrimaryBackupSim s(7, 3, {.min_delay = 1, .max_delay = 4, .loss = 0.3, .duplicate = 0.3});
  auto& c = s.cluster;
  for (int i = 0; i < 50; ++i) {
    c.shard(1).put("k" + std::to_string(i % 7), std::to_string(i)).value();
    c.flush();
    c.tick();
  }
  CHECK(c.run_until([&] { return s.applied(2) == 50 && s.applied(3) == 50; }, 2000));
  CHECK(s.data(2) == s.data(1));
  CHECK(s.data(3) == s.data(1));
  CHECK(c.network().stats().lost > 0);
  CHECK(c.network().stats().duplicated > 0);
  CHECK(c.errors().empty());
}

TEST_CASE("primary-backup: writes on a backup are refused, naming the primary", "[shard][sim]") {
  PrimaryBackupSim s(1, 2);
  auto r = s.cluster.shard(2).put("k", "v");
  REQUIRE(!r);
  CHECK(r.error().code() == errc::not_leader);
  CHECK_THAT(r.error().message(), Catch::Contains("the primary is 1"));
  CHECK(s.cluster.shard(2).status().role == Role::backup);
}

TEST_CASE("primary-backup: status shows each backup's lag, WAIT counts acknowledgements", "[shard][sim]") {
  PrimaryBackupSim s(3, 3);
  auto& c = s.cluster;
  c.network().isolate(3);
  for (int i = 0; i < 10; ++i) c.shard(1).put("k" + std::to_string(i), "0123456789").value();
  c.flush();
  c.run(20);
  auto st = c.shard(1).status();
  REQUIRE(st.peers.size() == 2);
  CHECK(st.role == Role::primary);
  CHECK(st.peers[0].lag_entries == 0);
  CHECK(st.peers[1].id == 3);
  CHECK(st.peers[1].lag_entries == 10);
  CHECK(st.peers[1].lag_bytes > 100);
  CHECK(st.peers[1].lag_ticks >= 20);
  CHECK(c.shard(1).wait_replicated(10, 1, std::chrono::milliseconds(0)) == 1);
  CHECK(c.shard(1).wait_replicated(10, 2, std::chrono::milliseconds(0)) == 1);
  const std::string text = c.shard(1).status().prometheus();
  CHECK_THAT(text, Catch::Contains("kvstack_shard_applied_index{replica=\"1\"} 10\n"));
  CHECK_THAT(text, Catch::Contains("kvstack_shard_peer_lag_entries{peer=\"3\"} 10\n"));
  CHECK_THAT(text, Catch::Contains("kvstack_shard_peer_lag_entries{peer=\"2\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE kvstack_shard_peer_lag_bytes gauge\n"));
  c.network().heal();
  c.run(20);
  CHECK(c.shard(1).wait_replicated(10, 2, std::chrono::milliseconds(0)) == 2);
  CHECK(c.shard(1).status().peers[1].lag_entries == 0);
}

TEST_CASE("primary-backup: a backup behind the compacted log is re-seeded in bounded chunks", "[shard][sim]") {
  PrimaryBackupSim s(5, 2, {.loss = 0.2}, {.compact_every = 8, .max_log_entries = 32}, {.max_chunk_bytes = 64});
  auto& c = s.cluster;
  c.network().isolate(2);
  for (int i = 0; i < 100; ++i) {
    c.shard(1).put("key" + std::to_string(i), std::string(30, 'x')).value();
    c.flush();
    c.tick();
  }
  REQUIRE(c.shard(1).log().first_index().value() > 1);  // what backup 2 needs is gone
  c.network().heal();
  std::size_t largest = 0, chunks = 0;
  c.observe([&](const Message& m) {
    if (m.type == MessageType::snapshot_chunk) largest = std::max(largest, m.data.size()), ++chunks;
  });
  CHECK(c.run_until([&] { return s.applied(2) == 100; }, 3000));
  CHECK(s.data(2) == s.data(1));
  CHECK(chunks > 40);  // 100 records of ~36 bytes in 64-byte chunks, some sent twice
  CHECK(largest <= 64);
  CHECK(c.errors().empty());
}

TEST_CASE("primary-backup: a restarted primary resumes shipping from its log", "[shard][sim]") {
  PrimaryBackupSim s(9, 2);
  auto& c = s.cluster;
  for (int i = 0; i < 5; ++i) c.shard(1).put("k" + std::to_string(i), "v").value();
  c.shard(1).take_messages();  // never sent
  c.crash(1);
  c.restart(1);
  CHECK(c.run_until([&] { return s.applied(2) == 5; }, 200));
  CHECK(s.data(2) == s.data(1));
}

TEST_CASE("primary-backup: failover loses exactly what the promoted backup had not applied", "[shard][sim]") {
  PrimaryBackupSim s(11, 3);
  auto& c = s.cluster;
  std::vector<std::map<std::string, std::string>> states{{}};  // the primary's data after each entry
  auto write = [&](int i) {
    c.shard(1).put("k" + std::to_string(i % 5), std::to_string(i)).value();
    states.push_back(s.data(1));
    c.flush();
    c.tick();
  };
  for (int i = 0; i < 20; ++i) write(i);
  c.run(20);
  c.network().isolate(2);
  for (int i = 20; i < 35; ++i) write(i);
  c.run(20);
  c.crash(1);
  c.network().heal();
  const std::uint64_t kept = s.applied(2);
  CHECK(kept == 20);
  REQUIRE(c.shard(2).promote());
  CHECK(c.shard(2).status().role == Role::primary);
  CHECK(s.data(2) == states[kept]);  // entries 21..35 are lost, nothing before them
  c.shard(2).put("after", "failover").value();
  c.flush();
  CHECK(c.run_until([&] { return s.applied(3) == kept + 1; }, 500));  // 3 had 35: it is re-seeded
  CHECK(s.data(3) == s.data(2));
  c.restart(1);  // the old primary comes back, learns the new term and is re-seeded too
  CHECK(c.run_until([&] { return s.data(1) == s.data(2); }, 500));
  CHECK(c.shard(1).status().role == Role::backup);
  CHECK(c.shard(1).status().leader == std::optional<std::uint64_t>(2));
  CHECK(c.errors().empty());
}
