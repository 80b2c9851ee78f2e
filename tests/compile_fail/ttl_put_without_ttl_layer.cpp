// A put with a time to live over a backend whose keys do not expire: one error saying to wrap it
// in kvstack::Ttl.
// expect: put with a time to live needs a backend whose keys expire: wrap the backend in kvstack::Ttl
#include <chrono>
#include <string>

#include <kvstack/kvstack.hpp>

#ifdef KVSTACK_COMPILE_FAIL
using Store = kvstack::MemoryBackend;
#else
using Store = kvstack::Ttl<kvstack::MemoryBackend>;
#endif

int main() {
  Store db{kvstack::MemoryBackend{}};
  kvstack::NamespacedRegistry<Store, std::string> sessions{db, "session"};
  sessions.put("a", "ann", std::chrono::seconds(30)).value();
}
