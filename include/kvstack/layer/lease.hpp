// kvstack::LeaseManager<B, Clock> — named leases (locks with a time to live) whose every grant
// carries a fencing token larger than all before it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/codec/key.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// Leases over any Backend, kept in the namespace `ns` (default "kvstack.lease").
///
/// What a lease guarantees, and what it does not: a lease is a timed promise. While it is live,
/// `acquire` by anyone else returns empty; once its deadline passes (by `Clock`), another holder
/// may acquire it, whether or not the first holder noticed. A holder that was paused (GC, swap,
/// a slow disk) past its deadline may still believe it holds the lease. Hence the fencing token:
/// every successful acquire of a name gets a token strictly greater than every token issued
/// before for that name (stored with the lease, so also across restarts on a durable engine).
/// A resource that must never accept a stale holder remembers the largest token it has seen and
/// refuses requests carrying a smaller one. `renew` and `release` check the token themselves:
/// with a lease that was superseded (or, for renew, has run out) they fail with errc::conflict.
/// All holders must read one clock; deadlines are stored in milliseconds since its epoch.
template <class B, class Clock = std::chrono::system_clock>
class LeaseManager {
  static_assert(check_backend<B>());

 public:
  struct Lease {
    std::string name;
    std::string holder;
    std::uint64_t token = 0;               ///< the fencing token
    typename Clock::time_point deadline;  ///< live until then (exclusive)
  };

  explicit LeaseManager(B& db, Clock clock = Clock{}, std::string_view ns = "kvstack.lease")
      : db_(&db), clock_(std::move(clock)), prefix_(encode_namespace(ns)) {}

  /// Grants `name` to `holder` for `ttl`, unless another holder's lease on it is live (then
  /// empty). Acquiring a name one already holds grants it again with a new token.
  Result<std::optional<Lease>> acquire(std::string_view name, std::string_view holder, std::chrono::milliseconds ttl) {
    if (holder.empty()) return Error{errc::invalid_argument, "lease: the holder must not be empty"};
    return db_->transact([&](auto& tx) -> Result<std::optional<Lease>> {
      auto record = read(tx, name);
      if (!record) return record.error();
      const std::int64_t now = now_ms();
      auto deadline = detail::deadline_after(now, ttl);
      if (!deadline) return deadline.error();
      const Record& r = record.value();
      if (r.live(now) && r.holder != holder) return std::optional<Lease>();
      Record granted{std::string(holder), r.token + 1, deadline.value()};
      if (auto put = write(tx, name, granted); !put) return put.error();
      return std::optional<Lease>(to_lease(name, granted));
    });
  }

  /// Extends a live lease to `ttl` from now; errc::conflict if it was superseded or ran out.
  Result<Lease> renew(const Lease& lease, std::chrono::milliseconds ttl) {
    return db_->transact([&](auto& tx) -> Result<Lease> {
      auto record = read(tx, lease.name);
      if (!record) return record.error();
      const std::int64_t now = now_ms();
      auto deadline = detail::deadline_after(now, ttl);
      if (!deadline) return deadline.error();
      if (auto held = check(record.value(), lease, now, true); !held) return held.error();
      Record renewed{lease.holder, lease.token, deadline.value()};
      if (auto put = write(tx, lease.name, renewed); !put) return put.error();
      return to_lease(lease.name, renewed);
    });
  }

  /// Gives the lease up (the name keeps its token count); errc::conflict if it was superseded.
  Result<void> release(const Lease& lease) {
    return db_->transact([&](auto& tx) -> Result<void> {
      auto record = read(tx, lease.name);
      if (!record) return record.error();
      if (auto held = check(record.value(), lease, now_ms(), false); !held) return held;
      return write(tx, lease.name, Record{{}, lease.token, 0});
    });
  }

  /// The live lease on `name`, if any.
  Result<std::optional<Lease>> holder(std::string_view name) const {
    auto record = read(*db_, name);
    if (!record) return record.error();
    if (!record.value().live(now_ms())) return std::optional<Lease>();
    return std::optional<Lease>(to_lease(name, record.value()));
  }

 private:
  // What is stored per name: format byte 1, token, deadline (ms), holder ("" once released).
  struct Record {
    std::string holder;
    std::uint64_t token = 0;
    std::int64_t deadline = 0;
    bool live(std::int64_t now) const { return !holder.empty() && deadline > now; }
  };

  std::int64_t now_ms() const { return detail::now_ms(clock_); }
  std::string key(std::string_view name) const {
    std::string k = prefix_;
    encode_key(name, k);
    return k;
  }
  Lease to_lease(std::string_view name, const Record& r) const {
    return {std::string(name), r.holder, r.token,
            typename Clock::time_point(std::chrono::duration_cast<typename Clock::duration>(std::chrono::milliseconds(r.deadline)))};
  }

  template <class Source>
  Result<Record> read(const Source& source, std::string_view name) const {
    Record r;
    bool valid = true;
    auto found = source.get(key(name), [&](std::string_view v) {
      valid = v.size() >= 17 && v[0] == '\1';
      if (!valid) return;
      v.remove_prefix(1);
      KeyCodec<std::uint64_t>::decode(v, r.token);
      KeyCodec<std::int64_t>::decode(v, r.deadline);
      r.holder = v;
    });
    if (!found) return found.error();
    if (!valid) return Error{errc::corruption, "lease: the record of this name does not decode"};
    return r;
  }
  template <class Tx>
  Result<void> write(Tx& tx, std::string_view name, const Record& r) const {
    std::string v(1, '\1');
    KeyCodec<std::uint64_t>::encode(r.token, v);
    KeyCodec<std::int64_t>::encode(r.deadline, v);
    v.append(r.holder);
    return tx.put(key(name), v);
  }
  static Result<void> check(const Record& r, const Lease& lease, std::int64_t now, bool must_be_live) {
    if (r.token != lease.token || r.holder != lease.holder || r.holder.empty())
      return Error{errc::conflict, "lease '" + lease.name + "': token " + std::to_string(lease.token) +
                                       " is no longer held (the lease is at token " + std::to_string(r.token) + ")"};
    if (must_be_live && !r.live(now))
      return Error{errc::conflict, "lease '" + lease.name + "': token " + std::to_string(lease.token) +
                                       " ran out before it was renewed; acquire it again"};
    return success();
  }

  B* db_;
  Clock clock_;
  std::string prefix_;
};

}  // namespace kvstack
