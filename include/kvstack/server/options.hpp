// kvstack::redis::ServerOptions — what kvstack-server is told on its command line, and how the
// command line is read (`--help` included).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <kvstack/backend/config.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0::redis {

/// A host and port, as "host:port" is written on the command line.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const HostPort&, const HostPort&) = default;

  /// Reads "host:port" (the host numeric, IPv6 in brackets); nullopt if it is not that.
  static std::optional<HostPort> parse(std::string_view s) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    HostPort hp{std::string(s.substr(0, colon)), 0};
    if (hp.host.front() == '[' && hp.host.back() == ']') hp.host = hp.host.substr(1, hp.host.size() - 2);
    auto digits = s.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), hp.port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    return hp;
  }
};

/// A Raft cluster's side of the options: which member this is, where the members listen.
struct ClusterOptions {
  std::uint64_t node_id = 0;                    ///< 0: no cluster (a standalone server)
  HostPort raft_bind;                           ///< where this member's Raft transport listens
  std::map<std::uint64_t, HostPort> raft_peers;   ///< every member's Raft address, this one's too
  std::map<std::uint64_t, HostPort> raft_clients; ///< every member's client (RESP) address
  bool join = false;  ///< a new member of a running cluster: it waits to be added (RAFT.NODE ADD)
  std::chrono::milliseconds tick{20};  ///< a Raft tick; elections time out after 10 to 20 of them
  std::uint64_t compact_every = 4096;   ///< applied entries after which the log is compacted
};

/// kvstack-server's options. The engine's fields come from KV_BACKEND / KV_PATH / KV_PARAMS when
/// the command line does not give them.
struct ServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 6379;  ///< 0: any free port (the server says which on its "ready" line)
  int databases = 16;
  std::string requirepass;
  std::size_t maxclients = 10000;
  /// Threads reading and writing sockets. Commands run one transaction at a time (the engine
  /// serializes them); half the cores leaves the rest to clients on the same machine.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency() / 2);
  std::size_t max_bulk = std::size_t{512} << 20;  ///< the largest bulk string a request may hold
  /// How often a standalone server makes its engine's commits durable, for an engine opened with
  /// sync=false (as Redis's appendfsync everysec); 0: never (the OS writes them when it will).
  std::chrono::milliseconds fsync_every{1000};
  Config engine;
  ClusterOptions cluster;
  bool help = false;  ///< `--help` was asked for: print server_usage() and stop
};

/// What `--help` prints.
inline constexpr std::string_view server_usage =
    "usage: kvstack-server [options]\n"
    "  --port N                   client port (default 6379; 0: any free port)\n"
    "  --bind ADDR                client address (default 127.0.0.1)\n"
    "  --backend memory|lmdb|rocksdb   the engine (default: KV_BACKEND, else lmdb with a path)\n"
    "  --path DIR                 the engine's directory (default: KV_PATH)\n"
    "  --params K=V,...           engine parameters (default: KV_PARAMS)\n"
    "  --databases N              logical databases (default 16)\n"
    "  --requirepass PASS         clients must AUTH first\n"
    "  --maxclients N             connections at once (default 10000)\n"
    "  --proto-max-bulk-len BYTES the largest bulk string of a request (default 512MB)\n"
    "  --threads N                I/O threads (default: half the cores)\n"
    "  --fsync-every-ms N         with sync=false, make commits durable every N ms (default 1000;\n"
    "                             0: never), as Redis's appendfsync everysec\n"
    "Raft cluster (all of node-id, raft-bind, raft-peers and raft-clients, on a durable engine):\n"
    "  --node-id N                this member's id (non-zero)\n"
    "  --raft-bind HOST:PORT      where this member's Raft transport listens\n"
    "  --raft-peers ID=HOST:PORT,...    every member's Raft address, this one's too\n"
    "  --raft-clients ID=HOST:PORT,...  every member's client address (for -MOVED redirects)\n"
    "  --raft-join                a new member of a running cluster: wait for RAFT.NODE ADD\n"
    "  --raft-tick-ms N           a Raft tick (default 20; elections after 10 to 20 ticks)\n"
    "  --raft-compact-every N     compact the log every N applied entries (default 4096)\n"
    "  --help                     this text\n";

namespace detail {
/// Reads "1=host:port,2=host:port".
inline Result<std::map<std::uint64_t, HostPort>> parse_members(std::string_view flag, std::string_view text) {
  std::map<std::uint64_t, HostPort> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto eq = entry.find('=');
    std::uint64_t id = 0;
    auto id_text = entry.substr(0, eq);
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    auto at = eq == std::string_view::npos ? std::nullopt : HostPort::parse(entry.substr(eq + 1));
    if (ec != std::errc{} || end != id_text.data() + id_text.size() || id == 0 || !at)
      return Error{errc::invalid_argument, std::string(flag) + ": '" + std::string(entry) + "' is not ID=HOST:PORT (ID non-zero)"};
    if (!out.emplace(id, *at).second)
      return Error{errc::invalid_argument, std::string(flag) + ": member " + std::to_string(id) + " given twice"};
  }
  return out;
}

/// The cluster options together make sense, or why not.
inline Result<void> check_cluster(const ServerOptions& o) {
  const auto& c = o.cluster;
  const bool any = c.node_id || !c.raft_peers.empty() || !c.raft_clients.empty() || !c.raft_bind.host.empty() || c.join;
  if (!any) return success();
  auto fail = [](std::string why) { return Error{errc::invalid_argument, "cluster mode: " + why}; };
  if (!c.node_id) return fail("--node-id is missing");
  if (c.raft_bind.host.empty()) return fail("--raft-bind is missing");
  if (!c.raft_peers.contains(c.node_id)) return fail("--raft-peers does not list this node (" + std::to_string(c.node_id) + ")");
  for (auto& [id, at] : c.raft_peers)
    if (!c.raft_clients.contains(id)) return fail("--raft-clients does not list member " + std::to_string(id));
  if (o.engine.backend == "memory" || (o.engine.backend.empty() && o.engine.path.empty()))
    return fail("a member keeps its vote and log on disk: give --path (and --backend lmdb or rocksdb)");
  return success();
}
}  // namespace detail

/// Reads kvstack-server's command line over the defaults and KV_BACKEND / KV_PATH / KV_PARAMS;
/// errc::invalid_argument naming the flag at fault.
inline Result<ServerOptions> parse_server_options(int argc, const char* const* argv) {
  ServerOptions o;
  auto env = Config::from_env();
  if (!env) return env.error();
  o.engine = std::move(env).value();
  auto bad = [](const std::string& why) { return Error{errc::invalid_argument, why}; };
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      return o;
    }
    if (flag == "--raft-join") {
      o.cluster.join = true;
      continue;
    }
    if (i + 1 >= argc) return bad(flag + " needs a value");
    const std::string_view v = argv[++i];
    // Sets `field` to the value, a whole number in [lo, hi].
    auto number = [&](auto& field, long long lo, long long hi) -> Result<void> {
      long long n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || end != v.data() + v.size() || v.empty() || n < lo || n > hi)
        return Error{errc::invalid_argument, flag + ": '" + std::string(v) + "' is not a number in [" +
                                                 std::to_string(lo) + ", " + std::to_string(hi) + "]"};
      field = static_cast<std::remove_reference_t<decltype(field)>>(n);
      return success();
    };
    long long tick_ms = 0;
    Result<void> r = success();
    if (flag == "--port") r = number(o.port, 0, 65535);
    else if (flag == "--bind") o.bind = v;
    else if (flag == "--backend") o.engine.backend = v;
    else if (flag == "--path") o.engine.path = std::string(v);
    else if (flag == "--params") {
      auto params = Config::parse_params(v);
      if (!params) return params.error();
      o.engine.params = std::move(params).value();
    } else if (flag == "--databases") r = number(o.databases, 1, 1 << 20);
    else if (flag == "--requirepass") o.requirepass = v;
    else if (flag == "--threads") r = number(o.threads, 1, 1024);
    else if (flag == "--fsync-every-ms") {
      long long ms = 0;
      r = number(ms, 0, 3'600'000);
      o.fsync_every = std::chrono::milliseconds(ms);
    }
    else if (flag == "--maxclients") r = number(o.maxclients, 1, 1 << 24);
    else if (flag == "--proto-max-bulk-len") r = number(o.max_bulk, 1024, 1ll << 40);
    else if (flag == "--node-id") r = number(o.cluster.node_id, 1, std::numeric_limits<long long>::max());
    else if (flag == "--raft-compact-every") r = number(o.cluster.compact_every, 1, 1ll << 40);
    else if (flag == "--raft-tick-ms") {
      r = number(tick_ms, 1, 10000);
      o.cluster.tick = std::chrono::milliseconds(tick_ms);
    } else if (flag == "--raft-bind") {
      auto at = HostPort::parse(v);
      if (!at) return bad("--raft-bind: '" + std::string(v) + "' is not HOST:PORT");
      o.cluster.raft_bind = *at;
    } else if (flag == "--raft-peers" || flag == "--raft-clients") {
      auto members = detail::parse_members(flag, v);
      if (!members) return members.error();
      (flag == "--raft-peers" ? o.cluster.raft_peers : o.cluster.raft_clients) = std::move(members).value();
    } else {
      return bad("unknown option " + flag + " (--help lists them)");
    }
    if (!r) return r.error();
  }
  if (auto r = detail::check_cluster(o); !r) return r.error();
  return o;
}

}  // namespace kvstack::redis
