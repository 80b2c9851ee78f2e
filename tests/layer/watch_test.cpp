// Watched<B>: events after commit, in commit order, one per operation; RAII subscriptions.
#include <atomic>
#include <chrono>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/core/clock.hpp>
#include <kvstack/layer/atomic.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;
using Catch::Matchers::Equals;
using Strings = std::vector<std::string>;

namespace {
std::string describe(const Event& e) {
  static const char* kinds[] = {"put", "erase", "expire"};
  return std::string(kinds[static_cast<int>(e.kind)]) + " " + std::string(e.key) +
         (e.value.empty() ? "" : "=" + std::string(e.value));
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("Watched: one event per committed operation, in order", "[watch]", EngineTypes) {
  BackendFactory<TestType> factory;
  Watched<TestType> db(factory.open());
  Strings seen, config_only;
  auto all = db.subscribe(KeyRange::all(), [&](const Event& e) { seen.push_back(describe(e)); });
  auto config = db.subscribe(KeyRange::prefix("config/"), [&](const Event& e) { config_only.push_back(describe(e)); });

  db.put("config/a", "1").value();
  db.put("other", "x").value();
  CHECK(db.erase("other").value());
  CHECK_FALSE(db.erase("other").value());  // nothing erased: no event
  db.write(WriteBatch{}.put("config/b", "2").erase("config/a").put("z", "3")).value();
  db.transact([](auto& tx) -> Result<void> {
      tx.put("t", "1").value();
      tx.put("t", "2").value();
      tx.erase("never").value();  // erased nothing: no event
      tx.erase("z").value();
      return success();
    }).value();
  auto failed = db.transact([](auto& tx) -> Result<void> {
    tx.put("config/rolled-back", "x").value();
    return Error{errc::conflict, "no"};
  });
  CHECK(failed.error() == errc::conflict);
  CHECK(compare_and_swap(db, "config/b", "2", "3").value());
  CHECK_FALSE(compare_and_swap(db, "config/b", "2", "4").value());

  CHECK_THAT(seen, Equals(Strings{"put config/a=1", "put other=x", "erase other", "put config/b=2", "erase config/a",
                                  "put z=3", "put t=1", "put t=2", "erase z", "put config/b=3"}));
  CHECK_THAT(config_only, Equals(Strings{"put config/a=1", "put config/b=2", "erase config/a", "put config/b=3"}));

  config.reset();
  all = {};
  db.put("config/c", "after").value();
  CHECK(seen.size() == 10);
  CHECK(config_only.size() == 4);
}

TEST_CASE("Watched: callbacks may write and unsubscribe, their own subscription included", "[watch]") {
  Watched<MemoryBackend> db(MemoryBackend{});
  Strings seen;
  Watched<MemoryBackend>::Subscription once, echo;
  once = db.subscribe(KeyRange::all(), [&](const Event& e) {
    seen.push_back("once " + describe(e));
    once.reset();  // from inside its own callback
  });
  echo = db.subscribe(KeyRange::prefix("in/"), [&](const Event& e) {
    seen.push_back("echo " + describe(e));
    if (e.kind == EventKind::put) db.put("out/" + std::string(e.key.substr(3)), e.value).value();  // a write in a callback
  });
  auto log = db.subscribe(KeyRange::all(), [&](const Event& e) { seen.push_back("log " + describe(e)); });
  db.put("in/1", "a").value();
  CHECK_THAT(seen, Equals(Strings{"once put in/1=a", "echo put in/1=a", "log put in/1=a", "log put out/1=a"}));
  CHECK_FALSE(once);
  // A subscription that outlives its Watched is harmless.
  auto outliving = std::make_unique<Watched<MemoryBackend>>(MemoryBackend{});
  auto sub = outliving->subscribe(KeyRange::all(), [](const Event&) {});
  outliving.reset();
  sub.reset();
  CHECK_FALSE(sub);
}

TEST_CASE("Watched over Ttl: expired keys are expire events", "[watch]") {
  ManualClock clock;
  Watched<Ttl<MemoryBackend, ManualClock>> db(Ttl<MemoryBackend, ManualClock>(MemoryBackend{}, clock));
  Strings seen;
  auto sub = db.subscribe(KeyRange::all(), [&](const Event& e) { seen.push_back(describe(e)); });
  db.put("session/1", "alice", 10s).value();
  db.put("session/2", "bob", 20s).value();
  db.put("session/3", "carol", 20s).value();
  CHECK(db.expire("session/3", 0ms).value());
  db.transact([](auto& tx) { return tx.put("session/4", "dave", 10s); }).value();
  clock.advance(10s);
  CHECK(db.purge_expired().value() == 2);
  clock.advance(10s);
  CHECK_FALSE(db.erase("session/2").value());  // found expired
  CHECK_THAT(seen, Equals(Strings{"put session/1=alice", "put session/2=bob", "put session/3=carol", "erase session/3",
                                  "put session/4=dave", "expire session/1=alice", "expire session/4=dave",
                                  "expire session/2=bob"}));
}

TEST_CASE("Watched: events follow commit order under concurrent writers", "[watch]") {
  Watched<MemoryBackend> db(MemoryBackend{});
  std::vector<std::int64_t> sequence;
  std::vector<std::vector<int>> per_thread(4);
  auto sub = db.subscribe(KeyRange::all(), [&](const Event& e) {  // delivery is one thread at a time
    if (e.key == "seq") sequence.push_back(std::stoll(std::string(e.value)));
    else if (e.key.size() == 2 && e.key[0] == 't')
      per_thread[static_cast<std::size_t>(e.key[1] - '0')].push_back(std::stoi(std::string(e.value)));
  });
  constexpr int per = 300;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < per; ++i) {
        increment(db, "seq").value();
        db.put("t" + std::to_string(t), std::to_string(i)).value();
      }
    });
  for (auto& w : writers) w.join();
  db.put("flush", "").value();  // deliveries still queued run before this returns (no one else is delivering)
  std::vector<std::int64_t> expected(4 * per);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(sequence == expected);  // each increment's event carries the next number: commit order
  std::vector<int> each(per);
  std::iota(each.begin(), each.end(), 0);
  for (auto& values : per_thread) CHECK(values == each);
}
