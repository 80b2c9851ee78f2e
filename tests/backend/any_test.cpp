// AnyBackend specifics (the laws run over it too): it holds the backend it was given.
#include <catch2/catch.hpp>

#include <kvstack/backend/any.hpp>

using namespace kvstack;

TEST_CASE("AnyBackend holds the backend it was given", "[any]") {
  MemoryBackend memory;
  memory.put("before", "1").value();
  AnyBackend any(std::move(memory));
  CHECK(any.get("before").value() == "1");
  REQUIRE(any.get_if<MemoryBackend>() != nullptr);
  any.put("after", "2").value();
  CHECK(any.get_if<MemoryBackend>()->get("after").value() == "2");
  auto scan = any.scan(KeyRange::all().reverse());
  std::vector<std::string> keys;
  for (auto&& [key, value] : scan) keys.emplace_back(key);
  scan.status().value();
  CHECK(keys == std::vector<std::string>{"before", "after"});
}
