// kvstack::Ttl<B, Clock> — a layer that gives keys an expiry time: expired entries vanish from
// every read at once and are removed, with an index ordered by time, by purge_expired.
#pragma once

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/codec/key.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/get_many.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/layer/pass_through.hpp>

namespace kvstack::inline v0 {

namespace detail {

/// `prefix ++ bytes`, on the stack when short: a get must not allocate for its key, nor a put
/// without expiry for its stored value (header byte 0 ++ value).
class Prefixed {
 public:
  Prefixed(char prefix, std::string_view bytes) : size_(bytes.size() + 1) {
    char* d = small_;
    if (size_ > sizeof(small_)) {
      big_.resize(size_);
      d = big_.data();
    }
    d[0] = prefix;
    if (!bytes.empty()) std::memcpy(d + 1, bytes.data(), bytes.size());
    data_ = d;
  }
  Prefixed(const Prefixed&) = delete;
  Prefixed& operator=(const Prefixed&) = delete;
  operator std::string_view() const noexcept { return {data_, size_}; }

 private:
  char small_[120];
  std::string big_;
  const char* data_;
  std::size_t size_;
};

/// The stored form of a value under Ttl: a format byte (0: no expiry; 1: an 8-byte deadline in
/// milliseconds since the clock's epoch follows), then the value.
struct TtlRecord {
  static constexpr char no_expiry = '\0', with_deadline = '\1';
  std::optional<std::int64_t> deadline;
  std::string_view value;

  bool expired(std::int64_t now_ms) const noexcept { return deadline && *deadline <= now_ms; }

  static void encode(std::optional<std::int64_t> deadline, std::string_view value, std::string& out) {
    out.clear();
    out.reserve(value.size() + 9);
    out.push_back(deadline ? with_deadline : no_expiry);
    if (deadline) KeyCodec<std::int64_t>::encode(*deadline, out);
    out.append(value);
  }
  static Result<TtlRecord> decode(std::string_view stored) {
    TtlRecord r;
    if (!stored.empty() && stored[0] == no_expiry) {
      r.value = stored.substr(1);
      return r;
    }
    std::string_view rest = stored.substr(stored.empty() ? 0 : 1);
    std::int64_t deadline = 0;
    if (stored.empty() || stored[0] != with_deadline || !KeyCodec<std::int64_t>::decode(rest, deadline))
      return Error{errc::corruption, "Ttl: a stored value of " + std::to_string(stored.size()) +
                                         " bytes has no valid expiry header (was this store written without Ttl?)"};
    r.deadline = deadline;
    r.value = rest;
    return r;
  }
};

/// The live entries of a scan of Ttl's data keys, as the user wrote them: the key's prefix byte
/// and the value's expiry header stripped, expired entries skipped, the range's limit applied.
/// An entry without expiry costs a check of its first byte; the header is decoded only for
/// entries that have a deadline.
template <class Base>
class TtlScan {
 public:
  /// The scan below is made in place by `make()` (a scan can be large: not moved once more).
  template <class Make>
  TtlScan(Make&& make, std::int64_t now_ms, std::size_t limit)
      : base_(std::forward<Make>(make)()), now_(now_ms), remaining_(limit) {}
  TtlScan(TtlScan&&) = default;  // only before begin()
  TtlScan& operator=(TtlScan&&) = default;

  ScanIterator<TtlScan> begin() {
    if (!it_) {
      it_.emplace(std::ranges::begin(base_));
      settle();
    }
    return {this};
  }
  std::default_sentinel_t end() const { return {}; }
  Result<void> status() const {
    if (error_) return *error_;
    return base_.status();
  }

 private:
  friend struct ScanIterator<TtlScan>;
  KeyValue current() const {
    const KeyValue kv = **it_;
    const std::size_t header = kv.value[0] == TtlRecord::no_expiry ? 1 : 9;  // settle() checked it
    return {{kv.key.data() + 1, kv.key.size() - 1}, {kv.value.data() + header, kv.value.size() - header}};
  }
  bool done() const { return done_; }
  [[gnu::always_inline]] void advance() {
    ++*it_;
    settle();
  }
  // Moves to the first live entry from here on, or ends the scan.
  [[gnu::always_inline]] void settle() {
    if (remaining_-- != 0) {
      for (; *it_ != std::ranges::end(base_); ++*it_) {
        const std::string_view value = (**it_).value;
        if (!value.empty() && value[0] == TtlRecord::no_expiry) [[likely]]
          return;
        if (live_with_deadline(value)) return;
        if (error_) break;
      }
    }
    done_ = true;
  }
  // Whether a value with an expiry header (or one it cannot read: then error_) is live.
  [[gnu::noinline]] bool live_with_deadline(std::string_view stored) {
    auto record = TtlRecord::decode(stored);
    if (!record) error_ = record.error();
    return record && !record.value().expired(now_);
  }

  Base base_;
  std::optional<std::ranges::iterator_t<Base>> it_;
  std::int64_t now_;
  std::size_t remaining_;
  std::optional<Error> error_;
  bool done_ = false;
};

}  // namespace detail

/// A Backend layer over `B` in which keys may expire (as Redis's EXPIRE, etcd's leases).
///
/// - `put(key, value, ttl)` stores a key that expires `ttl` from now; `put(key, value)` and
///   writes in batches and transactions store keys without expiry (and clear an earlier one, as
///   Redis's SET does). `expire`, `persist` and `ttl` read and change a key's expiry.
/// - A key is expired from its deadline on (`now >= deadline`, in milliseconds of `Clock`). No
///   read — get, zero-copy get, scan, transactions, stats, registries over this layer — returns
///   an expired entry, whether or not it has been purged yet.
/// - `purge_expired(max)` removes expired keys, oldest deadline first, by walking an index
///   ordered by deadline (so it never reads live keys), and reports each to `on_expire`'s
///   listener. Run it periodically (Redis does so ten times a second); until then expired
///   entries take space but are invisible.
/// - Expiries are stored with the keys (deadlines in milliseconds since `Clock`'s epoch), so they
///   hold across a reopen on a durable engine: use a clock whose epoch stays put
///   (system_clock, the default; not steady_clock).
/// - Layout in `B`: the key `k` is stored as `\x01 k`, its value behind a 1- or 9-byte header;
///   the index is `\x00 deadline k`. The layer owns its store: data written to `B` without it
///   reads as errc::corruption.
template <class B, class Clock = std::chrono::system_clock>
class Ttl : public PassThrough<Ttl<B, Clock>> {
  static_assert(check_backend<B>());
  static constexpr char data_prefix = '\1';
  static constexpr char index_prefix = '\0';

 public:
  using clock_type = Clock;
  /// Called after an expired key was removed (by purge_expired, or by an erase that found it
  /// expired), with its key and last value.
  using ExpireListener = std::function<void(std::string_view key, std::string_view value)>;

  /// What `transact` hands to `fn`: the layer's view of the transaction below, with time
  /// standing still at the moment the transaction started.
  class transaction {
   public:
    transaction(typename B::transaction& tx, std::int64_t now_ms, Ttl& layer) : tx_(&tx), now_(now_ms), layer_(&layer) {}

    Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return Ttl::get_live(*tx_, key, [this] { return now_; }, std::forward<F>(fn));
    }
    Result<void> put(std::string_view key, std::string_view value) { return layer_->put_in(*tx_, key, value, std::nullopt); }
    /// Stores `key` to expire `ttl` from the transaction's start.
    Result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
      auto deadline = detail::deadline_after(now_, ttl);
      if (!deadline) return deadline.error();
      return layer_->put_in(*tx_, key, value, deadline.value());
    }
    Result<bool> erase(std::string_view key) {
      auto live = get(key, [](std::string_view) {});
      if (!live) return live;
      if (auto erased = tx_->erase(detail::Prefixed(data_prefix, key)); !erased) return erased;
      return live;
    }
    auto scan(const KeyRange& range) const { return Ttl::scan_live(*tx_, range, now_); }
    /// The time `key` has left at the transaction's start; empty if it is absent or has none.
    /// `put(key, value, *ttl(key))` keeps a key's deadline exactly.
    Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) const {
      return Ttl::time_left(*tx_, key, now_);
    }

   private:
    typename B::transaction* tx_;
    std::int64_t now_;
    Ttl* layer_;
  };

  explicit Ttl(B inner, Clock clock = Clock{}) : inner_(std::move(inner)), clock_(std::move(clock)) {}

  B& inner() noexcept { return inner_; }
  const B& inner() const noexcept { return inner_; }
  const Clock& clock() const noexcept { return clock_; }

  /// Sets the listener told of each removed expired key (one listener; the watch layer uses it).
  void on_expire(ExpireListener listener) { listener_ = std::move(listener); }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read of a live key; the clock is read only when the key has an expiry.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return get_live(inner_, key, [this] { return now_ms(); }, std::forward<F>(fn));
  }

  /// Stores `key` without expiry (clearing any it had).
  Result<void> put(std::string_view key, std::string_view value) {
    return inner_.put(detail::Prefixed(data_prefix, key), detail::Prefixed(detail::TtlRecord::no_expiry, value));
  }

  /// Stores `key` to expire `ttl` from now; errc::invalid_argument unless ttl > 0.
  Result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
    auto deadline = detail::deadline_after(now_ms(), ttl);
    if (!deadline) return deadline.error();
    WriteBatch batch;
    std::string stored;
    detail::TtlRecord::encode(deadline.value(), value, stored);
    batch.put(detail::Prefixed(data_prefix, key), stored).put(index_key(deadline.value(), key), {});
    purge_.indexed(deadline.value());
    return inner_.write(batch);
  }

  /// Removes `key`; true if it was there and live. An expired entry found here is removed and
  /// reported to the expiry listener.
  Result<bool> erase(std::string_view key) {
    std::optional<std::string> expired_value;
    auto live = inner_.transact([&](auto& tx) -> Result<bool> {
      expired_value.reset();
      detail::Prefixed dk(data_prefix, key);
      auto record = read(tx, dk);
      if (!record) return record.error();
      if (!record.value()) return false;
      if (record.value()->expired(now_ms())) expired_value.emplace(record.value()->value);
      if (auto erased = tx.erase(dk); !erased) return erased;
      return !expired_value;
    });
    if (live && expired_value && listener_) listener_(key, *expired_value);
    return live;
  }

  /// Applies the batch at once; its puts store keys without expiry.
  Result<void> write(const WriteBatch& batch) {
    WriteBatch stored;
    std::string value;
    for (const auto& op : batch) {
      if (op.kind == WriteBatch::Kind::erase) {
        stored.erase(detail::Prefixed(data_prefix, op.key));
      } else {
        detail::TtlRecord::encode(std::nullopt, op.value, value);
        stored.put(detail::Prefixed(data_prefix, op.key), value);
      }
    }
    return inner_.write(stored);
  }

  /// The live entries in `range`, over the layer below's snapshot, as of when the scan opens.
  auto scan(const KeyRange& range) const { return scan_live(inner_, range, now_ms()); }

  /// Runs `fn(transaction&)` in a transaction of the layer below.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    return inner_.transact([&](typename B::transaction& itx) {
      transaction tx(itx, now_ms(), *this);
      return std::invoke(fn, tx);
    });
  }

  /// Makes `key` expire `ttl` from now (ttl <= 0 erases it now). False if `key` is absent.
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) {
    return inner_.transact([&](auto& tx) -> Result<bool> {
      const std::int64_t now = now_ms();
      detail::Prefixed dk(data_prefix, key);
      auto record = read(tx, dk);
      if (!record) return record.error();
      if (!record.value() || record.value()->expired(now)) return false;
      if (ttl <= std::chrono::milliseconds::zero()) return tx.erase(dk);
      auto deadline = detail::deadline_after(now, ttl);
      if (!deadline) return deadline.error();
      return rewrite(tx, key, *record.value(), deadline.value());
    });
  }

  /// Removes `key`'s expiry. False if `key` is absent or had none.
  Result<bool> persist(std::string_view key) {
    return inner_.transact([&](auto& tx) -> Result<bool> {
      auto record = read(tx, detail::Prefixed(data_prefix, key));
      if (!record) return record.error();
      if (!record.value() || !record.value()->deadline || record.value()->expired(now_ms())) return false;
      return rewrite(tx, key, *record.value(), std::nullopt);
    });
  }

  /// The time `key` has left; empty if it is absent or has no expiry.
  Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) const {
    return time_left(inner_, key, now_ms());
  }

  /// Removes up to `max` expired keys, earliest deadline first, in transactions of up to 1,000
  /// index entries; returns how many it removed. Reads only index entries that are due, and
  /// starts past those an earlier call removed (engines that keep deletions as tombstones until
  /// compaction, as RocksDB does, would otherwise walk them again): from the lowest deadline
  /// this layer indexed since, or a second before the last call's time. Another process writing
  /// to the same store with a clock more than a second behind may leave entries behind that
  /// point; their keys stay invisible, and the first purge after a reopen removes them.
  Result<std::size_t> purge_expired(std::size_t max = std::numeric_limits<std::size_t>::max()) {
    constexpr std::size_t chunk = 1000;  // a scan of up to PostgresOptions::fetch_rows is one SELECT
    constexpr std::int64_t grace_ms = 1000;
    std::lock_guard one_at_a_time(purge_.mu);
    const std::int64_t indexed = purge_.pending.exchange(std::numeric_limits<std::int64_t>::max());
    std::size_t purged = 0;
    std::vector<std::pair<std::string, std::string>> removed;  // key, last value
    std::string from = index_key(std::min(purge_.floor, indexed), {});
    const std::int64_t now = now_ms();
    std::string upper = index_key(now == std::numeric_limits<std::int64_t>::max() ? now : now + 1, {});
    bool more = true;  // the last chunk was full: there may be more due
    while (more && purged < max) {
      std::string next_from;
      auto done = inner_.transact([&](auto& tx) -> Result<void> {
        removed.clear();
        std::vector<std::string> due;
        {
          auto scan = tx.scan(KeyRange::between(from, upper).limit(chunk));
          for (auto&& [k, v] : scan) due.emplace_back(k);
          if (auto st = scan.status(); !st) return st.error();
        }
        more = due.size() == chunk;
        // The due keys' records, read together (one round trip on a server engine).
        std::vector<std::string> data_keys;
        for (const auto& entry : due) data_keys.push_back(data_prefix + entry.substr(9));
        const std::vector<std::string_view> views(data_keys.begin(), data_keys.end());
        std::vector<std::optional<Owned>> records(due.size());
        std::optional<Error> corrupt;
        auto read = get_many(tx, std::span<const std::string_view>(views), [&](std::size_t i, std::string_view stored) {
          auto record = owned(stored);
          if (!record) corrupt = record.error();
          else records[i] = std::move(record).value();
        });
        if (!read) return read.error();
        if (corrupt) return *corrupt;
        for (std::size_t i = 0; i < due.size(); ++i) {
          if (purged + removed.size() == max) break;
          // An entry whose key was rewritten, refreshed or erased since is stale: dropped alone.
          if (records[i] && records[i]->expired(now)) {
            removed.emplace_back(views[i].substr(1), std::move(records[i]->value));
            if (auto erased = tx.erase(views[i]); !erased) return erased.error();
          }
          if (auto erased = tx.erase(due[i]); !erased) return erased.error();
          next_from = due[i];
        }
        return success();
      });
      if (!done) {
        purge_.floor = std::min(purge_.floor, indexed);
        return done.error();
      }
      if (!next_from.empty()) from = std::move(next_from);
      purged += removed.size();
      if (listener_)
        for (const auto& [key, value] : removed) listener_(key, value);
    }
    purge_.floor = std::min(purge_.floor, indexed);
    if (!more && purged < max && now > std::numeric_limits<std::int64_t>::min() + grace_ms)
      purge_.floor = std::min(indexed, now - grace_ms);  // everything due was removed
    return purged;
  }

 private:
  std::int64_t now_ms() const { return detail::now_ms(clock_); }

  static std::string index_key(std::int64_t deadline, std::string_view key) {
    std::string k(1, index_prefix);
    KeyCodec<std::int64_t>::encode(deadline, k);
    k.append(key);
    return k;
  }

  // The record stored at `dk` (a data key), expired or not, with its value copied.
  struct Owned {
    std::optional<std::int64_t> deadline;
    std::string value;
    bool expired(std::int64_t now) const { return deadline && *deadline <= now; }
  };
  static Result<Owned> owned(std::string_view stored) {
    auto record = detail::TtlRecord::decode(stored);
    if (!record) return record.error();
    return Owned{record.value().deadline, std::string(record.value().value)};
  }
  template <class Tx>
  static Result<std::optional<Owned>> read(const Tx& tx, std::string_view dk) {
    std::optional<Owned> out;
    std::optional<Error> error;
    auto found = tx.get(dk, [&](std::string_view stored) {
      auto record = owned(stored);
      if (!record) error = record.error();
      else out = std::move(record).value();
    });
    if (!found) return found.error();
    if (error) return *error;
    return out;
  }

  template <class Tx>
  Result<void> put_in(Tx& tx, std::string_view key, std::string_view value, std::optional<std::int64_t> deadline) {
    if (!deadline) return tx.put(detail::Prefixed(data_prefix, key), detail::Prefixed(detail::TtlRecord::no_expiry, value));
    std::string stored;
    detail::TtlRecord::encode(deadline, value, stored);
    if (auto put = tx.put(detail::Prefixed(data_prefix, key), stored); !put) return put;
    purge_.indexed(*deadline);
    return tx.put(index_key(*deadline, key), {});
  }

  template <class Tx>
  Result<bool> rewrite(Tx& tx, std::string_view key, const Owned& record, std::optional<std::int64_t> deadline) {
    if (record.deadline)  // drop the old index entry rather than leave it for purge_expired
      if (auto erased = tx.erase(index_key(*record.deadline, key)); !erased) return erased;
    if (auto put = put_in(tx, key, record.value, deadline); !put) return put.error();
    return true;
  }

  template <class Source>
  static Result<std::optional<std::chrono::milliseconds>> time_left(const Source& source, std::string_view key, std::int64_t now) {
    std::optional<std::chrono::milliseconds> left;
    std::optional<Error> error;
    auto found = source.get(detail::Prefixed(data_prefix, key), [&](std::string_view stored) {
      auto record = detail::TtlRecord::decode(stored);
      if (!record) error = record.error();
      else if (record.value().deadline) left = std::chrono::milliseconds(*record.value().deadline - now);
    });
    if (!found) return found.error();
    if (error) return *error;
    if (left && left->count() <= 0) left.reset();  // expired: absent
    return left;
  }

  template <class Source, class Now, class F>
  static Result<bool> get_live(const Source& source, std::string_view key, Now now, F&& fn) {
    bool live = false;
    std::optional<Error> error;
    auto found = source.get(detail::Prefixed(data_prefix, key), [&](std::string_view stored) {
      auto record = detail::TtlRecord::decode(stored);
      if (!record) {
        error = record.error();
      } else if (!record.value().deadline || *record.value().deadline > now()) {
        live = true;
        std::invoke(fn, record.value().value);
      }
    });
    if (!found) return found.error();
    if (error) return *error;
    return live;
  }

  template <class Source>
  static auto scan_live(const Source& source, const KeyRange& range, std::int64_t now) {
    // The limit counts live entries: applied here, not below.
    KeyRange below = range.within({&data_prefix, 1}).limit(KeyRange::unlimited);
    using Below = decltype(source.scan(std::move(below)));
    return detail::TtlScan<Below>([&] { return source.scan(std::move(below)); }, now, range.max_count());
  }

  // Where purge_expired starts; moves with the layer (a moved-to layer gets a fresh mutex).
  struct PurgeState {
    std::mutex mu;  // one purge at a time
    std::int64_t floor = std::numeric_limits<std::int64_t>::min();  // below it, no entry (under mu)
    std::atomic<std::int64_t> pending{std::numeric_limits<std::int64_t>::max()};  // lowest indexed since
    PurgeState() = default;
    PurgeState(PurgeState&& other) noexcept : floor(other.floor), pending(other.pending.load()) {}
    PurgeState& operator=(PurgeState&& other) noexcept {
      floor = other.floor;
      pending = other.pending.load();
      return *this;
    }
    // Before an index entry is committed.
    void indexed(std::int64_t deadline) noexcept {
      std::int64_t seen = pending.load(std::memory_order_relaxed);
      while (deadline < seen && !pending.compare_exchange_weak(seen, deadline, std::memory_order_acq_rel)) {
      }
    }
  };

  B inner_;
  Clock clock_;
  ExpireListener listener_;
  PurgeState purge_;
};

}  // namespace kvstack
