// kvstack::redis::BlockedClients — the clients a server holds in BLPOP and the like, in the order
// they blocked: each with the keys it waits on, its deadline, and an answer set aside for it (a
// timeout, CLIENT UNBLOCK); which to serve after a write, and which have gone.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <optional>
#include <utility>

#include <sys/socket.h>

#include <kvstack/redis/reply.hpp>
#include <kvstack/redis/session.hpp>

namespace kvstack::inline v0::redis {

/// What a blocked client is waiting with, beside its connection's own state.
struct BlockedState {
  KeyWaits waits;  ///< the keys its blocking command waits on
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::optional<Reply> verdict;  ///< its answer without a retry: timed out, CLIENT UNBLOCK
};

/// Blocked jobs in the order they blocked. `Job` has `blocked` (a BlockedState), `fd` (its
/// connection's socket) and `client->id`. Not thread-safe: the server holds one lock around it;
/// `count` is what others may read meanwhile.
template <class Job>
class BlockedClients {
 public:
  explicit BlockedClients(std::atomic<std::size_t>& count) : count_(count) {}

  void add(Job job) {
    jobs_.push_back(std::move(job));
    ++count_;
  }

  /// CLIENT UNBLOCK: sets `verdict` aside for client `id` if it is blocked (and has none yet).
  bool unblock(std::uint64_t id, Reply verdict) {
    for (auto& job : jobs_)
      if (job.client->id == id && !job.blocked.verdict) {
        job.blocked.verdict = std::move(verdict);
        return true;
      }
    return false;
  }

  /// Answers with a nil those whose deadline is past, and, with `check_connections`, those whose
  /// connection closed (which serve() then drops rather than answers).
  void expire(std::chrono::steady_clock::time_point now, bool check_connections) {
    for (auto& job : jobs_)
      if (!job.blocked.verdict && (job.blocked.deadline <= now || (check_connections && !connected(job.fd))))
        job.blocked.verdict = reply::null_array();
  }

  /// Serves, in the order they blocked, the jobs whose keys were written since they blocked, or
  /// that have a verdict: `retry(job)` runs its command again (nullopt: still nothing to pop; the
  /// job keeps its place), then `go_on(job, reply)` takes it; `drop(job)` takes one whose
  /// connection closed. Again until none is served: serving one writes keys another may wait on
  /// (BLMOVE), and `go_on` may add jobs.
  template <class Retry, class GoOn, class Drop>
  void serve(Retry&& retry, GoOn&& go_on, Drop&& drop) {
    for (bool served = true; served;) {
      served = false;
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (!it->blocked.verdict && !it->blocked.waits.changed()) {
          ++it;
          continue;
        }
        Job job = std::move(*it);
        it = jobs_.erase(it);
        --count_;
        if (!connected(job.fd)) {
          drop(job);
          continue;
        }
        std::optional<Reply> r = std::exchange(job.blocked.verdict, std::nullopt);
        if (!r) r = retry(job);
        if (!r) {
          it = std::next(jobs_.insert(it, std::move(job)));
          ++count_;
          continue;
        }
        job.blocked = BlockedState{};
        served = true;
        go_on(std::move(job), std::move(*r));
      }
    }
  }

  /// Whether the client at `fd` is still connected: a closed connection reads as end of file
  /// (unless it sent more requests first, which are then taken for a connection still open).
  static bool connected(int fd) {
    char byte;
    auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }

 private:
  std::atomic<std::size_t>& count_;
  std::list<Job> jobs_;
};

}  // namespace kvstack::redis
