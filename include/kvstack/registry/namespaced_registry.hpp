// kvstack::NamespacedRegistry — a typed map (Key -> T) living in its own namespace of a shared
// backend.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/stats.hpp>
#include <kvstack/core/write_batch.hpp>

namespace kvstack::inline v0 {

namespace detail {

/// A non-owning reference to a `void(std::string_view)` callable. Registries hand it to the
/// backend's zero-copy get, so that get is compiled once for all value types, not once for each.
class ViewFunction {
 public:
  template <class F>
  explicit ViewFunction(F& f) noexcept
      : object_(&f), call_([](void* o, std::string_view v) { (*static_cast<F*>(o))(v); }) {}
  void operator()(std::string_view v) const { call_(object_, v); }

 private:
  void* object_;
  void (*call_)(void*, std::string_view);
};

/// What a registry is apart from its value type: the backend, the encoded namespace and the
/// keys. Compiled once per backend and key type, however many value types a program stores.
template <class B, class Key>
class RegistryBase {
 public:
  RegistryBase(B& backend, std::string_view ns) : backend_(&backend), prefix_(encode_namespace(ns)) {}

  /// Removes `key`; true if it was there.
  Result<bool> erase(const Key& key) { return backend_->erase(storage_key(key)); }

  /// True if `key` is there (the value is not decoded).
  Result<bool> contains(const Key& key) const {
    return backend_->get(storage_key(key), [](std::string_view) {});
  }

  /// Number of entries in this namespace (exact: kvstack::count_keys over its keys).
  Result<std::size_t> count() const {
    auto n = count_keys(*backend_, KeyRange::prefix(prefix_));
    if (!n) return n.error();
    return static_cast<std::size_t>(n.value());
  }

  /// Removes every entry of this namespace (and nothing else), atomically; returns how many.
  Result<std::size_t> clear() {
    return backend_->transact([&](auto& tx) -> Result<std::size_t> {
      std::vector<std::string> keys;
      {
        auto scan = tx.scan(KeyRange::prefix(prefix_));
        for (auto&& [k, v] : scan) keys.emplace_back(k);
        if (auto st = scan.status(); !st) return st.error();
      }
      for (const auto& k : keys) {
        if (auto r = tx.erase(k); !r) return r.error();
      }
      return keys.size();
    });
  }

  /// The namespace as given.
  std::string name() const { return decode_key<std::string>(prefix_).value(); }
  /// The encoded namespace: every key of this registry starts with it.
  const std::string& key_prefix() const noexcept { return prefix_; }
  /// The backend key under which `key` is stored.
  std::string storage_key(const Key& key) const {
    std::string k;
    k.reserve(prefix_.size() + 24);
    k = prefix_;
    encode_key(key, k);
    return k;
  }
  B& backend() const noexcept { return *backend_; }

 protected:
  // Hands the stored bytes of `key` to `fn`; false if absent.
  Result<bool> read(const Key& key, ViewFunction fn) const { return backend_->get(storage_key(key), fn); }

  Error explain(const Error& e) const {
    return {e.code(), "registry '" + name() + "': " + e.context()};
  }
  Error explain(const Error& e, const Key& key) const {
    if constexpr (std::is_convertible_v<const Key&, std::string_view>)
      return {e.code(), "registry '" + name() + "', key '" + std::string(std::string_view(key)) + "': " + e.context()};
    else
      return explain(e);
  }

  B* backend_;
  std::string prefix_;
};

}  // namespace detail

/// Values of type T under keys of type Key, stored in backend `B` under
/// `encode_namespace(ns) ++ encode_key(key)`. Namespace encodings are prefix-free, so registries
/// with namespaces "node", "node:", "nod", "" and "a\0b" never see each other's entries, and a
/// registry's entries iterate in the natural order of Key.
///
/// A registry is a handle — a pointer to the backend and the encoded namespace — cheap to copy
/// and move; any number of them share one backend, which must outlive them. Thread-safe as the
/// backend is.
template <class B, class T, class Key = std::string, class S = BinarySerializer>
class NamespacedRegistry : public detail::RegistryBase<B, Key> {
  using Base = detail::RegistryBase<B, Key>;
  using Base::backend_, Base::prefix_, Base::explain;

  static_assert(check_backend<B>());
  static_assert(KeyType<Key>,
                "kvstack::NamespacedRegistry: Key needs a kvstack::KeyCodec (integers, enums, strings, "
                "uuids, tuples/pairs of these, or your own specialization)");
  static_assert(Serializer<S, T>, "kvstack::NamespacedRegistry: S is not a kvstack::Serializer for T");

  using BaseScan = decltype(std::declval<const B&>().scan(KeyRange::all()));

 public:
  using key_type = Key;
  using value_type = T;

  NamespacedRegistry(B& backend, std::string_view ns) : Base(backend, ns) {}
  using Base::storage_key;

  /// Stores `value` under `key`, replacing any previous value.
  Result<void> put(const Key& key, const T& value) {
    std::string bytes;
    S::encode(value, bytes);
    return backend_->put(storage_key(key), bytes);
  }

  /// Stores `value` under `key` to expire `ttl` from now, over a backend whose keys expire
  /// (kvstack::Ttl, or a stack with it).
  Result<void> put(const Key& key, const T& value, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    std::string bytes;
    S::encode(value, bytes);
    return backend_->put(storage_key(key), bytes, ttl);
  }

  /// Over a backend whose keys do not expire, a put with a time to live says what to do instead
  /// of failing overload resolution.
  template <class Ttl>
    requires(!Expiring<B>)
  Result<void> put(const Key&, const T&, Ttl) {
    static_assert(!std::is_same_v<Ttl, Ttl>,
                  "kvstack::NamespacedRegistry: put with a time to live needs a backend whose keys expire: "
                  "wrap the backend in kvstack::Ttl (kvstack::Ttl<B>), or put without a time to live");
    return success();
  }

  /// Stores every `(key, value)` pair of `entries` in one atomic batch.
  template <std::ranges::input_range R>
  Result<void> put_all(R&& entries) {
    WriteBatch batch;
    std::string bytes;
    for (auto&& [key, value] : entries) {
      bytes.clear();
      S::encode(value, bytes);
      batch.put(storage_key(key), bytes);
    }
    return backend_->write(batch);
  }

  /// The value under `key`; an empty optional when absent; errc::corruption when it does not
  /// decode as T.
  Result<std::optional<T>> get(const Key& key) const {
    std::optional<T> value;
    std::optional<Error> error;
    auto decode = [&](std::string_view bytes) {
      auto decoded = S::template decode<T>(bytes);
      if (decoded) value.emplace(std::move(decoded).value());
      else error = std::move(decoded).error();
    };
    auto found = this->read(key, detail::ViewFunction(decode));
    if (!found) return std::move(found).error();
    if (error) return explain(*error, key);
    return value;
  }

  /// Stores `value` under `key` only if `key` is absent, atomically: true if it stored it, false
  /// if `key` was there (its value is left as it was).
  Result<bool> insert(const Key& key, const T& value) {
    std::string k = storage_key(key), bytes;
    S::encode(value, bytes);
    return backend_->transact([&](auto& tx) -> Result<bool> {
      auto present = tx.get(k, [](std::string_view) {});
      if (!present) return present.error();
      if (present.value()) return false;
      if (auto put = tx.put(k, bytes); !put) return put.error();
      return true;
    });
  }

  /// The values under `keys`, in the order given (an empty optional for each absent key), read
  /// in one transaction: a consistent view of them all.
  template <std::ranges::input_range R = std::initializer_list<Key>>
  Result<std::vector<std::optional<T>>> get_many(const R& keys) const {
    return backend_->transact([&](auto& tx) -> Result<std::vector<std::optional<T>>> {
      std::vector<std::optional<T>> values;
      for (const Key& key : keys) {
        std::optional<Result<T>> decoded;
        auto found = tx.get(storage_key(key), [&](std::string_view bytes) { decoded = S::template decode<T>(bytes); });
        if (!found) return found.error();
        if (decoded && !*decoded) return explain(decoded->error(), key);
        values.push_back(decoded ? std::optional<T>(std::move(*decoded).value()) : std::nullopt);
      }
      return values;
    });
  }

  /// Applies `fn(T&)` to the stored value and writes it back, atomically (one backend
  /// transaction; `fn` may run again if the engine retries, so it must have no other effects).
  /// Returns false if `key` is absent (and does not call `fn`). Over an Expiring backend the key
  /// keeps its expiry, as Redis's `SET ... KEEPTTL` does.
  template <class F>
  Result<bool> update(const Key& key, F&& fn) {
    std::string k = storage_key(key);
    return backend_->transact([&](auto& tx) -> Result<bool> {
      std::optional<Result<T>> decoded;
      auto found = tx.get(k, [&](std::string_view bytes) { decoded = S::template decode<T>(bytes); });
      if (!found) return found.error();
      if (!decoded) return false;
      if (!*decoded) return explain(decoded->error(), key);
      std::invoke(fn, decoded->value());
      std::string bytes;
      S::encode(decoded->value(), bytes);
      if constexpr (requires { tx.ttl(k); }) {
        auto left = tx.ttl(k);
        if (!left) return left.error();
        if (left.value()) {
          if (auto put = tx.put(k, bytes, *left.value()); !put) return put.error();
          return true;
        }
      }
      if (auto put = tx.put(k, bytes); !put) return put.error();
      return true;
    });
  }

  /// The time `key` has left; empty if it is absent or never expires.
  Result<std::optional<std::chrono::milliseconds>> ttl(const Key& key) const
    requires Expiring<B>
  {
    return backend_->ttl(storage_key(key));
  }
  /// Makes `key` expire `ttl` from now (`ttl <= 0` erases it); false if it is absent.
  Result<bool> expire(const Key& key, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    return backend_->expire(storage_key(key), ttl);
  }
  /// Removes `key`'s expiry; false if it is absent or had none.
  Result<bool> persist(const Key& key)
    requires Expiring<B>
  {
    return backend_->persist(storage_key(key));
  }

  /// The entries in key order as `std::pair<Key, T>` (bind as `auto&& [key, value]`), over a
  /// snapshot taken now. Iteration stops at the first entry that does not decode; `status()`
  /// then says why, so check it after the loop.
  class List {
   public:
    struct iterator {
      using value_type = std::pair<Key, T>;
      using difference_type = std::ptrdiff_t;
      List* list;
      value_type& operator*() const { return list->current_; }
      iterator& operator++() {
        ++list->it_;
        list->decode_current();
        return *this;
      }
      void operator++(int) { ++*this; }
      bool operator==(std::default_sentinel_t) const { return !list->has_current_; }
    };

    /// Call once: the range is single-pass.
    iterator begin() {
      it_ = std::ranges::begin(base_);
      decode_current();
      return {this};
    }
    std::default_sentinel_t end() const { return {}; }
    Result<void> status() const {
      if (error_) return *error_;
      return base_.status();
    }

   private:
    friend class NamespacedRegistry;
    List(BaseScan base, const NamespacedRegistry* owner) : base_(std::move(base)), owner_(owner) {}

    void decode_current() {
      has_current_ = false;
      if (it_ == std::ranges::end(base_)) return;
      KeyValue kv = *it_;
      auto key = decode_key<Key>(kv.key.substr(owner_->prefix_.size()));
      if (!key) {
        error_ = owner_->explain(key.error());
        return;
      }
      auto value = S::template decode<T>(kv.value);
      if (!value) {
        error_ = owner_->explain(value.error(), key.value());
        return;
      }
      current_ = {std::move(key.value()), std::move(value.value())};
      has_current_ = true;
    }

    BaseScan base_;
    const NamespacedRegistry* owner_;
    std::ranges::iterator_t<BaseScan> it_{};
    std::pair<Key, T> current_{};
    bool has_current_ = false;
    std::optional<Error> error_;
  };

  /// Which entries `list(options)` visits: keys in `[from, to)` (either end open when empty), in
  /// key order or `reverse`, at most `limit` of them (0: no limit).
  /// `registry.list({.from = last_seen_key, .limit = 100})` pages through a registry.
  struct ListOptions {
    std::optional<Key> from = std::nullopt;  // initialized, so that `{.limit = 10}` warns of nothing
    std::optional<Key> to = std::nullopt;
    bool reverse = false;
    std::size_t limit = 0;
  };

  /// Every entry, in key order.
  List list() const { return List(backend_->scan(KeyRange::prefix(prefix_).streaming()), this); }
  /// The entries `options` selects.
  List list(const ListOptions& options) const {
    std::string from, to;
    if (options.from) encode_key(*options.from, from);
    if (options.to) encode_key(*options.to, to);
    KeyRange range = (options.to ? KeyRange::between(from, to) : KeyRange::from(from)).within(prefix_).streaming();
    if (options.reverse) range = std::move(range).reverse();
    if (options.limit != 0) range = std::move(range).limit(options.limit);
    return List(backend_->scan(range), this);
  }

};

}  // namespace kvstack
