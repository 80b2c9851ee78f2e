// Lists in chunks (redis/list_chunk.hpp): the chunk encoding at its limits and on damaged bytes,
// and long lists of small and large elements answering every list command as a std::deque does.
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/redis/list_chunk.hpp>

#include "redis/redis_fixture.hpp"

using namespace kvstack;
using namespace kvstack::test;
namespace reply = redis::reply;

TEST_CASE("list chunks: push and pop at both ends, limits, damaged bytes", "[redis][lists]") {
  using namespace redis::detail;
  std::string chunk;
  CHECK(chunk_has_room(chunk, 1 << 20));  // a chunk of its own
  chunk_push(chunk, false, "b");
  chunk_push(chunk, true, "a");
  chunk_push(chunk, false, std::string(300, 'c'));  // a two-byte length
  CHECK(chunk_count(chunk) == 3);
  auto elements = chunk_elements(chunk);
  REQUIRE(elements);
  CHECK(*elements == std::vector<std::string_view>{"a", "b", std::string(300, 'c')});
  CHECK(make_chunk(*elements) == chunk);
  CHECK(chunk_pop(chunk, false) == std::string(300, 'c'));
  CHECK(chunk_pop(chunk, true) == "a");
  CHECK(chunk_elements(chunk) == std::vector<std::string_view>{"b"});
  CHECK(chunk_pop(chunk, true) == "b");
  CHECK(chunk_count(chunk) == 0);
  CHECK(!chunk_pop(chunk, true));

  SECTION("a chunk is full at chunk_max_count elements or chunk_max_bytes") {
    std::string small;
    for (std::uint32_t i = 0; i < chunk_max_count; ++i) {
      CHECK(chunk_has_room(small, 1));
      chunk_push(small, i % 2 == 0, "x");
    }
    CHECK(!chunk_has_room(small, 1));
    std::string big;
    chunk_push(big, false, std::string(chunk_max_bytes / 2, 'x'));
    CHECK(chunk_has_room(big, chunk_max_bytes / 4));
    CHECK(!chunk_has_room(big, chunk_max_bytes / 2));
  }
  SECTION("damaged chunks are reported, never read past their end") {
    std::string good;
    chunk_push(good, false, "hello");
    chunk_push(good, false, "world");
    std::string bad_count = good;
    bad_count[3] = 3;  // says 3, holds 2
    CHECK(!chunk_elements(bad_count));  // (a pop reads only its end, and does not see it)
    std::string extra = good + "z";  // bytes after the last element
    CHECK(!chunk_elements(extra));
    std::string cut = good.substr(0, good.size() - 2);
    CHECK(!chunk_elements(cut));
    CHECK(!chunk_pop(cut, false));
    CHECK(!chunk_elements("ab"));  // shorter than the header
    std::string huge_length = good.substr(0, 4) + "\xff\xff\xff\xff\x0f" + "x";
    CHECK(!chunk_elements(huge_length));
    CHECK(!chunk_pop(huge_length, true));
    CHECK(!chunk_pop(huge_length, false));
    std::string back_differs = good;
    back_differs.back() = 4;  // "world"'s length, as read from the end
    CHECK(!chunk_pop(back_differs, false));
    CHECK(chunk_pop(back_differs, true) == "hello");
  }
}

namespace {
std::string text(const redis::Reply& r) { return redis::to_text(r); }
std::string list_text(const std::deque<std::string>& l, std::int64_t start, std::int64_t stop) {
  std::vector<redis::Reply> out;
  if (redis::detail::clamp_range(start, stop, static_cast<std::int64_t>(l.size())))
    for (auto i = start; i <= stop; ++i) out.push_back(reply::bulk(l[static_cast<std::size_t>(i)]));
  return text(reply::array(std::move(out)));
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("redis lists of many chunks answer as a deque", "[redis][lists]", StoreTypes) {
  RedisFixture<TestType> r;
  std::deque<std::string> model;
  const auto seed = GENERATE(1u, 2u);
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  std::uint64_t serial = 0;
  auto value = [&] {  // mostly small; some past a chunk's byte limit
    auto v = std::to_string(serial++) + ":";
    const auto size = pick(50) == 0 ? 9000 + pick(3000) : pick(20);
    return v + std::string(static_cast<std::size_t>(size), static_cast<char>('a' + pick(26)));
  };
  auto index = [&] {  // in range or just past either end, counted from either end
    const auto n = static_cast<std::int64_t>(model.size());
    return pick(static_cast<std::uint64_t>(n + 4)) - 2 - (pick(2) ? n : 0);
  };
  auto resolved = [&](std::int64_t i) { return i < 0 ? i + static_cast<std::int64_t>(model.size()) : i; };
  for (int step = 0; step < 3000; ++step) {
    INFO("seed " << seed << ", step " << step << ", size " << model.size());
    const auto op = pick(model.size() < 600 ? 12 : 16);
    if (op < 4) {  // LPUSH / RPUSH of a few
      const bool left = op < 2;
      std::vector<std::string> argv{left ? "LPUSH" : "RPUSH", "l"};
      for (auto n = pick(6) + 1; n > 0; --n) argv.push_back(value());
      for (std::size_t i = 2; i < argv.size(); ++i) left ? model.push_front(argv[i]) : model.push_back(argv[i]);
      CHECK(text(redis::execute(*r.store, r.session, argv)) == ":" + std::to_string(model.size()));
    } else if (op < 6) {  // LINDEX
      const auto i = index(), at = resolved(i);
      const bool in = at >= 0 && at < static_cast<std::int64_t>(model.size());
      CHECK(r({"LINDEX", "l", std::to_string(i)}) == (in ? text(reply::bulk(model[static_cast<std::size_t>(at)])) : "(nil)"));
    } else if (op < 8) {  // LRANGE
      const auto start = index(), stop = index();
      CHECK(r({"LRANGE", "l", std::to_string(start), std::to_string(stop)}) == list_text(model, start, stop));
    } else if (op < 9) {  // LSET
      const auto i = index(), at = resolved(i);
      const auto v = value();
      const bool in = at >= 0 && at < static_cast<std::int64_t>(model.size());
      if (in) model[static_cast<std::size_t>(at)] = v;
      CHECK(r({"LSET", "l", std::to_string(i), v}) ==
            (in ? "+OK" : model.empty() ? "-ERR no such key" : "-ERR index out of range"));
    } else if (op < 10) {  // LINSERT, LREM: the whole list rewritten
      if (model.empty()) continue;
      const auto pivot = model[static_cast<std::size_t>(pick(model.size()))];
      if (pick(2)) {
        const auto v = value();
        model.insert(std::find(model.begin(), model.end(), pivot), v);
        CHECK(r({"LINSERT", "l", "BEFORE", pivot, v}) == ":" + std::to_string(model.size()));
      } else {
        model.erase(std::find(model.begin(), model.end(), pivot));
        CHECK(r({"LREM", "l", "1", pivot}) == ":1");
      }
    } else if (op < 11) {  // LTRIM, keeping most
      const auto n = static_cast<std::int64_t>(model.size());
      const auto start = pick(5), stop = n - 1 - pick(5);
      std::deque<std::string> kept;
      for (auto i = start; i <= stop; ++i) kept.push_back(model[static_cast<std::size_t>(i)]);
      model = kept;
      CHECK(r({"LTRIM", "l", std::to_string(start), std::to_string(stop)}) == "+OK");
    } else if (op < 12) {
      CHECK(r({"LLEN", "l"}) == ":" + std::to_string(model.size()));
    } else {  // LPOP / RPOP, of one or a few
      const bool left = op < 14;
      const auto count = pick(3) == 0 ? pick(300) + 1 : 0;
      std::vector<redis::Reply> popped;
      for (auto n = std::max<std::int64_t>(count, 1); n > 0 && !model.empty(); --n) {
        popped.push_back(reply::bulk(left ? model.front() : model.back()));
        left ? model.pop_front() : model.pop_back();
      }
      const auto expected = count ? text(reply::array(std::move(popped))) : popped.empty() ? "(nil)" : text(popped[0]);
      if (count) CHECK(r({left ? "LPOP" : "RPOP", "l", std::to_string(count)}) == expected);
      else CHECK(r({left ? "LPOP" : "RPOP", "l"}) == expected);
    }
    if (step % 500 == 499) {
      CHECK(r({"LRANGE", "l", "0", "-1"}) == list_text(model, 0, -1));
      auto dump = r.reply({"DUMP", "l"});
      if (!model.empty()) {
        CHECK(r({"RESTORE", "copy", "0", dump.text, "REPLACE"}) == "+OK");
        CHECK(r({"LRANGE", "copy", "0", "-1"}) == list_text(model, 0, -1));
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("redis lists: a push or pop rewrites one chunk, not a record per element", "[redis][lists]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  for (int i = 0; i < 1000; ++i) CHECK(r({"RPUSH", "l", std::to_string(i)}) == ":" + std::to_string(i + 1));
  auto records = [&] {
    std::size_t n = 0;
    auto elements = r.store->backend().scan(KeyRange::prefix("E"));
    for (auto&& kv : elements) (void)kv, ++n;
    return n;
  };
  const auto chunks = (1000 + redis::detail::chunk_max_count - 1) / redis::detail::chunk_max_count;
  CHECK(records() == chunks);
  CHECK(r({"LINDEX", "l", "500"}) == "\"500\"");
  CHECK(r({"LPOP", "l", "200"}).size() > 0);
  CHECK(r({"LINDEX", "l", "0"}) == "\"200\"");
  CHECK(records() <= chunks);
}

TEMPLATE_LIST_TEST_CASE("redis lists: a damaged chunk or an old layout is an error, and nothing is lost", "[redis][lists]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"RPUSH", "l", "a", "b", "c"}) == ":3");
  CHECK(r({"SET", "other", "v"}) == "+OK");
  auto& backend = r.store->backend();
  std::string chunk_key;
  for (auto&& kv : backend.scan(KeyRange::prefix("E"))) chunk_key = kv.key;
  REQUIRE(!chunk_key.empty());
  const auto good = backend.get(chunk_key).value();
  REQUIRE(good);

  SECTION("a damaged chunk (a push adds to it without reading it)") {
    // Three elements, says its header; then a length past the end, read from either side.
    const auto damaged = good->substr(0, redis::detail::chunk_header) + "\x7f";
    REQUIRE(backend.put(chunk_key, damaged).has_value());
    const std::vector<std::vector<std::string>> commands = {{"LRANGE", "l", "0", "-1"}, {"LPOP", "l"},
                                                            {"RPOP", "l"},              {"LINDEX", "l", "0"},
                                                            {"LINDEX", "l", "-1"},      {"LSET", "l", "1", "x"},
                                                            {"LREM", "l", "0", "b"},    {"LTRIM", "l", "1", "-1"}};
    for (const auto& argv : commands) {
      const auto answer = text(redis::execute(*r.store, r.session, argv));
      INFO(argv[0] << ": " << answer);
      CHECK(answer.rfind("-ERR corruption: redis: a chunk of the list", 0) == 0);
    }
    CHECK(backend.get(chunk_key).value() == damaged);  // nothing written
    CHECK(r({"LLEN", "l"}) == ":3");
    CHECK(r({"GET", "other"}) == "\"v\"");
  }
  SECTION("a list of format 1, one element per record") {
    std::string old(1, '\x01');
    old += '\x02';  // list
    redis::detail::put_int<std::int64_t>(old, 0);
    redis::detail::put_int<std::uint64_t>(old, 1);
    redis::detail::put_int<std::int64_t>(old, 1);
    redis::detail::put_int<std::int64_t>(old, 0);
    REQUIRE(backend.put(redis::detail::meta_key(0, "old"), old).has_value());
    CHECK(r({"LLEN", "old"}).find("format (1; lists 2)") != std::string::npos);
    CHECK(r({"GET", "other"}) == "\"v\"");
  }
}
