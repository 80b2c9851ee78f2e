// The concepts every part of kvstack is written against: Backend (with its ScanRange and
// Transaction), Expiring and Serializer, each with the laws its test suite checks (Hana's style;
// docs/design.md has the table). Models check them with check_backend<B>(), which names what is
// missing in one line.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>

namespace kvstack::inline v0 {

namespace detail {
/// Stand-ins used to probe the callback-taking operations.
struct ViewSink {
  void operator()(std::string_view) const noexcept {}
};
struct TransactProbe {
  template <class Tx>
  Result<void> operator()(Tx&) const {
    return success();
  }
};

/// `get(key)` in terms of the zero-copy `source.get(key, fn)`: the value copied out.
template <class Source>
Result<std::optional<std::string>> copy_get(const Source& source, std::string_view key) {
  std::optional<std::string> out;
  auto found = source.get(key, [&](std::string_view v) { out.emplace(v); });
  if (!found) return found.error();
  return out;
}
}  // namespace detail

/// What `scan(KeyRange)` returns: an input range of entries that convert to KeyValue (bind as
/// `auto&& [key, value]`), plus `status()`, the error that ended iteration early, if any.
template <class R>
concept ScanRange = std::ranges::input_range<R> &&
                    std::convertible_to<std::ranges::range_reference_t<R>, KeyValue> &&
                    requires(const R& r) {
                      { r.status() } -> std::same_as<Result<void>>;
                    };

namespace detail {
template <class T>
concept HasGet = requires(const T& t, std::string_view k) {
  { t.get(k) } -> std::same_as<Result<std::optional<std::string>>>;
};
template <class T>
concept HasViewGet = requires(const T& t, std::string_view k, ViewSink fn) {
  { t.get(k, fn) } -> std::same_as<Result<bool>>;
};
template <class T>
concept HasPut = requires(T& t, std::string_view k) {
  { t.put(k, k) } -> std::same_as<Result<void>>;
};
template <class T>
concept HasErase = requires(T& t, std::string_view k) {
  { t.erase(k) } -> std::same_as<Result<bool>>;
};
template <class T>
concept HasScan = requires(const T& t, const KeyRange& r) {
  { t.scan(r) } -> ScanRange;
};
template <class T>
concept HasWrite = requires(T& t, const WriteBatch& b) {
  { t.write(b) } -> std::same_as<Result<void>>;
};
template <class T>
concept HasTransact = requires(T& t) {
  { t.transact(TransactProbe{}) } -> std::same_as<Result<void>>;
};
}  // namespace detail

/// What `transact(fn)` hands to `fn`: reads that see the transaction's own writes.
template <class T>
concept Transaction = detail::HasGet<T> && detail::HasViewGet<T> && detail::HasPut<T> &&
                      detail::HasErase<T> && detail::HasScan<T>;

namespace detail {
template <class B>
concept HasTransaction = requires { typename B::transaction; } && Transaction<typename B::transaction>;
}  // namespace detail

/// A key-value store: an engine, or a layer over one (docs/design.md, "The contracts").
///
/// Laws (tests/laws/backend_laws.cpp and model_test.cpp, on every engine and layer stack):
/// - put then get returns the value; erase returns whether the key was there;
/// - keys and values are any bytes; scans visit keys in unsigned byte order, `between` is
///   half-open, reverse and limit compose, prefixes include the empty and all-0xff ones;
/// - a scan is a snapshot, and writing while it is open (from any thread) is fine;
/// - a zero-copy get's callback may write to the backend;
/// - a WriteBatch applies in order and all at once;
/// - a transaction reads its own writes, commits all at once, and on an error result applies
///   nothing and returns the error unchanged;
/// - an exception from fn, a get callback or a scan's consumer leaves the store usable and
///   unchanged;
/// - concurrent writes, scans and transactions lose nothing; durable engines keep data across
///   close and reopen; random operations match a std::map.
template <class B>
concept Backend = detail::HasGet<B> && detail::HasViewGet<B> && detail::HasPut<B> &&
                  detail::HasErase<B> && detail::HasScan<B> && detail::HasWrite<B> &&
                  detail::HasTransact<B> && requires { typename B::transaction; } &&
                  Transaction<typename B::transaction>;

/// Whether B's scans read the whole range from one snapshot, as the laws require of every engine
/// but RedisBackend (whose scans are atomic per batch, and which says so): `B::snapshot_scans`
/// where B declares it, else that of the backend below a layer (`inner()`), else true. The law
/// suite checks the weaker promise where it is false.
template <class B>
constexpr bool snapshot_scans_v = [] {
  if constexpr (requires { B::snapshot_scans; }) return bool(B::snapshot_scans);
  else if constexpr (requires(const B& b) { b.inner(); })
    return snapshot_scans_v<std::remove_cvref_t<decltype(std::declval<const B&>().inner())>>;
  else return true;
}();

/// A Backend whose keys may expire (kvstack::Ttl, or a layer over it): put with a time to live,
/// expire, persist, ttl and purge_expired. Layers above forward these when the layer below has them.
///
/// Laws (tests/layer/ttl_test.cpp, capabilities_test.cpp): a key is gone from every read path
/// from its deadline on, purged or not; expire refreshes, persist clears, expire(key, 0) erases;
/// purge_expired removes due keys earliest first; expiries survive a reopen; a layer over an
/// Expiring backend is Expiring.
template <class B>
concept Expiring = Backend<B> && requires(B& b, const B& cb, std::string_view k, std::chrono::milliseconds t) {
  { b.put(k, k, t) } -> std::same_as<Result<void>>;
  { b.expire(k, t) } -> std::same_as<Result<bool>>;
  { b.persist(k) } -> std::same_as<Result<bool>>;
  { cb.ttl(k) } -> std::same_as<Result<std::optional<std::chrono::milliseconds>>>;
  { b.purge_expired(std::size_t{}) } -> std::same_as<Result<std::size_t>>;
};

/// `static_assert(kvstack::check_backend<B>())`: true for a Backend; otherwise each missing
/// operation fails to compile with one line that names it (and nothing else fails).
template <class B>
consteval bool check_backend() {
  static_assert(detail::HasGet<B>,
                "kvstack::Backend: missing `get(std::string_view) const -> Result<std::optional<std::string>>`");
  static_assert(detail::HasViewGet<B>,
                "kvstack::Backend: missing zero-copy `get(std::string_view, fn) const -> Result<bool>`");
  static_assert(detail::HasPut<B>,
                "kvstack::Backend: missing `put(std::string_view, std::string_view) -> Result<void>`");
  static_assert(detail::HasErase<B>, "kvstack::Backend: missing `erase(std::string_view) -> Result<bool>`");
  static_assert(detail::HasScan<B>,
                "kvstack::Backend: missing `scan(const KeyRange&) const` returning a ScanRange "
                "(input range of KeyValue with `status() -> Result<void>`)");
  static_assert(detail::HasWrite<B>, "kvstack::Backend: missing `write(const WriteBatch&) -> Result<void>`");
  static_assert(detail::HasTransact<B>, "kvstack::Backend: missing `transact(fn) -> Result<R>`");
  static_assert(requires { typename B::transaction; },
                "kvstack::Backend: missing member type `transaction` (what transact hands to fn)");
  static_assert(!requires { typename B::transaction; } || detail::HasTransaction<B>,
                "kvstack::Backend: its `transaction` type lacks get, zero-copy get, put, erase or scan");
  return true;  // only reached for a Backend: otherwise one of the above stopped compilation
}

/// A value codec: `S::encode(value, out)` appends to `out`; `S::decode<T>(bytes)` reads it back.
///
/// Laws (tests/codec/binary_test.cpp, fuzz/binary_decode_fuzz.cpp, for BinarySerializer): every
/// supported kind round-trips; new code reads old records and old code new ones; any truncation
/// or corruption is errc::corruption, never a crash or a huge allocation; what decodes
/// re-encodes stably.
template <class S, class T>
concept Serializer = requires(const T& value, std::string& out, std::string_view in) {
  S::encode(value, out);
  { S::template decode<T>(in) } -> std::same_as<Result<T>>;
};

}  // namespace kvstack
