// kvstack::sim::Disk<B> — a node's storage in a simulation: a Backend handle that copies share,
// so what a crashed node's shard wrote is there when the node restarts.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>

namespace kvstack::inline v0::sim {

/// A shared handle to one B: a simulation keeps one per node and hands a copy to each
/// incarnation of the node's shard. Every commit is durable (as an engine that syncs on
/// commit).
template <class B>
class Disk {
  static_assert(check_backend<B>());

 public:
  using transaction = typename B::transaction;

  explicit Disk(B backend) : b_(std::make_shared<B>(std::move(backend))) {}

  Result<std::optional<std::string>> get(std::string_view key) const { return b_->get(key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return b_->get(key, std::forward<F>(fn));
  }
  auto scan(const KeyRange& range) const { return b_->scan(range); }
  Result<void> put(std::string_view key, std::string_view value) { return b_->put(key, value); }
  Result<bool> erase(std::string_view key) { return b_->erase(key); }
  Result<void> write(const WriteBatch& batch) { return b_->write(batch); }
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    return b_->transact(std::forward<F>(fn));
  }

  B& backend() noexcept { return *b_; }

 private:
  std::shared_ptr<B> b_;
};

}  // namespace kvstack::sim
