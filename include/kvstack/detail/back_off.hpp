// detail::back_off — the pause between two tries of a transaction that conflicted (the engines on
// database servers retry serialization failures and aborted EXECs themselves).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

namespace kvstack::inline v0::detail {

/// Waits a random while, longer after each conflict in a row (none after the first two), so
/// that conflicting writers spread out instead of colliding again.
inline void back_off(unsigned attempt) {
  if (attempt < 2) return;
  thread_local std::minstd_rand random(static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
  const unsigned ceiling = 50u << std::min(attempt, 7u);  // microseconds
  std::this_thread::sleep_for(std::chrono::microseconds(random() % ceiling));
}

}  // namespace kvstack::detail
