// kvstack::redis::Ctx — what a command is handed: its session and a view of the store inside one
// backend transaction, with the metadata, element and scan operations commands are written in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/redis/events.hpp>
#include <kvstack/redis/layout.hpp>
#include <kvstack/redis/meta.hpp>
#include <kvstack/redis/session.hpp>

namespace kvstack::inline v0::redis {

/// A command's view of the store inside one backend transaction. Backend failures are sticky:
/// the first one is kept, later reads find nothing and writes do nothing, and the transaction
/// is rolled back with that error, so commands are written without error plumbing.
template <class Tx, class Store>
class Ctx {
 public:
  Ctx(Tx& tx, Store& store, Session& session, std::int64_t now)
      : tx_(tx), store_(store), session_(session), now_(now), event_flags_(store.keyspace_events.load()) {}

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
  std::vector<Touched>& touched() { return touched_; }
  /// The keys changed, in order (only while the store raises keyspace events), for the events.
  std::vector<detail::Change>& changes() { return changes_; }
  /// The keyspace events raised, for the session once the transaction committed.
  std::vector<KeyEvent>& events() { return events_; }
  /// Raises `event` of class `type` on `key` of physical database `db`, if notify-keyspace-events
  /// asks for that class.
  void raise(unsigned type, std::string_view event, std::uint32_t db, std::string_view key) {
    if (!(event_flags_ & type) || !(event_flags_ & (events::keyspace | events::keyevent))) return;
    auto at = std::ranges::find(store_.phys_, db);
    if (at == store_.phys_.end()) return;  // a database flushed meanwhile
    events_.push_back({type, std::string(event), static_cast<int>(at - store_.phys_.begin()), std::string(key)});
  }

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

  /// Up to this many elements, a random pick is uniform (it walks to a random position); past
  /// it, a pick seeks a random sub-key, which favours elements after wide gaps.
  static constexpr std::int64_t uniform_pick_limit = 4096;

  /// An element of `m` picked at random among the sub-keys starting with `prefix` (`m.size` of
  /// them): uniformly, up to uniform_pick_limit elements.
  std::optional<std::pair<std::string, std::string>> random_elem(const Meta& m, std::string_view prefix = {}) {
    auto upper = prefix.empty() ? std::nullopt : KeyRange::prefix_successor(prefix);
    std::optional<std::string_view> hi;
    if (upper) hi = *upper;
    if (m.size > 0 && m.size <= uniform_pick_limit) {
      const auto at = std::uniform_int_distribution<std::size_t>(0, static_cast<std::size_t>(m.size) - 1)(rng());
      auto hit = elems(m, prefix, hi, false, at + 1);
      if (hit.size() == at + 1) return std::move(hit.back());
    }
    std::string at(prefix);
    put_random(at);
    auto hit = elems(m, at, hi, false, 1);
    if (hit.empty()) hit = elems(m, prefix, hi, false, 1);
    if (hit.empty()) return std::nullopt;
    return hit.front();
  }
  void put_random(std::string& s) { detail::put_int<std::uint64_t>(s, store_.rng_()); }

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
    if (!last_ || last_->meta_key != mk) peek(std::move(mk));
    bool existed = true;
    if (last_) {  // (none when the backend failed)
      m.stored_expiry = last_->expiry;
      existed = last_->found && (last_->expiry == 0 || now_ < last_->expiry);
      if (last_->collection) put(detail::version_key('G', last_->version), "");
    }
    if (event_flags_ && !existed) note(m.db, key).created = true;
    if (t != Type::string) m.version = next_version();
    return m;
  }
  /// Stores `m`; indexes its expiry when that changed. The record reaches the transaction when
  /// another key is saved, a scan could see it, or at `flush()`: a run of commands on one key
  /// (a pipeline of LPUSHes) then reads and writes it in memory, not decoding and encoding it
  /// each time.
  void save(Meta& m) {
    if (failed()) return;
    if (m.expiry != 0 && m.expiry != m.stored_expiry) put(detail::expiry_key(m.expiry, m.db, m.key), "");
    m.stored_expiry = m.expiry;
    auto mk = detail::meta_key(m.db, m.key);
    if (last_ && last_->meta_key == mk) last_.reset();
    if (pending_ && pending_->meta_key != mk) flush();
    if (pending_) pending_->meta = m;
    else pending_.emplace(Pending{std::move(mk), m});
    touch(m);
  }
  /// Puts the records kept back (by `save`, and `elem_to_change`) into the transaction: before
  /// the transaction commits.
  void flush() {
    flush_elem();
    if (!pending_) return;
    auto p = std::move(*pending_);
    pending_.reset();
    put(p.meta_key, p.meta.encode());
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
    if (event_flags_) note(m.db, m.key).dropped = true;
  }

  /// Moves key `m` to `key` in database `db`, replacing what is there; its elements stay.
  void move_key(Meta m, int db, std::string_view key) {
    auto dst = raw(phys(db), key);
    const bool existed = dst && (dst->expiry == 0 || now_ < dst->expiry);
    if (dst && dst->is_collection()) put(detail::version_key('G', dst->version), "");
    erase(detail::meta_key(m.db, m.key));
    touch(m);
    m.db = phys(db);
    m.key = key;
    m.stored_expiry = 0;
    save(m);
    if (event_flags_ && !existed) note(m.db, m.key).created = true;
  }

  // Elements of a collection, by their sub-key.
  std::optional<std::string> elem(const Meta& m, std::string_view sub) {
    if (failed()) return std::nullopt;
    auto k = elem_key(m, sub);
    if (kept_elem_ && kept_elem_->key == k) return kept_elem_->value;
    auto v = tx_.get(k);
    if (!v) return fail(v.error()), std::nullopt;
    return std::move(v).value();
  }
  /// The element at `sub` of `m`, to change in place (nullptr: absent, or after a failure); with
  /// `create`, an absent one is made empty. As the record `save` keeps back, it reaches the
  /// transaction when another element is kept back, a scan could see it, or at `flush()`: a run
  /// of pushes on one list changes its end chunk in memory. The pointer is good until the next
  /// call to the Ctx.
  std::string* elem_to_change(const Meta& m, std::string_view sub, bool create = false) {
    if (failed()) return nullptr;
    auto k = elem_key(m, sub);
    touch(m);
    if (kept_elem_ && kept_elem_->key == k) return &kept_elem_->value;
    std::optional<std::string> value;
    if (!create) {
      auto v = tx_.get(k);
      if (!v) return fail(v.error()), nullptr;
      if (!v.value()) return nullptr;
      value = std::move(v).value();
    }
    flush_elem();
    kept_elem_.emplace(KeptElem{std::move(k), value ? std::move(*value) : std::string()});
    return &kept_elem_->value;
  }
  void put_elem(const Meta& m, std::string_view sub, std::string_view value) {
    put(elem_key(m, sub), value);
    touch(m);
  }
  bool erase_elem(const Meta& m, std::string_view sub) {
    const bool erased = erase(elem_key(m, sub));
    if (erased) touch(m);
    return erased;
  }
  /// Elements with sub-keys in [lo, hi) (hi nullopt: to the end), in order or reversed, at most
  /// `limit`, as (sub-key, value) pairs.
  std::vector<std::pair<std::string, std::string>> elems(const Meta& m, std::string_view lo = {},
                                                         std::optional<std::string_view> hi = std::nullopt,
                                                         bool reverse = false,
                                                         std::size_t limit = KeyRange::unlimited) {
    std::vector<std::pair<std::string, std::string>> out;
    if (limit != KeyRange::unlimited) out.reserve(std::min<std::size_t>(limit, 4096));
    each_elem(m, lo, hi, reverse, limit, [&](std::string_view sub, std::string_view v) { out.emplace_back(sub, v); });
    return out;
  }
  /// elems() without the copies: `fn(sub_key, value)` for each, the views valid during the call;
  /// an `fn` that returns bool stops the walk with false.
  template <class F>
  void each_elem(const Meta& m, std::string_view lo, std::optional<std::string_view> hi, bool reverse, std::size_t limit,
                 F&& fn) {
    auto base = detail::version_key('E', m.version);
    auto range = hi ? KeyRange::between(base + std::string(lo), base + std::string(*hi))
                    : (lo.empty() ? KeyRange::prefix(base) : KeyRange::between(base + std::string(lo), *KeyRange::prefix_successor(base)));
    if (reverse) range = range.reverse();
    scan(range.limit(limit), [&](std::string_view k, std::string_view v) {
      if constexpr (std::is_same_v<std::invoke_result_t<F&, std::string_view, std::string_view>, bool>) {
        return fn(k.substr(base.size()), v);
      } else {
        fn(k.substr(base.size()), v);
        return true;
      }
    });
  }

  /// Calls `fn(key, value) -> bool` (false stops) for the backend entries in `range`.
  template <class F>
  void scan(const KeyRange& range, F&& fn) {
    if (failed()) return;
    if (pending_ && range.contains(pending_->meta_key)) flush();
    if (kept_elem_ && range.contains(kept_elem_->key)) flush_elem();
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
    touch_database(phys, phys);
    std::string f(1, 'F');
    detail::put_int<std::uint32_t>(f, phys);
    put(f, "");
    phys = store_.next_phys_++;
    save_databases();
  }
  void swap(int a, int b) {
    touch_database(phys(a), phys(b));
    touch_database(phys(b), phys(a));
    std::swap(store_.phys_[static_cast<std::size_t>(a)], store_.phys_[static_cast<std::size_t>(b)]);
    save_databases();
  }

  // Low level, for the store's own maintenance.
  /// Touches the keys watched in `db` that `db` or `other` holds: what a FLUSHDB (other: db
  /// itself) or a SWAPDB changes, as Redis sees it — a watched key that exists on neither side
  /// stays untouched.
  void touch_database(std::uint32_t db, std::uint32_t other) {
    for (auto& key : store_.watches->keys_in(db)) {
      auto live = [&](std::uint32_t in) {
        auto m = raw(in, key);
        return m && (m->expiry == 0 || now_ < m->expiry);
      };
      if (live(db) || live(other)) touched_.push_back({db, key});
    }
  }
  void touch(const Meta& m) {
    if (!store_.watches->empty()) touched_.push_back({m.db, m.key});
    if (event_flags_) note(m.db, m.key);
  }
  /// The change of `key` being recorded: one of the last two when it is the same key (a command
  /// changes one key at a time, or two: a move's source and destination).
  detail::Change& note(std::uint32_t db, std::string_view key) {
    const auto n = changes_.size();
    for (std::size_t i = n; i > 0 && i + 2 > n; --i)
      if (changes_[i - 1].db == db && changes_[i - 1].key == key) return changes_[i - 1];
    return changes_.emplace_back(detail::Change{db, std::string(key)});
  }
  void corrupt(std::string_view key) {
    fail(Error{errc::corruption, "redis: a metadata record of " + std::to_string(key.size()) +
                                     "-byte key is not in kvstack's format (" + std::to_string(detail::format_version) +
                                     "; lists " + std::to_string(detail::list_format_version) + ")"});
  }
  std::optional<Meta> raw(std::uint32_t db, std::string_view key) {
    if (failed()) return std::nullopt;
    auto mk = detail::meta_key(db, key);
    if (const Meta* kept = kept_back(mk)) return *kept;
    if (last_ && last_->decoded && last_->meta_key == mk) return last_->meta;  // read, and not written since
    std::optional<Meta> m;
    bool bad = false;
    auto found = tx_.get(mk, [&](std::string_view v) {
      m = Meta::decode(db, key, v);
      bad = !m;
    });
    if (!found) fail(found.error());
    if (bad) corrupt(mk);
    if (failed()) return std::nullopt;
    last_ = Last{std::move(mk), m.has_value(), m && m->is_collection(), m ? m->version : 0, m ? m->expiry : 0, m, true};
    return m;
  }
  /// Reads the metadata record at `meta_key` into last_, without decoding it whole.
  void peek(std::string meta_key) {
    last_.reset();
    if (failed() || kept_back(meta_key)) return;
    std::optional<Meta::Header> h;
    bool bad = false;
    auto found = tx_.get(meta_key, [&](std::string_view v) {
      h = Meta::decode_header(v);
      bad = !h;
    });
    if (!found) return fail(found.error());
    if (bad) return corrupt(meta_key);
    last_ = Last{std::move(meta_key), h.has_value(), h && h->type != Type::string, h ? h->version : 0, h ? h->expiry : 0,
                 std::nullopt, false};
  }
  /// The record `save` kept back under `meta_key`, if that is the one, noted in last_ as a read.
  const Meta* kept_back(std::string& meta_key) {
    if (!pending_ || pending_->meta_key != meta_key) return nullptr;
    const Meta& m = pending_->meta;
    last_ = Last{std::move(meta_key), true, m.is_collection(), m.version, m.expiry, std::nullopt, false};
    return &m;
  }
  std::string elem_key(const Meta& m, std::string_view sub) {
    auto k = detail::version_key('E', m.version, sub.size());
    k.append(sub);
    return k;
  }
  std::uint64_t next_version() {
    std::uint64_t v = 0;
    if (failed()) return 0;
    auto got = tx_.get("V", [&](std::string_view s) { v = s.size() == 8 ? detail::get_int<std::uint64_t>(s) : 0; });
    if (!got) return fail(got.error()), 0;
    std::string next;
    detail::put_int<std::uint64_t>(next, ++v);
    put("V", next);
    return v;
  }
  void save_databases() {
    std::string d;
    detail::put_int<std::uint32_t>(d, store_.next_phys_);
    for (auto p : store_.phys_) detail::put_int<std::uint32_t>(d, p);
    put("D", d);
  }
  void put(std::string_view k, std::string_view v) {
    if (failed()) return;
    if (last_ && last_->meta_key == k) last_.reset();
    if (pending_ && pending_->meta_key == k) pending_.reset();  // overwritten
    if (kept_elem_ && kept_elem_->key == k) kept_elem_.reset();
    if (auto r = tx_.put(k, v); !r) fail(r.error());
  }
  bool erase(std::string_view k) {
    if (failed()) return false;
    if (last_ && last_->meta_key == k) last_.reset();
    if (pending_ && pending_->meta_key == k) flush();  // so that the erase finds it
    if (kept_elem_ && kept_elem_->key == k) flush_elem();
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
  std::vector<Touched> touched_;
  unsigned event_flags_;  ///< notify-keyspace-events when the transaction began
  std::vector<detail::Change> changes_;
  std::vector<KeyEvent> events_;
  struct Last {  // the last metadata record read (raw, peek, kept_back)
    std::string meta_key;
    bool found;
    bool collection;
    std::uint64_t version;
    std::int64_t expiry;
    std::optional<Meta> meta;  ///< the record, when `decoded` (raw() read it whole)
    bool decoded = false;
  };
  std::optional<Last> last_;
  struct Pending {  // the metadata record save() kept back
    std::string meta_key;
    Meta meta;
  };
  std::optional<Pending> pending_;
  struct KeptElem {  // the element record elem_to_change kept back
    std::string key;
    std::string value;
  };
  std::optional<KeptElem> kept_elem_;
  void flush_elem() {
    if (!kept_elem_ || failed()) return;
    auto k = std::move(*kept_elem_);
    kept_elem_.reset();
    if (auto r = tx_.put(k.key, k.value); !r) fail(r.error());
  }
};

}  // namespace kvstack::redis
