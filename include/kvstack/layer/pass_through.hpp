// kvstack::PassThrough — the optional capabilities a layer hands on unchanged from the backend it
// wraps, so that wrapping a backend never loses one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <type_traits>
#include <utility>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// The backend a layer wraps: the type its `inner()` returns.
template <class Layer>
using inner_t = std::remove_cvref_t<decltype(std::declval<const Layer&>().inner())>;

/// The base of every layer (`class Ttl : public PassThrough<Ttl<B>>`; the layer has `inner()`).
/// It gives the layer each optional capability of the backend below that the layer does not
/// change, under the same name and only when the backend below has it:
/// - `checkpoint(dir)` (Checkpointable): a layer keeps all its state in the backend below.
/// - `status()` and `wait_replicated(index, n, timeout)` of a replicated Shard: its role, log
///   position and each peer's lag, and Redis's WAIT (writes pass through the layer unchanged in
///   number and order, so indices mean the same above it).
///
/// A capability a layer observes (Expiring: Watched reports expiries, Metered counts them) is
/// written out in that layer instead. tests/layer/capabilities_test.cpp checks, for every layer
/// and every capability, that the layer has it exactly when the backend below has it.
template <class Layer>
class PassThrough {
 public:
  /// Writes a checkpoint of the backend below (see Checkpointable).
  Result<void> checkpoint(const std::filesystem::path& dir) const
    requires Checkpointable<inner_t<Layer>>
  {
    return static_cast<const Layer&>(*this).inner().checkpoint(dir);
  }
  /// The replication status of the shard below (Shard::status).
  auto status() const
    requires requires(const inner_t<Layer>& b) { b.status(); }
  {
    return static_cast<const Layer&>(*this).inner().status();
  }
  /// Waits until `n` peers of the shard below have acknowledged `index` (Shard::wait_replicated).
  template <class Duration>
  auto wait_replicated(std::uint64_t index, std::size_t n, Duration timeout) const
    requires requires(const inner_t<Layer>& b) { b.wait_replicated(index, n, timeout); }
  {
    return static_cast<const Layer&>(*this).inner().wait_replicated(index, n, timeout);
  }
};

}  // namespace kvstack
