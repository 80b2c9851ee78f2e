// RespClient: a blocking RESP2 client for tests — one connection, commands sent and their
// replies read back as redis::Reply, every wait bounded by a timeout.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kvstack/redis/reply.hpp>

namespace kvstack::test {

class RespClient {
 public:
  /// Connects to host:port (numeric IPv4); nullopt if it cannot within `timeout`.
  static std::optional<RespClient> connect(const std::string& host, std::uint16_t port,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    RespClient c(fd);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &at.sin_addr) != 1) return std::nullopt;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) return std::nullopt;
    return c;
  }

  RespClient(RespClient&& o) noexcept : fd_(std::exchange(o.fd_, -1)), in_(std::move(o.in_)) {}
  RespClient& operator=(RespClient&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(in_, o.in_);
    return *this;
  }
  ~RespClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Sends one command; false if the connection failed.
  bool send(const std::vector<std::string>& argv) {
    std::string out = "*" + std::to_string(argv.size()) + "\r\n";
    for (auto& a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    for (std::size_t at = 0; at < out.size();) {
      auto n = ::send(fd_, out.data() + at, out.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<std::size_t>(n);
    }
    return true;
  }
  /// Reads one reply; nullopt on a timeout or a closed connection (the outcome is then unknown).
  std::optional<redis::Reply> read() { return parse(); }
  /// send, then read.
  std::optional<redis::Reply> command(const std::vector<std::string>& argv) {
    if (!send(argv)) return std::nullopt;
    return read();
  }

 private:
  explicit RespClient(int fd) : fd_(fd) {}

  bool fill() {
    char buf[16384];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  std::optional<std::string> line() {
    std::size_t end;
    while ((end = in_.find("\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    std::string l = in_.substr(0, end);
    in_.erase(0, end + 2);
    return l;
  }
  std::optional<redis::Reply> parse() {
    auto l = line();
    if (!l || l->empty()) return std::nullopt;
    const char type = (*l)[0];
    std::string rest = l->substr(1);
    switch (type) {
      case '+': return redis::reply::simple(rest);
      case '-': return redis::reply::error(rest);
      case ':': return redis::reply::integer(std::stoll(rest));
      case '$': {
        const long long n = std::stoll(rest);
        if (n < 0) return redis::reply::null();
        while (in_.size() < static_cast<std::size_t>(n) + 2)
          if (!fill()) return std::nullopt;
        auto r = redis::reply::bulk(std::string_view(in_).substr(0, static_cast<std::size_t>(n)));
        in_.erase(0, static_cast<std::size_t>(n) + 2);
        return r;
      }
      case '*': {
        const long long n = std::stoll(rest);
        if (n < 0) return redis::reply::null_array();
        std::vector<redis::Reply> items;
        for (long long i = 0; i < n; ++i) {
          auto item = parse();
          if (!item) return std::nullopt;
          items.push_back(std::move(*item));
        }
        return redis::reply::array(std::move(items));
      }
      default: return std::nullopt;
    }
  }

  int fd_ = -1;
  std::string in_;
};

}  // namespace kvstack::test
