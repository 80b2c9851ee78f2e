// kvstack_soak POLICY SEEDS [FIRST_SEED]: runs the randomized simulation of a replication policy
// for SEEDS seeds from FIRST_SEED on (tools/soak.sh builds and runs it). Prints each failing
// seed with the command that replays it, then "N passed, M failed"; exits 1 if any failed.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "shard/primary_backup_sim.hpp"
#include "shard/raft_sim.hpp"
#if KVSTACK_WITH_MST
#include "shard/mst_sim.hpp"
#endif

int main(int argc, char** argv) {
  const std::string policy = argc > 1 ? argv[1] : "";
  if (argc < 3 || (policy != "primary" && policy != "raft" && policy != "mst")) {
    std::fprintf(stderr, "usage: kvstack_soak POLICY SEEDS [FIRST_SEED]\n(policies: primary = AsyncPrimaryBackup, raft = Raft, mst = Mst)\n");
    return 2;
  }
#if !KVSTACK_WITH_MST
  if (policy == "mst") {
    std::fprintf(stderr, "kvstack_soak: built without Mst (OpenSSL's libcrypto was not found)\n");
    return 2;
  }
#endif
  const char* test = policy == "raft"  ? "raft: random faults, 500 seeds (100 under a sanitizer)"
                     : policy == "mst" ? "mst: random faults, 200 seeds (40 under a sanitizer)"
                                       : "primary-backup: random faults, 200 seeds (40 under a sanitizer)";
  const std::uint64_t seeds = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t first = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  std::uint64_t passed = 0, failed = 0, ticks = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    std::string failure;
    if (policy == "raft") {
      auto out = kvstack::test::run_raft_seed(seed);
      ticks += out.ticks;
      failure = out.failure;
#if KVSTACK_WITH_MST
    } else if (policy == "mst") {
      auto out = kvstack::test::run_mst_seed(seed);
      ticks += out.ticks;
      failure = out.failure;
#endif
    } else {
      auto out = kvstack::test::run_primary_backup_seed(seed);
      ticks += out.ticks;
      failure = out.failure;
    }
    if (failure.empty()) {
      ++passed;
      continue;
    }
    ++failed;
    std::printf("seed %llu: %s\n  replay: KVSTACK_SIM_SEED=%llu kvstack_tests \"%s\"\n", static_cast<unsigned long long>(seed),
                failure.c_str(), static_cast<unsigned long long>(seed), test);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f seeds per minute, %.0f simulated ticks per second\n", static_cast<double>(seeds) * 60 / seconds,
              static_cast<double>(ticks) / seconds);
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed), static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
