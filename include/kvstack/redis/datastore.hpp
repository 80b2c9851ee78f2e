// kvstack::redis::DataStore<B, Clock> — Redis's data model (numbered databases of typed keys:
// string, list, hash, set, zset; each with an optional expiry) stored in any Backend, one backend
// entry per collection element, so that an element operation costs O(log n) on every engine.
//
// Layout in B (integers big-endian, so that they sort as numbers):
//   M db:u32 key            -> metadata: format 1, type, expiry ms (0: none), then
//                              string: the value; collection: version u64, size i64, head i64
//   E version:u64 sub       -> one element (hash: field -> value; set: member -> "";
//                              list: position i64 -> value; zset: 'm' member -> score,
//                              's' score member -> "")
//   G version:u64           -> "": a deleted collection whose elements the sweep removes
//   F db:u32                -> "": a flushed database whose keys the sweep removes
//   X deadline:i64 db key   -> "": the expiry index the sweep walks, earliest first
//   V                       -> the last version given out (every new collection takes the next,
//                              so a key recreated after deletion never sees old elements)
//   D                       -> logical database -> physical id, and the next free id: FLUSHDB
//                              and SWAPDB change this record only (O(1)); the sweep reclaims
// Deleting or overwriting a collection is O(1) for the caller; `sweep()` reclaims the rest.
// Databases' mapping is cached in this process: share a backend between two DataStores, or two
// processes, only read-only.
#pragma once

#include <atomic>
#include <bit>
#include <algorithm>
#include <chrono>
#include <iterator>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

enum class Type : std::uint8_t { string = 1, list, hash, set, zset };

inline std::string_view type_name(Type t) {
  constexpr std::string_view names[] = {"none", "string", "list", "hash", "set", "zset"};
  return names[static_cast<int>(t)];
}

namespace detail {
inline constexpr std::uint8_t format_version = 1;

inline void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
inline std::uint64_t get_u64(std::string_view s, std::size_t at = 0) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}
inline std::uint32_t get_u32(std::string_view s, std::size_t at = 0) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}
/// Signed integers ordered as unsigned bytes: the sign bit flipped.
inline void put_i64(std::string& out, std::int64_t v) { put_u64(out, static_cast<std::uint64_t>(v) ^ (1ull << 63)); }
inline std::int64_t get_i64(std::string_view s, std::size_t at = 0) {
  return static_cast<std::int64_t>(get_u64(s, at) ^ (1ull << 63));
}
/// Doubles ordered as unsigned bytes: negatives have every bit flipped, the rest the sign bit.
inline void put_double(std::string& out, double d) {
  if (d == 0) d = 0;  // -0 and 0 are one score
  auto bits = std::bit_cast<std::uint64_t>(d);
  put_u64(out, bits >> 63 ? ~bits : bits | (1ull << 63));
}
inline double get_double(std::string_view s, std::size_t at = 0) {
  auto bits = get_u64(s, at);
  return std::bit_cast<double>(bits >> 63 ? bits & ~(1ull << 63) : ~bits);
}

inline std::string meta_key(std::uint32_t db, std::string_view key) {
  std::string k(1, 'M');
  put_u32(k, db);
  k.append(key);
  return k;
}
inline std::string version_key(char tag, std::uint64_t version) {
  std::string k(1, tag);
  put_u64(k, version);
  return k;
}
inline std::string expiry_key(std::int64_t deadline, std::uint32_t db, std::string_view key) {
  std::string k(1, 'X');
  put_i64(k, deadline);
  put_u32(k, db);
  k.append(key);
  return k;
}
}  // namespace detail

/// A key's metadata record, decoded.
struct Meta {
  std::string key;
  std::uint32_t db = 0;  ///< physical database id
  Type type = Type::string;
  std::int64_t expiry = 0;  ///< deadline in ms since the clock's epoch; 0: none
  std::uint64_t version = 0;
  std::int64_t size = 0;
  std::int64_t head = 0;  ///< list: position of the first element
  std::string value;      ///< string: the value
  std::int64_t stored_expiry = 0;

  bool is_collection() const noexcept { return type != Type::string; }

  std::string encode() const {
    std::string out;
    out.push_back(static_cast<char>(detail::format_version));
    out.push_back(static_cast<char>(type));
    detail::put_i64(out, expiry);
    if (type == Type::string) {
      out += value;
    } else {
      detail::put_u64(out, version);
      detail::put_i64(out, size);
      detail::put_i64(out, head);
    }
    return out;
  }
  static std::optional<Meta> decode(std::uint32_t db, std::string_view key, std::string_view bytes) {
    if (bytes.size() < 10 || static_cast<std::uint8_t>(bytes[0]) != detail::format_version) return std::nullopt;
    auto t = static_cast<std::uint8_t>(bytes[1]);
    if (t < 1 || t > 5) return std::nullopt;
    Meta m;
    m.key = key;
    m.db = db;
    m.type = static_cast<Type>(t);
    m.stored_expiry = m.expiry = detail::get_i64(bytes, 2);
    if (m.type == Type::string) {
      m.value = bytes.substr(10);
    } else {
      if (bytes.size() != 34) return std::nullopt;
      m.version = detail::get_u64(bytes, 10);
      m.size = detail::get_i64(bytes, 18);
      m.head = detail::get_i64(bytes, 26);
    }
    return m;
  }
};

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
  /// Bumps the watched keys among `keys`; a key of 4 bytes alone (a database id) bumps its database.
  void touch(const std::vector<std::string>& keys) {
    if (keys.empty() || empty()) return;
    std::lock_guard lock(mu_);
    for (auto& k : keys) {
      if (k.size() == 4) {
        for (auto& [w, e] : entries_)
          if (w.compare(0, 4, k) == 0) ++e.epoch;
      } else if (auto it = entries_.find(k); it != entries_.end()) {
        ++it->second.epoch;
      }
    }
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

/// One client's state: its database, a MULTI in progress, its WATCHed keys.
struct Session {
  struct Watch {
    std::string key;  ///< physical db ++ key, as WatchTable keys
    std::uint64_t epoch;
    std::int64_t expiry;
  };
  int db = 0;
  bool in_multi = false;
  bool multi_failed = false;  ///< a command queued in this MULTI was refused: EXEC aborts
  std::vector<std::vector<std::string>> queued;
  std::vector<Watch> watched;
  std::shared_ptr<WatchTable> table;

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
    }
    return *this;
  }
  ~Session() { unwatch(); }
  void unwatch() {
    if (table)
      for (auto& w : watched) table->unwatch(w.key);
    watched.clear();
  }
};

/// What `sweep` removed.
struct SweepStats {
  std::size_t expired_keys = 0;
  std::size_t entries = 0;  ///< backend entries deleted, all kinds
};

/// A command's view of the store inside one backend transaction. Backend failures are sticky:
/// the first one is kept, later reads find nothing and writes do nothing, and the transaction
/// is rolled back with that error, so commands are written without error plumbing.
template <class Tx, class Store>
class Ctx {
 public:
  Ctx(Tx& tx, Store& store, Session& session, std::int64_t now) : tx_(tx), store_(store), session_(session), now_(now) {}

  Session& session() { return session_; }
  std::int64_t now() const { return now_; }
  int databases() const { return static_cast<int>(store_.phys_.size()); }
  std::uint32_t phys(int db) const { return store_.phys_[static_cast<std::size_t>(db)]; }
  std::mt19937_64& rng() { return store_.rng_; }
  bool failed() const { return error_.has_value(); }
  const std::optional<Error>& error() const { return error_; }
  void fail(Error e) {
    if (!error_) error_ = std::move(e);
  }
  std::vector<std::string>& touched() { return touched_; }

  /// SCAN cursors: a number the client passes back, standing for where its scan goes on (the
  /// last 65,536 are kept; an older one is "ERR invalid cursor"). 0 is the start.
  std::uint64_t save_cursor(std::string position) {
    auto& cs = store_.cursors_;
    if (cs.size() >= 65536) cs.erase(cs.begin());
    auto id = store_.next_cursor_++;
    cs.emplace(id, std::move(position));
    return id;
  }
  std::optional<std::string> cursor(std::uint64_t id) const {
    if (id == 0) return std::string();
    auto it = store_.cursors_.find(id);
    if (it == store_.cursors_.end()) return std::nullopt;
    return it->second;
  }

  /// An element of `m` picked at random (by seeking a random sub-key, so not exactly uniform),
  /// among the sub-keys starting with `prefix`.
  std::optional<std::pair<std::string, std::string>> random_elem(const Meta& m, std::string_view prefix = {}) {
    std::string at(prefix);
    put_random(at);
    auto upper = prefix.empty() ? std::nullopt : KeyRange::prefix_successor(prefix);
    std::optional<std::string_view> hi;
    if (upper) hi = *upper;
    auto hit = elems(m, at, hi, false, 1);
    if (hit.empty()) hit = elems(m, prefix, hi, false, 1);
    if (hit.empty()) return std::nullopt;
    return hit.front();
  }
  void put_random(std::string& s) { detail::put_u64(s, store_.rng_()); }

  /// The live key `key` in the session's database (or `db`), or nullopt (absent or expired).
  std::optional<Meta> find(std::string_view key) { return find_in(session_.db, key); }
  std::optional<Meta> find_in(int db, std::string_view key) {
    auto m = raw(phys(db), key);
    if (m && m->expiry != 0 && now_ >= m->expiry) return std::nullopt;
    return m;
  }

  /// A new, empty key of type `t` (not stored until `save`), replacing whatever `key` held.
  Meta create(std::string_view key, Type t) { return create_in(session_.db, key, t); }
  Meta create_in(int db, std::string_view key, Type t) {
    Meta m;
    m.key = key;
    m.db = phys(db);
    m.type = t;
    // What a command's find() just read, unless written since: one lookup less per write.
    auto mk = detail::meta_key(m.db, key);
    if (!last_ || last_->meta_key != mk) raw(m.db, key);
    if (last_ && last_->meta_key == mk) {
      m.stored_expiry = last_->expiry;
      if (last_->collection) put(detail::version_key('G', last_->version), "");
    }
    if (t != Type::string) m.version = next_version();
    return m;
  }
  /// Stores `m`; indexes its expiry when that changed.
  void save(Meta& m) {
    put(detail::meta_key(m.db, m.key), m.encode());
    if (m.expiry != 0 && m.expiry != m.stored_expiry) put(detail::expiry_key(m.expiry, m.db, m.key), "");
    m.stored_expiry = m.expiry;
    touch(m);
  }
  /// Saves `m`, or deletes it when a collection is left empty (Redis deletes empty collections).
  void save_or_drop(Meta& m) {
    if (m.is_collection() && m.size == 0) drop(m);
    else save(m);
  }
  /// Deletes the key; its elements go to the sweep.
  void drop(const Meta& m) {
    erase(detail::meta_key(m.db, m.key));
    if (m.is_collection()) put(detail::version_key('G', m.version), "");
    touch(m);
  }

  /// Moves key `m` to `key` in database `db`, replacing what is there; its elements stay.
  void move_key(Meta m, int db, std::string_view key) {
    auto dst = raw(phys(db), key);
    if (dst && dst->is_collection()) put(detail::version_key('G', dst->version), "");
    erase(detail::meta_key(m.db, m.key));
    touch(m);
    m.db = phys(db);
    m.key = key;
    m.stored_expiry = 0;
    save(m);
  }

  // Elements of a collection, by their sub-key.
  std::optional<std::string> elem(const Meta& m, std::string_view sub) {
    if (failed()) return std::nullopt;
    auto v = tx_.get(elem_key(m, sub));
    if (!v) return fail(v.error()), std::nullopt;
    return std::move(v).value();
  }
  void put_elem(const Meta& m, std::string_view sub, std::string_view value) {
    put(elem_key(m, sub), value);
    touch(m);
  }
  bool erase_elem(const Meta& m, std::string_view sub) {
    touch(m);
    return erase(elem_key(m, sub));
  }
  /// Elements with sub-keys in [lo, hi) (hi nullopt: to the end), in order or reversed, at most
  /// `limit`, as (sub-key, value) pairs.
  std::vector<std::pair<std::string, std::string>> elems(const Meta& m, std::string_view lo = {},
                                                         std::optional<std::string_view> hi = std::nullopt,
                                                         bool reverse = false,
                                                         std::size_t limit = KeyRange::unlimited) {
    auto base = detail::version_key('E', m.version);
    auto range = hi ? KeyRange::between(base + std::string(lo), base + std::string(*hi))
                    : (lo.empty() ? KeyRange::prefix(base) : KeyRange::between(base + std::string(lo), *KeyRange::prefix_successor(base)));
    if (reverse) range = range.reverse();
    std::vector<std::pair<std::string, std::string>> out;
    scan(range.limit(limit), [&](std::string_view k, std::string_view v) {
      out.emplace_back(k.substr(base.size()), v);
      return true;
    });
    return out;
  }

  /// Calls `fn(key, value) -> bool` (false stops) for the backend entries in `range`.
  template <class F>
  void scan(const KeyRange& range, F&& fn) {
    if (failed()) return;
    auto entries = tx_.scan(range);
    for (auto&& [k, v] : entries)
      if (!fn(std::string_view(k), std::string_view(v))) break;
    if (auto s = entries.status(); !s) fail(s.error());
  }

  /// The live keys of database `db` from `start` on (exclusive when `after`), at most `limit`.
  std::vector<Meta> keys(int db, std::string_view start, bool after, std::size_t limit) {
    auto base = detail::meta_key(phys(db), "");
    std::string lo = base + std::string(start);
    if (after) lo.push_back('\0');
    std::vector<Meta> out;
    scan(KeyRange::between(lo, *KeyRange::prefix_successor(base)), [&](std::string_view k, std::string_view v) {
      auto m = Meta::decode(phys(db), k.substr(base.size()), v);
      if (!m) return corrupt(k), false;
      if (m->expiry == 0 || now_ < m->expiry) out.push_back(std::move(*m));
      return out.size() < limit;
    });
    return out;
  }

  /// FLUSHDB: database `db` gets a fresh, empty id; the old one goes to the sweep.
  void flush(int db) {
    auto& phys = store_.phys_[static_cast<std::size_t>(db)];
    touched_.push_back(id_key(phys));
    std::string f(1, 'F');
    detail::put_u32(f, phys);
    put(f, "");
    phys = store_.next_phys_++;
    save_databases();
  }
  void swap(int a, int b) {
    touched_.push_back(id_key(phys(a)));
    touched_.push_back(id_key(phys(b)));
    std::swap(store_.phys_[static_cast<std::size_t>(a)], store_.phys_[static_cast<std::size_t>(b)]);
    save_databases();
  }

  // Low level, for the store's own maintenance.
  static std::string id_key(std::uint32_t phys) {
    std::string k;
    detail::put_u32(k, phys);
    return k;
  }
  void touch(const Meta& m) {
    if (!store_.watches->empty()) touched_.push_back(id_key(m.db) + m.key);
  }
  void corrupt(std::string_view key) {
    fail(Error{errc::corruption, "redis: a metadata record of " + std::to_string(key.size()) + "-byte key is not format " +
                                     std::to_string(detail::format_version)});
  }
  std::optional<Meta> raw(std::uint32_t db, std::string_view key) {
    if (failed()) return std::nullopt;
    auto mk = detail::meta_key(db, key);
    std::optional<Meta> m;
    bool bad = false;
    auto found = tx_.get(mk, [&](std::string_view v) {
      m = Meta::decode(db, key, v);
      bad = !m;
    });
    if (!found) fail(found.error());
    if (bad) corrupt(mk);
    last_ = Last{std::move(mk), m && m->is_collection(), m ? m->version : 0, m ? m->expiry : 0};
    return m;
  }
  std::string elem_key(const Meta& m, std::string_view sub) {
    auto k = detail::version_key('E', m.version);
    k.append(sub);
    return k;
  }
  std::uint64_t next_version() {
    std::uint64_t v = 0;
    if (failed()) return 0;
    auto got = tx_.get("V", [&](std::string_view s) { v = s.size() == 8 ? detail::get_u64(s) : 0; });
    if (!got) return fail(got.error()), 0;
    std::string next;
    detail::put_u64(next, ++v);
    put("V", next);
    return v;
  }
  void save_databases() {
    std::string d;
    detail::put_u32(d, store_.next_phys_);
    for (auto p : store_.phys_) detail::put_u32(d, p);
    put("D", d);
  }
  void put(std::string_view k, std::string_view v) {
    if (failed()) return;
    if (last_ && last_->meta_key == k) last_.reset();
    if (auto r = tx_.put(k, v); !r) fail(r.error());
  }
  bool erase(std::string_view k) {
    if (failed()) return false;
    if (last_ && last_->meta_key == k) last_.reset();
    auto r = tx_.erase(k);
    if (!r) return fail(r.error()), false;
    return r.value();
  }

 private:
  Tx& tx_;
  Store& store_;
  Session& session_;
  std::int64_t now_;
  std::optional<Error> error_;
  std::vector<std::string> touched_;
  struct Last {  // the last metadata record raw() read
    std::string meta_key;
    bool collection;
    std::uint64_t version;
    std::int64_t expiry;
  };
  std::optional<Last> last_;
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
    auto& st = *s.state_;
    if (!d.value()) {
      st.phys_.resize(static_cast<std::size_t>(options.databases));
      for (std::size_t i = 0; i < st.phys_.size(); ++i) st.phys_[i] = static_cast<std::uint32_t>(i);
      st.next_phys_ = static_cast<std::uint32_t>(options.databases);
    } else {
      const auto& bytes = *d.value();
      if (bytes.size() < 8 || bytes.size() % 4 != 0)
        return Error{errc::corruption, "redis: the database table is " + std::to_string(bytes.size()) + " bytes"};
      st.next_phys_ = detail::get_u32(bytes);
      for (std::size_t at = 4; at < bytes.size(); at += 4) st.phys_.push_back(detail::get_u32(bytes, at));
      // More databases than stored: new ones get fresh ids; fewer: the extra ones stay stored.
      while (st.phys_.size() < static_cast<std::size_t>(options.databases)) st.phys_.push_back(st.next_phys_++);
      st.phys_.resize(static_cast<std::size_t>(options.databases));
    }
    return s;
  }

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
    return failure ? reply::error("ERR " + failure->message()) : r;
  }

  /// Runs `fn(i, Ctx&)` for each of the (distinct) `sessions` in turn, each with a context of its
  /// own, all in one backend transaction: all of it or, on a backend failure, none of it (the
  /// error is returned).
  template <class F>
  std::optional<Error> run_each(std::span<Session* const> sessions, F&& fn) {
    auto& st = *state_;
    auto result = backend_.transact([&](auto& tx) -> Result<void> {
      auto saved = std::pair(st.phys_, st.next_phys_);
      auto now = kvstack::detail::now_ms(clock_);
      std::vector<std::string> touched;
      for (std::size_t i = 0; i < sessions.size(); ++i) {
        context c(tx, st, *sessions[i], now);
        fn(i, c);
        if (c.failed()) {
          std::tie(st.phys_, st.next_phys_) = saved;
          return *c.error();
        }
        std::ranges::move(c.touched(), std::back_inserter(touched));
      }
      st.watches->touch(touched);  // before the commit, so that an EXEC after it sees it
      return success();
    });
    if (!result) return result.error();
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
      c.scan(KeyRange::between("X", [&] { std::string k(1, 'X'); detail::put_i64(k, c.now() + 1); return k; }()).limit(budget),
             [&](std::string_view k, std::string_view) { index.emplace_back(k); return true; });
      for (auto& k : index) {
        auto deadline = detail::get_i64(k, 1);
        auto m = c.raw(detail::get_u32(k, 9), std::string_view(k).substr(13));
        if (m && m->expiry == deadline) {
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
        auto base = detail::meta_key(detail::get_u32(f, 1), "");
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
        auto base = detail::version_key('E', detail::get_u64(g, 1));
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
      if (c.failed()) return *c.error();
      st.watches->touch(c.touched());
      return success();
    });
    if (!r) return r.error();
    return stats;
  }

 private:
  struct State {
    std::vector<std::uint32_t> phys_;
    std::uint32_t next_phys_ = 0;
    std::shared_ptr<WatchTable> watches = std::make_shared<WatchTable>();
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
