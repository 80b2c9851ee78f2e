// cluster_load: a closed-loop write load against a replicated store, and a failover timer
// (benchmarks/cluster_vs_etcd.sh runs it).
//
//   cluster_load resp HOST:PORT CLIENTS SECONDS VALUE_BYTES   SET over RESP (kvstack-server)
//   cluster_load etcd HOST:PORT CLIENTS SECONDS VALUE_BYTES   PUT over etcd's v3 JSON gateway
//   cluster_load failover HOST:PORT,HOST:PORT,... ROUNDS      kill -9 the leader (found by INFO),
//       time until a SET succeeds through the new one, start the killed member again (same
//       command line), wait until it caught up; repeat
//
// The load prints one line: "clients N ops N ops_per_s X p50_us X p99_us X errors N".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/resp_client.hpp"

extern char** environ;

namespace {
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using kvstack::test::RespClient;

struct Address {
  std::string host;
  std::uint16_t port;
};
Address address(const std::string& s) {
  auto colon = s.rfind(':');
  return {s.substr(0, colon), static_cast<std::uint16_t>(std::stoi(s.substr(colon + 1)))};
}

std::string base64(std::string_view in) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += digits[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += i + 1 < in.size() ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// One keep-alive HTTP/1.1 connection to etcd's gateway: POST /v3/kv/put.
class EtcdClient {
 public:
  explicit EtcdClient(const Address& at) : at_(at) { reconnect(); }
  bool put(const std::string& key, const std::string& value) {
    const std::string body = "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(value) + "\"}";
    const std::string request = "POST /v3/kv/put HTTP/1.1\r\nHost: " + at_.host + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    if (fd_ < 0 && !reconnect()) return false;
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return fail();
    // The status line and headers, then Content-Length bytes of body.
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return fail();
    const std::string head = in_.substr(0, end);
    in_.erase(0, end + 4);
    const bool ok = head.rfind("HTTP/1.1 200", 0) == 0;
    auto cl = head.find("Content-Length: ");
    if (cl == std::string::npos) return fail();  // the gateway answers small bodies with a length
    const auto length = std::stoul(head.substr(cl + 16));
    while (in_.size() < length)
      if (!fill()) return fail();
    in_.erase(0, length);
    return ok;
  }

 private:
  bool reconnect() {
    if (fd_ >= 0) ::close(fd_);
    in_.clear();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(at_.port);
    ::inet_pton(AF_INET, at_.host.c_str(), &sa.sin_addr);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return true;
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  bool fill() {
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  bool fail() {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  Address at_;
  int fd_ = -1;
  std::string in_;
};

int load(const std::string& kind, const Address& at, int clients, int seconds, std::size_t value_bytes) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> errors{0};
  std::vector<std::vector<std::uint32_t>> latencies(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  const std::string value(value_bytes, 'v');
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      auto& mine = latencies[static_cast<std::size_t>(c)];
      std::optional<RespClient> resp;
      std::optional<EtcdClient> etcd;
      if (kind == "resp") resp = RespClient::connect(at.host, at.port);
      else etcd.emplace(at);
      for (std::uint64_t i = 0; !stop; ++i) {
        const std::string key = "k" + std::to_string(c) + ":" + std::to_string(i % 10000);
        const auto start = Clock::now();
        bool ok = false;
        if (resp) {
          auto r = resp->command({"SET", key, value});
          ok = r && !r->is_error();
        } else if (etcd) {
          ok = etcd->put(key, value);
        }
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        if (ok) mine.push_back(static_cast<std::uint32_t>(us));
        else ++errors;
        if (!resp && !etcd) break;  // could not connect
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measurement's duration
  stop = true;
  for (auto& t : threads) t.join();
  std::vector<std::uint32_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0u : all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("clients %d ops %zu ops_per_s %.0f p50_us %u p99_us %u errors %llu\n", clients, all.size(),
              static_cast<double>(all.size()) / seconds, pct(0.50), pct(0.99), static_cast<unsigned long long>(errors.load()));
  return all.empty() ? 1 : 0;
}

std::string info(const Address& at, const std::string& section) {
  auto c = RespClient::connect(at.host, at.port, 1s);
  if (!c) return "";
  auto r = c->command({"INFO", section});
  return r && !r->is_error() ? r->text : "";
}
std::string field(const std::string& text, const std::string& name) {
  auto at = text.find(name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 1;
  return text.substr(at, text.find('\r', at) - at);
}

int failover(const std::vector<Address>& members, int rounds) {
  std::vector<double> ms;
  for (int round = 0; round < rounds; ++round) {
    // The leader, its pid and command line.
    int leader = -1;
    for (std::size_t i = 0; i < members.size() && leader < 0; ++i)
      if (field(info(members[i], "replication"), "raft_role") == "leader") leader = static_cast<int>(i);
    if (leader < 0) {
      std::this_thread::sleep_for(10ms);
      --round;
      continue;
    }
    const auto pid = std::stoi(field(info(members[static_cast<std::size_t>(leader)], "server"), "process_id"));
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    std::vector<std::string> args;
    for (std::string a; std::getline(cmdline, a, '\0');) args.push_back(a);
    char cwd[4096];
    const std::string exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe");
    if (!::realpath(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd)) return 1;
    const auto killed = Clock::now();
    ::kill(pid, SIGKILL);
    // A SET through whoever leads next.
    for (bool done = false; !done;)
      for (std::size_t i = 0; i < members.size() && !done; ++i) {
        if (static_cast<int>(i) == leader) continue;
        auto c = RespClient::connect(members[i].host, members[i].port, 1s);
        auto r = c ? c->command({"SET", "failover", std::to_string(round)}) : std::nullopt;
        done = r && !r->is_error();
      }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - killed).count());
    std::printf("round %d: %.0f ms\n", round, ms.back());
    // The killed member again, as it was started (its parent reaps it; this tool is not it).
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = 0;
    const std::string here = std::filesystem::current_path();
    std::filesystem::current_path(cwd);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn(&child, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    std::filesystem::current_path(here);
    // Caught up: every member applied what the leader has.
    for (bool caught_up = false; !caught_up;) {
      std::this_thread::sleep_for(20ms);
      std::vector<std::string> applied;
      for (auto& m : members) applied.push_back(field(info(m, "replication"), "raft_applied_index"));
      caught_up = !applied[0].empty() && std::all_of(applied.begin(), applied.end(), [&](auto& a) { return a == applied[0]; });
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("failover p50_ms %.0f max_ms %.0f over %d kills\n", ms[ms.size() / 2], ms.back(), rounds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 5 && (a[0] == "resp" || a[0] == "etcd"))
    return load(a[0], address(a[1]), std::stoi(a[2]), std::stoi(a[3]), std::stoul(a[4]));
  if (a.size() == 3 && a[0] == "failover") {
    std::vector<Address> members;
    std::stringstream list(a[1]);
    for (std::string m; std::getline(list, m, ',');) members.push_back(address(m));
    return failover(members, std::stoi(a[2]));
  }
  std::cerr << "usage: cluster_load resp|etcd HOST:PORT CLIENTS SECONDS VALUE_BYTES | failover HOST:PORT,... ROUNDS\n";
  return 2;
}
