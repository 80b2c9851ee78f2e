// kvstack::redis::DataStore<B, Clock> — Redis's data model (numbered databases of typed keys:
// string, list, hash, set, zset; each with an optional expiry) stored in any Backend, one backend
// entry per collection element, so that an element operation costs O(log n) on every engine
// (layout.hpp: how). Deleting or overwriting a collection is O(1) for the caller; `sweep()`
// reclaims the rest. Databases' mapping is cached in this process: share a backend between two
// DataStores, or two processes, only read-only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/redis/context.hpp>
#include <kvstack/redis/layout.hpp>
#include <kvstack/redis/meta.hpp>
#include <kvstack/redis/reply.hpp>
#include <kvstack/redis/session.hpp>

namespace kvstack::inline v0::redis {

/// What `sweep` removed.
struct SweepStats {
  std::size_t expired_keys = 0;
  std::size_t entries = 0;  ///< backend entries deleted, all kinds
  std::vector<KeyEvent> events;  ///< "expired", for each expired key, when keyspace events are on
};

/// Redis's data model over the Backend B. Commands run through `run` (see dispatcher.hpp for
/// `execute`); `sweep` reclaims deleted collections, flushed databases and expired keys.
template <Backend B, class Clock = std::chrono::system_clock>
class DataStore {
 public:
  struct Options {
    int databases = 16;
  };

  /// Opens the model stored in `backend` (a new one when empty).
  static Result<DataStore> open(B backend, Options options = {}, Clock clock = Clock()) {
    if (options.databases < 1 || options.databases > 1 << 20)
      return Error{errc::invalid_argument, "redis: databases must be between 1 and 2^20"};
    DataStore s(std::move(backend), clock);
    auto d = s.backend_.get("D");
    if (!d) return d.error();
    if (auto r = s.load_table(d.value(), options.databases); !r) return r.error();
    return s;
  }

  /// Reads the database table again, in a transaction (serialized with the commands'), and ends
  /// every WATCH (as if each watched key had changed): for a store whose backend others wrote to
  /// meanwhile, such as a replicated shard whose leadership was elsewhere.
  Result<void> reload() {
    auto& st = *state_;
    auto r = backend_.transact([&](auto& tx) -> Result<void> {
      auto d = tx.get("D");
      if (!d) return d.error();
      return load_table(d.value(), databases());
    });
    if (r) st.watches->touch_all();
    return r;
  }

  /// How a backend failure answers a command ("ERR " and the error's message unless set):
  /// for example a cluster member's redirect when its shard lost the leadership meanwhile.
  void on_failure(std::function<Reply(const Error&)> answer) { state_->on_failure = std::move(answer); }

  /// notify-keyspace-events: the classes of keyspace events commands raise (events:: bits; 0,
  /// the default, raises none and records nothing). Thread-safe; takes effect at the next transaction.
  void keyspace_events(unsigned flags) noexcept { state_->keyspace_events = flags; }
  unsigned keyspace_events() const noexcept { return state_->keyspace_events.load(); }

  /// A session for one client (its database, MULTI state and watched keys).
  Session session() const {
    Session s;
    s.table = state_->watches;
    return s;
  }

  int databases() const { return static_cast<int>(state_->phys_.size()); }

  B& backend() noexcept { return backend_; }
  const Clock& clock() const noexcept { return clock_; }

  /// Runs `fn(Ctx&) -> Reply` in one backend transaction: all of it or, on a backend failure,
  /// none of it (the error then answers as "ERR ...").
  template <class F>
  Reply run(Session& session, F&& fn) {
    Reply r;
    Session* s = &session;
    auto failure = run_each(std::span(&s, 1), [&](std::size_t, context& c) { r = fn(c); });
    if (!failure) return r;
    return state_->on_failure ? state_->on_failure(*failure) : reply::error("ERR " + failure->message());
  }

  /// Runs `fn(i, Ctx&)` for each of the (distinct) `sessions` in turn, each with a context of its
  /// own, all in one backend transaction: all of it or, on a backend failure, none of it (the
  /// error is returned).
  template <class F>
  std::optional<Error> run_each(std::span<Session* const> sessions, F&& fn) {
    auto& st = *state_;
    std::vector<std::vector<KeyEvent>> raised(sessions.size());
    auto result = backend_.transact([&](auto& tx) -> Result<void> {
      auto saved = std::pair(st.phys_, st.next_phys_);
      auto now = kvstack::detail::now_ms(clock_);
      std::vector<Touched> touched;
      for (std::size_t i = 0; i < sessions.size(); ++i) {
        context c(tx, st, *sessions[i], now);
        fn(i, c);
        c.flush();
        if (c.failed()) {
          std::tie(st.phys_, st.next_phys_) = saved;
          return *c.error();
        }
        std::ranges::move(c.touched(), std::back_inserter(touched));
        raised[i] = std::move(c.events());
      }
      st.watches->touch(touched);  // before the commit, so that an EXEC after it sees it
      return success();
    });
    if (!result) return result.error();
    for (std::size_t i = 0; i < sessions.size(); ++i)
      std::ranges::move(raised[i], std::back_inserter(sessions[i]->events));
    return std::nullopt;
  }

  /// Removes up to about `budget` backend entries left by deletes, flushes and expiries; call it
  /// again while it returns entries > 0.
  Result<SweepStats> sweep(std::size_t budget = 1024) {
    auto& st = *state_;
    Session session;
    SweepStats stats;
    auto r = backend_.transact([&](auto& tx) -> Result<void> {
      stats = {};
      context c(tx, st, session, kvstack::detail::now_ms(clock_));
      auto spend = [&](std::size_t n) { stats.entries += n; return stats.entries < budget; };
      // Expired keys, earliest first.
      std::vector<std::string> index;
      c.scan(KeyRange::between("X", [&] { std::string k(1, 'X'); detail::put_int<std::int64_t>(k, c.now() + 1); return k; }()).limit(budget),
             [&](std::string_view k, std::string_view) { index.emplace_back(k); return true; });
      for (auto& k : index) {
        auto deadline = detail::get_int<std::int64_t>(k, 1);
        auto m = c.raw(detail::get_int<std::uint32_t>(k, 9), std::string_view(k).substr(13));
        if (m && m->expiry == deadline) {
          c.raise(events::expired, "expired", m->db, m->key);
          c.drop(*m);
          ++stats.expired_keys;
        }
        c.erase(k);
        if (!spend(1)) break;
      }
      // Flushed databases: their keys' records, collections to the element sweep below.
      std::vector<std::string> flushed;
      c.scan(KeyRange::prefix("F"), [&](std::string_view k, std::string_view) { flushed.emplace_back(k); return true; });
      for (auto& f : flushed) {
        if (stats.entries >= budget) break;
        auto base = detail::meta_key(detail::get_int<std::uint32_t>(f, 1), "");
        std::vector<std::pair<std::string, std::string>> metas;
        c.scan(KeyRange::prefix(base).limit(budget - stats.entries + 1), [&](std::string_view k, std::string_view v) {
          metas.emplace_back(k, v);
          return true;
        });
        for (auto& [k, v] : metas) {
          if (auto m = Meta::decode(0, {}, v); m && m->is_collection()) c.put(detail::version_key('G', m->version), "");
          c.erase(k);
          if (!spend(1)) break;
        }
        if (stats.entries < budget) {
          c.erase(f);
          spend(1);
        }
      }
      // Deleted collections' elements.
      std::vector<std::string> garbage;
      c.scan(KeyRange::prefix("G"), [&](std::string_view k, std::string_view) {
        garbage.emplace_back(k);
        return garbage.size() < budget;
      });
      for (auto& g : garbage) {
        if (stats.entries >= budget) break;
        auto base = detail::version_key('E', detail::get_int<std::uint64_t>(g, 1));
        std::vector<std::string> elems;
        c.scan(KeyRange::prefix(base).limit(budget - stats.entries), [&](std::string_view k, std::string_view) {
          elems.emplace_back(k);
          return true;
        });
        for (auto& e : elems) c.erase(e);
        spend(elems.size());
        if (stats.entries < budget) {
          c.erase(g);
          spend(1);
        }
      }
      c.flush();
      if (c.failed()) return *c.error();
      st.watches->touch(c.touched());
      stats.events = std::move(c.events());
      return success();
    });
    if (!r) return r.error();
    return stats;
  }

 private:
  /// Sets the database table from the "D" record (`databases` of them; none stored: a new table);
  /// a malformed record leaves it as it was.
  Result<void> load_table(const std::optional<std::string>& d, int databases) {
    std::vector<std::uint32_t> phys;
    std::uint32_t next = 0;
    if (!d) {
      for (int i = 0; i < databases; ++i) phys.push_back(static_cast<std::uint32_t>(i));
      next = static_cast<std::uint32_t>(databases);
    } else {
      const auto& bytes = *d;
      if (bytes.size() < 8 || bytes.size() % 4 != 0)
        return Error{errc::corruption, "redis: the database table is " + std::to_string(bytes.size()) + " bytes"};
      next = detail::get_int<std::uint32_t>(bytes);
      for (std::size_t at = 4; at < bytes.size(); at += 4) phys.push_back(detail::get_int<std::uint32_t>(bytes, at));
      // More databases than stored: new ones get fresh ids; fewer: the extra ones stay stored.
      while (phys.size() < static_cast<std::size_t>(databases)) phys.push_back(next++);
      phys.resize(static_cast<std::size_t>(databases));
    }
    state_->phys_ = std::move(phys);
    state_->next_phys_ = next;
    return success();
  }

  struct State {
    std::vector<std::uint32_t> phys_;
    std::uint32_t next_phys_ = 0;
    std::shared_ptr<WatchTable> watches = std::make_shared<WatchTable>();
    std::atomic<unsigned> keyspace_events{0};
    std::function<Reply(const Error&)> on_failure;
    std::mt19937_64 rng_{0x6b7673746163ull};
    std::map<std::uint64_t, std::string> cursors_;  ///< SCAN cursors: where each goes on
    std::uint64_t next_cursor_ = 1;
  };

 public:
  /// What commands are handed: a view of the store inside one backend transaction.
  using context = Ctx<typename B::transaction, State>;

 private:
  DataStore(B backend, Clock clock) : backend_(std::move(backend)), clock_(clock), state_(std::make_unique<State>()) {}

  B backend_;
  Clock clock_;
  std::unique_ptr<State> state_;
};

}  // namespace kvstack::redis
