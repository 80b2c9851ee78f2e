// A registry key type without a KeyCodec: one error saying what a key needs.
// expect: kvstack::NamespacedRegistry: Key needs a kvstack::KeyCodec
#include <cstdint>
#include <string>
#include <tuple>

#include <kvstack/kvstack.hpp>

#ifdef KVSTACK_COMPILE_FAIL
struct Id {  // no KeyCodec: keys must sort as bytes, so a struct needs one
  std::int64_t a;
  double b;
};
#else
using Id = std::tuple<std::int64_t, std::string>;
#endif

int main() {
  kvstack::MemoryBackend db;
  kvstack::NamespacedRegistry<kvstack::MemoryBackend, std::string, Id> names{db, "name"};
  names.put(Id{}, "x").value();
}
