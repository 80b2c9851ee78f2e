// kvstack::redis::Session and WatchTable — one client's state (its database, a MULTI in progress,
// its WATCHed keys), and the keys all sessions watch, with what writes touched.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <kvstack/redis/command_stats.hpp>
#include <kvstack/redis/events.hpp>
#include <kvstack/redis/layout.hpp>

namespace kvstack::inline v0::redis {

class Scripts;  // redis/scripts.hpp, with Lua

/// What a write touched, for WATCH: one key of a database.
struct Touched {
  std::uint32_t db = 0;  ///< physical database id
  std::string key;
};

/// How WatchTable names a watched key: its physical database id, then the key.
inline std::string watch_key(std::uint32_t db, std::string_view key) {
  std::string k;
  detail::put_int<std::uint32_t>(k, db);
  k.append(key);
  return k;
}

/// Keys watched by sessions (WATCH), with a counter bumped by every write to one of them.
class WatchTable {
 public:
  std::uint64_t watch(const std::string& k) {
    std::lock_guard lock(mu_);
    auto& e = entries_[k];
    ++e.refs;
    count_.store(entries_.size(), std::memory_order_relaxed);
    return e.epoch;
  }
  void unwatch(const std::string& k) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(k); it != entries_.end() && --it->second.refs == 0) entries_.erase(it);
    count_.store(entries_.size(), std::memory_order_relaxed);
  }
  std::uint64_t epoch(const std::string& k) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(k);
    return it == entries_.end() ? 0 : it->second.epoch;
  }
  /// Whether no key is watched. Transactions are serialized, so none starts watching while a
  /// command runs: a command may skip recording what it touches.
  bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }
  /// Bumps every watched key.
  void touch_all() {
    std::lock_guard lock(mu_);
    for (auto& [k, e] : entries_) ++e.epoch;
  }
  /// Bumps the watched keys among `touched`.
  void touch(const std::vector<Touched>& touched) {
    if (touched.empty() || empty()) return;
    std::lock_guard lock(mu_);
    for (const auto& t : touched)
      if (auto it = entries_.find(watch_key(t.db, t.key)); it != entries_.end()) ++it->second.epoch;
  }
  /// The keys watched in (physical) database `db`.
  std::vector<std::string> keys_in(std::uint32_t db) const {
    const std::string id = watch_key(db, {});
    std::vector<std::string> out;
    std::lock_guard lock(mu_);
    for (auto& [w, e] : entries_)
      if (w.compare(0, id.size(), id) == 0) out.push_back(w.substr(id.size()));
    return out;
  }

 private:
  struct Entry {
    std::uint64_t epoch = 1;
    int refs = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::atomic<std::size_t> count_{0};
};

/// Keys a blocked client waits on, watched in a WatchTable: `changed()` once a write touched one
/// of them since it began waiting (or a whole database, as FLUSHDB or SWAPDB).
class KeyWaits {
 public:
  KeyWaits() = default;
  explicit KeyWaits(std::shared_ptr<WatchTable> table) : table_(std::move(table)) {}
  KeyWaits(KeyWaits&& o) noexcept : table_(std::move(o.table_)), keys_(std::exchange(o.keys_, {})) {}
  KeyWaits& operator=(KeyWaits&& o) noexcept {
    if (this != &o) {
      clear();
      table_ = std::move(o.table_);
      keys_ = std::exchange(o.keys_, {});
    }
    return *this;
  }
  ~KeyWaits() { clear(); }

  /// Starts watching `key` (a watch_key).
  void add(std::string key) {
    auto epoch = table_->watch(key);
    keys_.emplace_back(std::move(key), epoch);
  }
  bool changed() const {
    for (auto& [k, epoch] : keys_)
      if (table_->epoch(k) != epoch) return true;
    return false;
  }
  void clear() {
    for (auto& [k, epoch] : keys_) table_->unwatch(k);
    keys_.clear();
  }

 private:
  std::shared_ptr<WatchTable> table_;
  std::vector<std::pair<std::string, std::uint64_t>> keys_;
};

/// One client's state: its database, a MULTI in progress, its WATCHed keys.
struct Session {
  struct Watch {
    std::string key;  ///< watch_key(physical db, key)
    std::uint64_t epoch;
    std::int64_t expiry;
  };
  int db = 0;
  bool in_multi = false;
  bool multi_failed = false;  ///< a command queued in this MULTI was refused: EXEC aborts
  std::vector<std::vector<std::string>> queued;
  std::vector<Watch> watched;
  std::shared_ptr<WatchTable> table;
  CommandStats* stats = nullptr;  ///< where its commands are counted and timed, if anywhere
  Scripts* scripts = nullptr;     ///< where EVAL finds its scripts (shared by sessions); none: EVAL is off
  std::vector<KeyEvent> events;   ///< keyspace events its committed commands raised, for a server to publish

  Session() = default;
  Session(Session&&) noexcept = default;
  Session& operator=(Session&& o) noexcept {
    if (this != &o) {
      unwatch();
      db = o.db;
      in_multi = o.in_multi;
      multi_failed = o.multi_failed;
      queued = std::move(o.queued);
      watched = std::exchange(o.watched, {});
      table = std::move(o.table);
      stats = o.stats;
      scripts = o.scripts;
      events = std::move(o.events);
    }
    return *this;
  }
  ~Session() { unwatch(); }
  void unwatch() {
    if (table)
      for (auto& w : watched) table->unwatch(w.key);
    watched.clear();
  }
  /// Ends a MULTI in progress and the watches (the database stays selected).
  void reset() {
    queued.clear();
    in_multi = multi_failed = false;
    unwatch();
  }
};

}  // namespace kvstack::redis
