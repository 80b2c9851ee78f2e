// kvstack::Transport — how a shard's messages reach its peers: sim::Network in tests, TCP
// between processes.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0 {

namespace detail {
struct MessageSink {
  void operator()(Message&&) const noexcept {}
};
}  // namespace detail

/// Carries Messages between replicas, best effort: a message may be delayed, lost, duplicated
/// or reordered (policies retry what matters), never altered.
/// - `send(message)` queues it for `message.to` and returns at once;
/// - `receive(fn)` hands `fn` every message that arrived for this replica since the last call,
///   and returns how many it handed over.
template <class T>
concept Transport = requires(T& t, Message m, detail::MessageSink fn) {
  t.send(std::move(m));
  { t.receive(fn) } -> std::convertible_to<std::size_t>;
};

/// `static_assert(kvstack::check_transport<T>())`: true for a Transport; otherwise the missing
/// operation fails to compile with one line naming it.
template <class T>
consteval bool check_transport() {
  static_assert(requires(T& t, Message m) { t.send(std::move(m)); },
                "kvstack::Transport: missing `send(Message)`");
  static_assert(requires(T& t, detail::MessageSink fn) { { t.receive(fn) } -> std::convertible_to<std::size_t>; },
                "kvstack::Transport: missing `receive(fn) -> std::size_t` (fn takes Message&&)");
  return true;  // only reached for a Transport
}

}  // namespace kvstack
