// detail::ConnectionPool — the idle connections an engine on a database library keeps for reuse
// (SQLite's readers, PostgreSQL's and Redis's connections), and the lease that gives one back.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0::detail {

/// Idle connections of type `Conn`, which says `broken()` (its link failed: it is dropped, and
/// with it every idle one, since what broke one — a server restart — broke them all) and
/// `reusable()` (it may serve the next caller as it is).
template <class Conn>
class ConnectionPool {
 public:
  /// A connection taken from the pool, given back when the lease goes (or by `give_back()`).
  class Lease {
   public:
    Lease() = default;
    Lease(const ConnectionPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&& o) noexcept {
      give_back();
      pool_ = o.pool_;
      conn = std::move(o.conn);
      return *this;
    }
    ~Lease() { give_back(); }
    void give_back() noexcept {
      if (conn) pool_->put_back(std::move(conn));
    }

   private:
    const ConnectionPool* pool_ = nullptr;

   public:
    std::unique_ptr<Conn> conn;  ///< empty once given back
  };

  explicit ConnectionPool(std::size_t max_idle = 8) : max_idle_(max_idle) {}

  /// An idle connection, or a new one from `connect() -> Result<std::unique_ptr<Conn>>`.
  template <class Connect>
  Result<Lease> lease(Connect&& connect) const {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        Lease l(this, std::move(idle_.back()));
        idle_.pop_back();
        return l;
      }
    }
    auto conn = connect();
    if (!conn) return conn.error();
    return Lease(this, std::move(conn).value());
  }

  /// Keeps `conn` for the next caller, unless it broke, cannot be reused or the pool is full.
  void put_back(std::unique_ptr<Conn> conn) const noexcept {
    std::vector<std::unique_ptr<Conn>> dropped;  // closed after the lock is released
    std::lock_guard lock(mutex_);
    if (conn->broken()) dropped.swap(idle_);
    else if (conn->reusable() && idle_.size() < max_idle_) idle_.push_back(std::move(conn));
  }

 private:
  std::size_t max_idle_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace kvstack::detail
