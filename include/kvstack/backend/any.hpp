// kvstack::BasicAnyBackend<Bs...> — one of several backends, chosen at run time, dispatched with
// std::visit (no virtual functions). kvstack::AnyBackend lists the engines compiled in.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <kvstack/backend/engines.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/stats.hpp>

namespace kvstack::inline v0 {

namespace detail {
/// One of several scan ranges, itself a ScanRange. Not movable once begin() was called.
template <class... Scans>
class AnyScan {
  template <class S>
  struct Holder {
    explicit Holder(S&& s) : scan(std::move(s)) {}
    S scan;
    std::optional<std::ranges::iterator_t<S>> it;  // set by begin(), once the scan stays put
  };

 public:
  template <std::size_t I, class S>
  AnyScan(std::in_place_index_t<I> index, S&& scan) : v_(index, std::move(scan)) {}

  struct iterator {
    using value_type = KeyValue;
    using difference_type = std::ptrdiff_t;
    AnyScan* self;
    KeyValue operator*() const {
      return std::visit([](auto& h) -> KeyValue { return **h.it; }, self->v_);
    }
    iterator& operator++() {
      std::visit([](auto& h) { ++*h.it; }, self->v_);
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const {
      return std::visit([](auto& h) { return *h.it == std::ranges::end(h.scan); }, self->v_);
    }
  };
  iterator begin() {
    std::visit([](auto& h) { h.it = std::ranges::begin(h.scan); }, v_);
    return {this};
  }
  std::default_sentinel_t end() const { return {}; }
  Result<void> status() const {
    return std::visit([](const auto& h) { return h.scan.status(); }, v_);
  }

 private:
  std::variant<Holder<Scans>...> v_;
};

template <class B>
using scan_of = decltype(std::declval<const B&>().scan(KeyRange::all()));
template <class B>
using transaction_scan_of = scan_of<typename B::transaction>;
}  // namespace detail

/// A Backend that is one of `Bs...`, chosen when it is constructed.
template <class... Bs>
class BasicAnyBackend {
  using Scans = detail::AnyScan<detail::scan_of<Bs>...>;
  using TransactionScans = detail::AnyScan<detail::transaction_scan_of<Bs>...>;

 public:
  /// Whether every alternative's scans read one snapshot (see snapshot_scans_v).
  static constexpr bool snapshot_scans = (snapshot_scans_v<Bs> && ...);

  /// What `transact` hands to `fn`: the chosen backend's transaction.
  class Transaction {
   public:
    Result<std::optional<std::string>> get(std::string_view key) const {
      return std::visit([&](auto* tx) { return tx->get(key); }, tx_);
    }
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return std::visit([&](auto* tx) { return tx->get(key, fn); }, tx_);
    }
    Result<void> put(std::string_view key, std::string_view value) {
      return std::visit([&](auto* tx) { return tx->put(key, value); }, tx_);
    }
    Result<bool> erase(std::string_view key) {
      return std::visit([&](auto* tx) { return tx->erase(key); }, tx_);
    }
    TransactionScans scan(const KeyRange& range) const {
      return visit_indexed<TransactionScans>(tx_, [&](auto* tx) { return tx->scan(range); });
    }

   private:
    friend class BasicAnyBackend;
    template <class T>
    explicit Transaction(T* tx) : tx_(tx) {}
    std::variant<typename Bs::transaction*...> tx_;
  };
  using transaction = Transaction;

  /// Holds `backend`, one of Bs.
  template <class B>
    requires(std::is_same_v<std::remove_cvref_t<B>, Bs> || ...)
  BasicAnyBackend(B&& backend) : v_(std::forward<B>(backend)) {}

  /// The backend held, if it is a B.
  template <class B>
  B* get_if() noexcept {
    return std::get_if<B>(&v_);
  }

  Result<std::optional<std::string>> get(std::string_view key) const {
    return std::visit([&](const auto& b) { return b.get(key); }, v_);
  }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return std::visit([&](const auto& b) { return b.get(key, fn); }, v_);
  }
  Result<void> put(std::string_view key, std::string_view value) {
    return std::visit([&](auto& b) { return b.put(key, value); }, v_);
  }
  Result<bool> erase(std::string_view key) {
    return std::visit([&](auto& b) { return b.erase(key); }, v_);
  }
  Result<void> write(const WriteBatch& batch) {
    return std::visit([&](auto& b) { return b.write(batch); }, v_);
  }
  Scans scan(const KeyRange& range) const {
    return visit_indexed<Scans>(v_, [&](const auto& b) { return b.scan(range); });
  }
  /// The number of keys in `range` (see count_keys): counted by the held engine where it can.
  Result<std::uint64_t> count(const KeyRange& range) const {
    return std::visit([&](const auto& b) { return count_keys(b, range); }, v_);
  }
  /// The held backend's checkpoint, or errc::unsupported if it has none.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    return std::visit(
        [&](const auto& b) -> Result<void> {
          if constexpr (Checkpointable<std::remove_cvref_t<decltype(b)>>) return b.checkpoint(dir);
          else return Error{errc::unsupported, "this backend has no checkpoint"};
        },
        v_);
  }

  /// Makes every write that returned durable: the held backend's sync, if it has one (else its
  /// writes are as durable as they will be).
  Result<void> sync() const {
    return std::visit(
        [](const auto& b) -> Result<void> {
          if constexpr (requires { { b.sync() } -> std::same_as<Result<void>>; }) return b.sync();
          else return success();
        },
        v_);
  }

  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, Transaction&> {
    using R = std::invoke_result_t<F&, Transaction&>;
    return std::visit(
        [&](auto& b) -> R {
          return b.transact([&](auto& tx) -> R {
            Transaction any(&tx);
            return std::invoke(fn, any);
          });
        },
        v_);
  }

 private:
  // std::visit that also says which alternative it visited, so the result is built in the
  // same position of Out's variant (alternatives may repeat a type).
  template <class Out, class V, class F>
  static Out visit_indexed(V& v, F&& f) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      std::optional<Out> out;
      ((v.index() == I ? void(out.emplace(std::in_place_index<I>, f(std::get<I>(v)))) : void()), ...);
      return std::move(*out);
    }(std::make_index_sequence<sizeof...(Bs)>{});
  }

  std::variant<Bs...> v_;
};

/// The engines compiled into this program.
using AnyBackend = BasicAnyBackend<MemoryBackend
#if KVSTACK_WITH_LMDB
                                   , LmdbBackend
#endif
#if KVSTACK_WITH_ROCKSDB
                                   , RocksDbBackend
#endif
#if KVSTACK_WITH_SQLITE
                                   , SqliteBackend
#endif
#if KVSTACK_WITH_POSTGRES
                                   , PostgresBackend
#endif
#if KVSTACK_WITH_REDIS
                                   , RedisBackend
#endif
                                   >;

static_assert(check_backend<AnyBackend>());

}  // namespace kvstack
