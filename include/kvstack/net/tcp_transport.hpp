// kvstack::TcpTransport — a Transport between processes over TCP (Boost.Asio): frames of a
// length, a CRC32C (Boost.CRC) and an encoded Message; one outgoing connection per peer, opened
// again with exponential backoff when it fails; a bounded queue per peer.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/crc.hpp>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/message_codec.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/transport.hpp>

namespace kvstack::inline v0 {

/// Where a peer listens.
struct TcpPeer {
  std::uint64_t id = 0;
  std::string host;  ///< a numeric address: "127.0.0.1", "::1"
  std::uint16_t port = 0;
};

struct TcpTransportOptions {
  std::uint64_t id = 0;  ///< this replica (the `from` of what it sends)
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  ///< 0: any free port (see `port()`)
  std::vector<TcpPeer> peers{};
  std::size_t max_queue = 4096;                       ///< frames waiting per peer; beyond, the oldest are dropped
  std::size_t max_frame_bytes = std::size_t{64} << 20;  ///< a larger frame closes the connection
  std::chrono::milliseconds min_backoff{10}, max_backoff{1000};
};

/// What a TcpTransport did.
struct TcpStats {
  std::uint64_t sent = 0, received = 0, dropped = 0, corrupt = 0, connects = 0;
};

namespace detail {
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;
inline std::uint32_t crc32c(std::string_view bytes) {
  Crc32c crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}
inline void put_u32(std::uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
}  // namespace detail

/// Messages over TCP, best effort (the policies resend what matters). A frame is the payload's
/// length and its CRC32C (4 bytes each, little-endian), then the payload (encode_message). A
/// frame whose checksum or length is wrong closes its connection and counts as corrupt. Sends
/// never block: a frame waits in its peer's queue until a connection takes it. Runs its own
/// I/O thread; thread-safe.
class TcpTransport {
 public:
  /// Listens and starts the I/O thread; errc::io_error naming the address if it cannot bind.
  static Result<std::unique_ptr<TcpTransport>> open(TcpTransportOptions options) {
    std::unique_ptr<TcpTransport> t(new TcpTransport(std::move(options)));
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(t->options_.listen_host, ec);
    if (!ec) t->acceptor_.open(address.is_v4() ? boost::asio::ip::tcp::v4() : boost::asio::ip::tcp::v6(), ec);
    if (!ec) t->acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec) t->acceptor_.bind({address, t->options_.listen_port}, ec);
    if (!ec) t->acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Error{errc::io_error, "TcpTransport: cannot listen on " + t->options_.listen_host + ":" +
                                       std::to_string(t->options_.listen_port) + ": " + ec.message()};
    t->port_ = t->acceptor_.local_endpoint().port();
    for (const auto& p : t->options_.peers) {
      auto peer_address = boost::asio::ip::make_address(p.host, ec);
      if (ec) return Error{errc::invalid_argument, "TcpTransport: peer " + std::to_string(p.id) + ": bad address " + p.host};
      t->links_.emplace(p.id, std::make_unique<Link>(t->io_, boost::asio::ip::tcp::endpoint(peer_address, p.port)));
    }
    t->accept();
    t->thread_ = std::thread([raw = t.get()] { raw->io_.run(); });
    return t;
  }

  ~TcpTransport() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  /// The port it listens on.
  std::uint16_t port() const noexcept { return port_; }

  /// Queues `m` for `m.to` (its `from` set to this replica); messages to unknown peers are dropped.
  void send(Message m) {
    m.from = options_.id;
    std::string frame(8, '\0');
    encode_message(m, frame);
    detail::put_u32(static_cast<std::uint32_t>(frame.size() - 8), frame.data());
    detail::put_u32(detail::crc32c(std::string_view(frame).substr(8)), frame.data() + 4);
    boost::asio::post(io_, [this, to = m.to, frame = std::move(frame)]() mutable {
      auto it = links_.find(to);
      if (it == links_.end()) return count(&TcpStats::dropped);
      Link& link = *it->second;
      if (link.queue.size() >= options_.max_queue) {
        link.queue.pop_front();
        count(&TcpStats::dropped);
      }
      link.queue.push_back(std::move(frame));
      pump(link);
    });
  }

  /// Adds peer `p`, or moves it to a new address (its connection is opened again there): for a
  /// membership change. A peer that left is simply no longer sent to.
  void set_peer(TcpPeer p) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(p.host, ec);
    if (ec) return;
    boost::asio::post(io_, [this, id = p.id, at = boost::asio::ip::tcp::endpoint(address, p.port)] {
      auto [it, added] = links_.try_emplace(id, nullptr);
      if (added) it->second = std::make_unique<Link>(io_, at);
      else if (it->second->endpoint != at) {
        it->second->endpoint = at;
        boost::system::error_code ignored;
        it->second->socket.close(ignored);  // a write in flight fails and retries at `at`
        it->second->connected = false;
      }
    });
  }

  /// Hands `fn(Message&&)` every message received since the last call; returns how many.
  template <class F>
  std::size_t receive(F&& fn) {
    std::vector<Message> got;
    {
      std::lock_guard lock(mu_);
      got.swap(inbox_);
    }
    for (auto& m : got) fn(std::move(m));
    return got.size();
  }

  /// Waits until a message has arrived, `wake()` was called or `timeout` passes; true if a
  /// message is waiting.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    arrived_.wait_for(lock, timeout, [&] { return !inbox_.empty() || woken_; });
    woken_ = false;
    return !inbox_.empty();
  }
  /// Ends a `wait` now (the shard has messages to send).
  void wake() {
    std::lock_guard lock(mu_);
    woken_ = true;
    arrived_.notify_one();
  }

  TcpStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Link {
    Link(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint at) : endpoint(at), socket(io), timer(io) {}
    boost::asio::ip::tcp::endpoint endpoint;
    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer timer;
    std::deque<std::string> queue;
    bool connected = false, busy = false;  // busy: connecting, waiting to reconnect, or writing
    std::chrono::milliseconds backoff{0};
  };
  struct Reader : std::enable_shared_from_this<Reader> {
    explicit Reader(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    char header[8];
    std::string payload;
  };

  explicit TcpTransport(TcpTransportOptions options)
      : options_(std::move(options)), acceptor_(io_), work_(boost::asio::make_work_guard(io_)) {}

  void count(std::uint64_t TcpStats::*field, std::uint64_t n = 1) {
    std::lock_guard lock(mu_);
    stats_.*field += n;
  }

  /// Moves `link` on: connect if needed, else write the next frame.
  void pump(Link& link) {
    if (link.busy || link.queue.empty()) return;
    link.busy = true;
    if (!link.connected) {
      link.socket.async_connect(link.endpoint, [this, &link](const boost::system::error_code& ec) {
        if (ec) return retry_later(link);
        link.connected = true;
        link.busy = false;
        link.backoff = {};
        count(&TcpStats::connects);
        pump(link);
      });
      return;
    }
    boost::asio::async_write(link.socket, boost::asio::buffer(link.queue.front()),
                             [this, &link](const boost::system::error_code& ec, std::size_t) {
                               if (ec) return retry_later(link);  // the frame stays queued
                               link.queue.pop_front();
                               link.busy = false;
                               count(&TcpStats::sent);
                               pump(link);
                             });
  }
  void retry_later(Link& link) {
    boost::system::error_code ignored;
    link.socket.close(ignored);
    link.connected = false;
    link.backoff = std::clamp(link.backoff * 2, options_.min_backoff, options_.max_backoff);
    link.timer.expires_after(link.backoff);
    link.timer.async_wait([this, &link](const boost::system::error_code& ec) {
      if (ec) return;
      link.busy = false;
      pump(link);
    });
  }

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (!ec) read_frame(std::make_shared<Reader>(std::move(socket)));
      if (ec != boost::asio::error::operation_aborted) accept();
    });
  }
  void read_frame(std::shared_ptr<Reader> r) {
    boost::asio::async_read(r->socket, boost::asio::buffer(r->header), [this, r](const boost::system::error_code& ec, std::size_t) {
      if (ec) return;
      const std::uint32_t length = detail::get_u32(r->header);
      if (length > options_.max_frame_bytes) return count(&TcpStats::corrupt);  // r closes with the last reference
      r->payload.resize(length);
      boost::asio::async_read(r->socket, boost::asio::buffer(r->payload), [this, r](const boost::system::error_code& ec2, std::size_t) {
        if (ec2) return;
        if (detail::crc32c(r->payload) != detail::get_u32(r->header + 4)) return count(&TcpStats::corrupt);
        auto m = decode_message(r->payload);
        if (!m) return count(&TcpStats::corrupt);
        {
          std::lock_guard lock(mu_);
          inbox_.push_back(std::move(m).value());
          ++stats_.received;
        }
        arrived_.notify_all();
        read_frame(r);
      });
    });
  }

  TcpTransportOptions options_;
  std::uint16_t port_ = 0;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::map<std::uint64_t, std::unique_ptr<Link>> links_;  // touched on the I/O thread only, after open
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<Message> inbox_;
  bool woken_ = false;  // wake() was called since the last wait
  TcpStats stats_;
  std::thread thread_;
};

static_assert(check_transport<TcpTransport>());

}  // namespace kvstack
