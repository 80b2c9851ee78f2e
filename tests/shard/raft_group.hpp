// RaftGroup: a Raft group in one process over real engines, each member with its log store and
// App in a directory of its own, a LocalNetwork endpoint and a ReplicaRunner thread (used by the
// kill test and by benchmarks/raft_bench.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <kvstack/net/local_network.hpp>
#include <kvstack/net/replica_runner.hpp>
#include <kvstack/shard/shard.hpp>

namespace kvstack::test {

/// Polls `done()` every millisecond until it holds or `timeout` passes; returns whether it held.
template <class F>
bool wait_for_condition(F&& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Members 1..n of a Raft group over engine B (App: B, or a wrapper of it), running.
template <class B, class App = B>
class RaftGroup {
 public:
  using S = Shard<BackendLog<B>, App, Raft>;

  /// Opens (or reopens) member i's stores as `open(dir / i / "log")` and
  /// `App(open(dir / i / "app"))`, and starts every runner with `tick` as its clock.
  template <class Open>
  static Result<std::unique_ptr<RaftGroup>> open(const std::filesystem::path& dir, std::uint64_t n, Open open,
                                                 RaftConfig config = {},
                                                 std::chrono::milliseconds tick = std::chrono::milliseconds(10)) {
    std::unique_ptr<RaftGroup> g(new RaftGroup);
    for (std::uint64_t id = 1; id <= n; ++id) config.voters.push_back(id);
    for (std::uint64_t id = 1; id <= n; ++id) {
      const auto at = dir / std::to_string(id);
      std::filesystem::create_directories(at);
      auto log_store = open(at / "log");
      if (!log_store) return log_store.error();
      auto app = open(at / "app");
      if (!app) return app.error();
      auto m = std::make_unique<Member>(g->network_.endpoint(id), std::move(log_store).value());
      config.id = id;
      config.seed = id;
      auto shard = S::open(BackendLog<B>{*m->log_store, "log"}, App(std::move(app).value()), Raft{config});
      if (!shard) return shard.error();
      m->shard.emplace(std::move(shard).value());
      g->members_.push_back(std::move(m));
    }
    for (auto& m : g->members_) m->runner = std::make_unique<Runner>(*m->shard, m->net, tick);
    return g;
  }
  RaftGroup(const RaftGroup&) = delete;
  RaftGroup& operator=(const RaftGroup&) = delete;
  ~RaftGroup() { stop(); }  // runners stop before what they drive

  std::uint64_t size() const { return members_.size(); }
  S& shard(std::uint64_t id) { return *members_.at(id - 1)->shard; }

  /// The member that leads in the highest term, waiting up to `timeout` for one; nullptr if none.
  S* leader(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    S* found = nullptr;
    wait_for_condition([&] {
      std::uint64_t term = 0;
      found = nullptr;
      for (auto& m : members_)
        if (auto st = m->shard->status(); st.role == Role::leader && st.term >= term) found = &*m->shard, term = st.term;
      return found != nullptr;
    }, timeout);
    return found;
  }
  /// Puts `key` at the leader, again at the next leader if leadership moved meanwhile (a
  /// not_leader error), up to `attempts` times; returns the index the put applied at.
  Result<std::uint64_t> put_at_leader(std::string_view key, std::string_view value, int attempts = 5) {
    Result<void> r = Error{errc::not_leader, "no leader within 30 s"};
    for (int i = 0; i < attempts; ++i) {
      S* leader = this->leader();
      if (!leader) break;
      if (r = leader->put(key, value); r) return leader->status().applied;
      if (r.error().code() != errc::not_leader) break;
    }
    return r.error();
  }
  /// Stops the runners: the members stay as they are, to be read.
  void stop() {
    for (auto& m : members_) m->runner.reset();
  }
  /// Waits until every member has applied `index`; false after `timeout`.
  bool wait_applied(std::uint64_t index, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait_for_condition([&] {
      for (auto& m : members_)
        if (m->shard->status().applied < index) return false;
      return true;
    }, timeout);
  }
  /// The errors the (running) runners saw, one line each.
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (auto& m : members_)
      if (auto e = m->runner ? m->runner->last_error() : std::nullopt) out.push_back(e->message());
    return out;
  }

 private:
  using Runner = ReplicaRunner<S, LocalNetwork::Endpoint>;
  struct Member {
    Member(LocalNetwork::Endpoint n, B log) : net(n), log_store(std::make_unique<B>(std::move(log))) {}
    LocalNetwork::Endpoint net;
    std::unique_ptr<B> log_store;
    std::optional<S> shard;
    std::unique_ptr<Runner> runner;
  };
  RaftGroup() = default;

  LocalNetwork network_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace kvstack::test
