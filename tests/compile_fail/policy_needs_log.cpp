// A policy that needs a log, given NoLog: the shard says so in one line.
// expect: this replication policy needs a log
#include <kvstack/kvstack.hpp>

namespace kv = kvstack;

int main() {
  kv::MemoryBackend log_store;
#ifdef KVSTACK_COMPILE_FAIL
  kv::NoLog log;
#else
  kv::BackendLog<kv::MemoryBackend> log{log_store, "log"};
#endif
  kv::Shard s{std::move(log), kv::MemoryBackend{}, kv::AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  return s.put("k", "v") ? 0 : 1;
}
