// copy_all between backends: everything arrives, in bounded batches, and errors surface.
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/copy.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;

TEST_CASE("copy_all copies every key in bounded batches", "[copy]") {
  MemoryBackend src;
  for (int i = 0; i < 5000; ++i) src.put("k" + std::to_string(i), std::string(static_cast<std::size_t>(i % 50), 'v')).value();
  src.put(std::string("\0\xff", 2), "").value();
  AnyBackend dst(MemoryBackend{});
  dst.put("k1", "old value").value();
  dst.put("only-in-dst", "kept").value();

  std::vector<CopyProgress> seen;
  auto copied = copy_all(src, dst, [&](CopyProgress p) { seen.push_back(p); }, 4096);
  CHECK(copied.value() == 5001);
  REQUIRE(seen.size() > 10);  // many small batches, not one
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].keys > seen[i - 1].keys);
  CHECK(seen.back().keys == 5001);

  auto expected = collect(src, KeyRange::all());
  auto got = collect(dst, KeyRange::all());
  std::erase_if(got, [](const auto& e) { return e.first == "only-in-dst"; });
  CHECK(got == expected);
  CHECK(dst.get("only-in-dst").value() == "kept");
  CHECK(copy_all(MemoryBackend{}, dst).value() == 0);  // an empty source, no callback needed
}

TEST_CASE("copy_all reports a source that cannot be read", "[copy]") {
  MemoryBackend moved;
  MemoryBackend keeper = std::move(moved);
  MemoryBackend dst;
  auto r = copy_all(moved, dst);  // NOLINT(bugprone-use-after-move): a closed source
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::closed);
  CHECK(collect(dst, KeyRange::all()).empty());
}

TEMPLATE_LIST_TEST_CASE("copy_all between every pair of engines", "[copy]", AllEngineTypes) {
  BackendFactory<TestType> source_factory;
  auto src = source_factory.open();
  WriteBatch batch;
  for (int i = 0; i < 3000; ++i) batch.put("k" + std::to_string(i), std::string(static_cast<std::size_t>(i % 300), 'v'));
  batch.put("", "the empty key").put(std::string(600, 'L'), "a long key");
  src.write(batch).value();
  const auto expected = collect(src, KeyRange::all());
  auto copy_to = [&]<class Dst>() {
    BackendFactory<Dst> factory;
    auto dst = factory.open();
    CHECK(copy_all(src, dst, nullptr, 64 << 10).value() == expected.size());
    CHECK(collect(dst, KeyRange::all()) == expected);
  };
  [&]<class... Dsts>(std::tuple<Dsts...>*) { (copy_to.template operator()<Dsts>(), ...); }(static_cast<AllEngineTypes*>(nullptr));
}
