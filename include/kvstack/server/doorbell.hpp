// kvstack::redis::Doorbell — wakes a connection's coroutine from any thread (a Pub/Sub message for
// a subscriber that waits for requests). It is an eventfd: a ring keeps it readable until the
// connection resets it, so no ring is lost whenever it comes. (Asio 1.81's buffered channel is not
// safe here: once a receive is cancelled, try_send fails until the next receive starts.)
#pragma once

#include <atomic>
#include <utility>

#include <sys/eventfd.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace kvstack::inline v0::redis {

/// An eventfd opened on first use. Protocol for the waiting side: open(), then check what the
/// rings announce (a ring before open() is dropped), then wait() until rung, reset(), check again.
class Doorbell {
 public:
  explicit Doorbell(const boost::asio::any_io_executor& executor) : descriptor_(executor) {}
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  ~Doorbell() { fd_.store(-1); }

  /// Rings it. Any thread.
  void ring() noexcept {
    if (int fd = fd_.load(); fd >= 0) ::eventfd_write(fd, 1);
  }

  enum class Opened { before, now, failed };
  /// Opens it if it is not open yet. `now`: the caller checks again for what came before;
  /// `failed`: no descriptor could be had (errno tells why).
  Opened open() {
    if (descriptor_.is_open()) return Opened::before;
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return Opened::failed;
    descriptor_.assign(fd);
    fd_.store(fd);
    return Opened::now;
  }

  /// Waits until it is rung (or was rung since the last reset); completes with an error_code.
  template <class Token>
  auto wait(Token&& token) {
    return descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read, std::forward<Token>(token));
  }

  /// Silences it until the next ring.
  void reset() noexcept {
    eventfd_t count;
    ::eventfd_read(descriptor_.native_handle(), &count);
  }

 private:
  boost::asio::posix::stream_descriptor descriptor_;
  std::atomic<int> fd_{-1};
};

}  // namespace kvstack::inline v0::redis
