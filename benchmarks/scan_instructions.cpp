// Instructions per prefix scan of 100 keys through MemoryBackend and the layers over it, counted
// by valgrind (benchmarks/scan_instructions.sh): wall-clock figures on a shared machine move by
// a third between runs, instruction counts do not. The consumer reads the first byte of each
// value, as a real one reads what it scanned.
//   scan_instructions WHICH SCANS    WHICH: 0 MemoryBackend, 1 Metered<Ttl<>>, 2 Ttl<>, 3 Metered<>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <kvstack/kvstack.hpp>

namespace kv = kvstack;

namespace {
std::string key_of(long i) {
  char b[32];
  std::snprintf(b, sizeof b, "key%012ld", i);
  return b;
}

template <class Store>
unsigned long fill_and_scan(Store&& store, int scans) {
  const std::string value(100, 'v');
  for (long i = 0; i < 100000; ++i) store.put(key_of(i), value).value();
  unsigned long bytes = 0, x = 3;
  for (int i = 0; i < scans; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::string prefix = key_of(static_cast<long>((x >> 33) % 100000) / 100 * 100).substr(0, 13);
    for (auto&& [k, v] : store.scan(kv::KeyRange::prefix(prefix))) bytes += k.size() + static_cast<unsigned char>(v.front());
  }
  return bytes;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const int which = std::atoi(argv[1]), scans = std::atoi(argv[2]);
  using Ttl = kv::Ttl<kv::MemoryBackend>;
  unsigned long r = 0;
  if (which == 0) r = fill_and_scan(kv::MemoryBackend{}, scans);
  if (which == 1) r = fill_and_scan(kv::Metered<Ttl>(Ttl(kv::MemoryBackend{})), scans);
  if (which == 2) r = fill_and_scan(Ttl(kv::MemoryBackend{}), scans);
  if (which == 3) r = fill_and_scan(kv::Metered<kv::MemoryBackend>(kv::MemoryBackend{}), scans);
  std::printf("%lu\n", r);
}
