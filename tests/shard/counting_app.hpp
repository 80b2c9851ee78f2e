// CountingApp: an App that counts, in the same transaction, how many times each user key under
// "e/" was written; the count is exact across crashes, so 2 means an entry was applied twice.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>

namespace kvstack::test {

/// What an App transaction looks like to the shard, with a count of how many times each entry
/// key `de/N` was written kept in `applies/N`, in the same transaction: so the count is exact
/// across crashes, and 2 means an entry was applied twice.
template <class Tx>
struct CountingTx {
  Tx* tx;
  Result<std::optional<std::string>> get(std::string_view k) const { return tx->get(k); }
  template <class F>
  Result<bool> get(std::string_view k, F&& fn) const {
    return tx->get(k, std::forward<F>(fn));
  }
  auto scan(const KeyRange& r) const { return tx->scan(r); }
  Result<bool> erase(std::string_view k) { return tx->erase(k); }
  Result<void> put(std::string_view k, std::string_view v) {
    if (k.starts_with("de/")) {
      const std::string count_key = "applies/" + std::string(k.substr(3));
      auto count = tx->get(count_key);
      if (!count) return count.error();
      const int n = count.value() ? std::stoi(*count.value()) : 0;
      if (auto r = tx->put(count_key, std::to_string(n + 1)); !r) return r;
    }
    return tx->put(k, v);
  }
};

template <class B>
class CountingApp {
 public:
  using transaction = CountingTx<typename B::transaction>;
  explicit CountingApp(B inner) : inner_(std::move(inner)) {}

  Result<std::optional<std::string>> get(std::string_view k) const { return inner_.get(k); }
  template <class F>
  Result<bool> get(std::string_view k, F&& fn) const {
    return inner_.get(k, std::forward<F>(fn));
  }
  auto scan(const KeyRange& r) const { return inner_.scan(r); }
  Result<void> put(std::string_view k, std::string_view v) { return inner_.put(k, v); }
  Result<bool> erase(std::string_view k) { return inner_.erase(k); }
  Result<void> write(const WriteBatch& b) { return inner_.write(b); }
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    return inner_.transact([&](typename B::transaction& tx) {
      transaction counting{&tx};
      return fn(counting);
    });
  }

 private:
  B inner_;
};

/// How many times user key `key` (under "e/") was written to `app`, a CountingApp.
template <class App>
int applies_of(const App& app, std::string_view key) {
  auto count = app.get("applies/" + std::string(key.substr(2))).value();
  return count ? std::stoi(*count) : 0;
}

}  // namespace kvstack::test
