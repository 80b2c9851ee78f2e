// A DataStore over each engine with a ManualClock, and `r({"SET", "k", "v"})` answering the
// reply as one line of text (redis::to_text), for the command suites.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <kvstack/core/clock.hpp>
#include <kvstack/redis/redis.hpp>

#include "laws/backends.hpp"

namespace kvstack::test {

template <class B>
struct RedisFixture {
  using Store = redis::DataStore<B, ManualClock>;
  BackendFactory<B> factory;
  ManualClock clock{ManualClock::time_point(std::chrono::seconds(1'700'000'000))};
  std::optional<Store> store;
  redis::Session session;

  RedisFixture() { store.emplace(Store::open(factory.open(), {}, clock).value()), session = store->session(); }

  /// Closes the store and opens it again from what the engine kept.
  void reopen() {
    store.reset();
    store.emplace(Store::open(factory.reopen(), {}, clock).value());
    session = store->session();
  }

  std::string operator()(std::initializer_list<std::string_view> argv) {
    return redis::to_text(redis::execute(*store, session, argv));
  }
  /// The reply itself, for what its text would not show whole (a DUMP payload).
  redis::Reply reply(std::initializer_list<std::string_view> argv) { return redis::execute(*store, session, argv); }
  std::string operator()(redis::Session& s, std::initializer_list<std::string_view> argv) {
    return redis::to_text(redis::execute(*store, s, argv));
  }
};

}  // namespace kvstack::test
