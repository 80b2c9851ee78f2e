// kvstack::redis::RaftNode — a server's Node as a member of a Raft cluster: its DataStore over a
// Raft shard (log and data each in an engine of their own), the TCP transport and the runner;
// redirects to the leader (-MOVED), INFO replication, RAFT.NODE membership changes, and a
// replicated address book of the members.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/backend/config.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/net/replica_runner.hpp>
#include <kvstack/net/tcp_transport.hpp>
#include <kvstack/redis/datastore.hpp>
#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/reply.hpp>
#include <kvstack/server/options.hpp>
#include <kvstack/shard/backend_log.hpp>
#include <kvstack/shard/raft/raft.hpp>
#include <kvstack/shard/shard_backend.hpp>

namespace kvstack::inline v0::redis {

/// One member of a Raft-replicated Redis store. Every data command runs on the leader (a
/// follower answers `-MOVED 0 host:port` with the leader's client address, or `-CLUSTERDOWN no
/// leader`); the leader's group commit makes each batch of clients' commands one Raft entry.
///
/// The members' addresses are replicated with the data (records under "\0cluster/member/", which
/// the Redis model never uses), so that every member, a future leader included, knows where a
/// member added later listens.
class RaftNode {
 public:
  using RaftShard = Shard<BackendLog<AnyBackend>, AnyBackend, Raft>;
  using Store = DataStore<RaftShard>;

  /// Opens the member's engines under `options.engine.path` ("raft-log" and "data"), its
  /// DataStore, transport and runner.
  static Result<std::unique_ptr<RaftNode>> open(const ServerOptions& options) {
    std::unique_ptr<RaftNode> n(new RaftNode(options.cluster));
    const auto& c = options.cluster;
    std::error_code ec;
    std::filesystem::create_directories(options.engine.path, ec);
    if (ec) return Error{errc::io_error, "cannot create " + options.engine.path.string() + ": " + ec.message()};
    auto engine_at = [&](const char* name, bool sync) {
      Config e = options.engine;
      e.path = options.engine.path / name;
      if (!sync) e.params["sync"] = "false";
      return kvstack::open(e);
    };
    auto log_store = engine_at("raft-log", true);
    if (!log_store) return log_store.error();
    n->log_store_ = std::make_unique<AnyBackend>(std::move(log_store).value());
    // The data on RocksDB is not synced per commit: the log holds what it applied until the shard
    // has synced it (every tick, and before the log drops entries), so a write costs the log's
    // sync only. RocksDB recovers a consistent prefix of what it was not asked to sync; LMDB
    // without sync may not after a power loss, so its data keeps syncing every commit.
    const bool lazy_data = n->lazy_data_ = engine_is(options.engine, "rocksdb");
    auto data = engine_at("data", !lazy_data);
    if (!data) return data.error();
    RaftConfig raft{.id = c.node_id, .seed = c.node_id};
    for (auto& [id, at] : c.raft_peers)
      if (!(c.join && id == c.node_id)) raft.voters.push_back(id);
    raft.compact_every = c.compact_every;
    auto shard = RaftShard::open(BackendLog<AnyBackend>(*n->log_store_, "raft"), std::move(data).value(), Raft(raft),
                                 ShardOptions{.stale_reads = true,  // data commands pass barriers in their transactions
                                              .app_commits_durable = !lazy_data});
    if (!shard) return shard.error();
    auto store = Store::open(std::move(shard).value(), {.databases = options.databases});
    if (!store) return store.error();
    n->store_.emplace(std::move(store).value());
    n->store_->on_failure([raw = n.get()](const Error& e) {
      if (e.code() == errc::not_leader) return raw->not_leader();
      return reply::error("ERR " + e.message());
    });
    TcpTransportOptions t{.id = c.node_id, .listen_host = c.raft_bind.host, .listen_port = c.raft_bind.port};
    auto transport = TcpTransport::open(t);
    if (!transport) return transport.error();
    n->transport_ = std::move(transport).value();
    for (auto& [id, at] : c.raft_peers) n->set_member(id, at, c.raft_clients.at(id));
    n->refresh_members();  // and what the replicated address book says, when it says more
    n->runner_ = std::make_unique<Runner>(n->shard(), *n->transport_, c.tick);
    return n;
  }

  ~RaftNode() { runner_.reset(); }  // the runner stops before what it drives
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  Store& store() { return *store_; }
  RaftShard& shard() { return store_->backend(); }

  /// For the startup line: "node 1, raft 127.0.0.1:7101, peers 1=...,2=...".
  std::string describe() const {
    std::string s = "node " + std::to_string(options_.node_id) + ", raft " + options_.raft_bind.str() + ", peers ";
    for (auto& [id, at] : options_.raft_peers) s += (s.back() == ' ' ? "" : ",") + std::to_string(id) + "=" + at.str();
    s += lazy_data_ ? ", data synced every tick (the log at every write)" : "";
    return s + (options_.join ? " (joining)" : "");
  }

  // What a Server asks of its Node (see Standalone).

  bool owns(std::string_view name) const { return iequals(name, "raft.node") || iequals(name, "raft.digest"); }

  Reply handle(const std::vector<std::string>& a) {
    if (iequals(a[0], "raft.digest")) return digest();
    auto sub = a.size() >= 2 ? a[1] : "";
    if (iequals(sub, "add") && a.size() == 5) return add(a[2], a[3], a[4]);
    if (iequals(sub, "remove") && a.size() == 3) return remove(a[2]);
    return reply::error("ERR usage: RAFT.NODE ADD id raft-host:port client-host:port | RAFT.NODE REMOVE id");
  }

  /// nullopt on the leader (once its DataStore has caught up with the terms it did not lead);
  /// else the redirect.
  std::optional<Reply> redirect() {
    const auto st = shard().status();
    if (st.role != Role::leader) return not_leader();
    std::lock_guard lock(reload_mu_);
    if (loaded_term_ != st.term) {
      if (auto r = store_->reload(); !r) return reply::error("CLUSTERDOWN " + r.error().message());
      loaded_term_ = st.term;
    }
    return std::nullopt;
  }

  std::string replication_info() {
    const auto st = shard().status();
    raft::Membership m;
    (void)shard().with_policy([&](Raft& p, auto&) {
      m = p.membership();
      return success();
    });
    auto list = [](const std::vector<std::uint64_t>& ids) {
      std::string s;
      for (auto id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
      return s;
    };
    std::string s = std::string("role:") + (st.role == Role::leader ? "master" : "slave") + "\r\n";
    s += "raft_role:" + std::string(st.role == Role::leader ? "leader" : st.role == Role::candidate ? "candidate" : "follower");
    s += "\r\nraft_node_id:" + std::to_string(options_.node_id) + "\r\nraft_term:" + std::to_string(st.term);
    s += "\r\nraft_leader_id:" + std::to_string(st.leader.value_or(0));
    auto members = members_snapshot();
    if (st.leader && members.contains(*st.leader)) s += "\r\nraft_leader_addr:" + members[*st.leader].client.str();
    s += "\r\nraft_commit_index:" + std::to_string(st.commit) + "\r\nraft_applied_index:" + std::to_string(st.applied);
    s += "\r\nraft_voters:" + list(m.voters) + "\r\nraft_learners:" + list(m.learners) + "\r\n";
    for (const auto& p : st.peers)
      s += "raft_peer_" + std::to_string(p.id) + ":match=" + std::to_string(p.match) + ",lag=" + std::to_string(p.lag_entries) +
           ",snapshotting=" + (p.snapshotting ? "1" : "0") + "\r\n";
    return s;
  }

  /// Reads the address book; the leader promotes learners that caught up.
  void maintain() {
    refresh_members();
    const auto st = shard().status();
    if (st.role != Role::leader) return;
    for (const auto& p : st.peers)  // a voter is refused ("not a learner"), and so is a change while one is pending
      if (p.lag_entries == 0 && !p.snapshotting) (void)change_membership(raft::MembershipChange::Kind::promote, p.id);
  }

 private:
  using Runner = ReplicaRunner<RaftShard, TcpTransport>;
  struct Member {
    HostPort raft, client;
  };
  static constexpr std::string_view member_prefix{"\0cluster/member/", 16};

  explicit RaftNode(ClusterOptions options) : options_(std::move(options)) {}

  Reply not_leader() {
    const auto st = shard().status();
    auto members = members_snapshot();
    if (st.leader && *st.leader != options_.node_id && members.contains(*st.leader))
      return reply::error("MOVED 0 " + members[*st.leader].client.str());
    return reply::error("CLUSTERDOWN no leader");
  }

  std::map<std::uint64_t, Member> members_snapshot() {
    std::lock_guard lock(members_mu_);
    return members_;
  }

  void set_member(std::uint64_t id, const HostPort& raft_at, const HostPort& client_at) {
    std::lock_guard lock(members_mu_);
    auto& m = members_[id];
    if (m.raft == raft_at && m.client == client_at) return;
    m = {raft_at, client_at};
    if (id != options_.node_id) transport_->set_peer({id, raft_at.host, raft_at.port});
  }

  /// Takes the replicated address book's records in ("raft-host:port client-host:port").
  void refresh_members() {
    std::vector<std::pair<std::uint64_t, Member>> found;
    for (auto&& [k, v] : shard().scan(KeyRange::prefix(member_prefix))) {
      const auto id = parse_id(std::string_view(k).substr(member_prefix.size())).value_or(0);
      auto space = v.find(' ');
      auto raft_at = HostPort::parse(std::string_view(v).substr(0, space));
      auto client_at = space == std::string::npos ? std::nullopt : HostPort::parse(std::string_view(v).substr(space + 1));
      if (id && raft_at && client_at) found.push_back({id, {*raft_at, *client_at}});
    }
    for (auto& [id, m] : found) set_member(id, m.raft, m.client);
  }

  static bool engine_is(const Config& c, std::string_view engine) {
    if (!c.backend.empty()) return c.backend == engine;
    return engine == (KVSTACK_WITH_LMDB ? "lmdb" : "rocksdb");  // the default engine with a path
  }

  /// A member id: a non-zero decimal number, nothing else.
  static std::optional<std::uint64_t> parse_id(std::string_view s) {
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (ec != std::errc{} || end != s.data() + s.size() || id == 0) return std::nullopt;
    return id;
  }

  /// Proposes one membership change at this leader.
  Result<void> change_membership(raft::MembershipChange::Kind kind, std::uint64_t id) {
    return shard().with_policy([&](Raft& p, auto& log) -> Result<void> {
      auto changed = p.change_membership(log, raft::MembershipChange{kind, id});
      if (!changed) return changed.error();
      return success();
    });
  }

  static std::string member_key(std::uint64_t id) { return std::string(member_prefix) + std::to_string(id); }

  /// RAFT.NODE ADD: records the addresses, then adds the member as a learner; the leader
  /// promotes it to voter once it has caught up (maintain).
  Reply add(const std::string& id_text, const std::string& raft_text, const std::string& client_text) {
    const auto parsed = parse_id(id_text);
    auto raft_at = HostPort::parse(raft_text);
    auto client_at = HostPort::parse(client_text);
    if (!parsed) return reply::error("ERR invalid node id");
    const auto id = *parsed;
    if (!raft_at || !client_at) return reply::error("ERR addresses are host:port");
    if (auto refused = redirect()) return *refused;
    if (auto r = shard().put(member_key(id), raft_at->str() + " " + client_at->str()); !r) return failure(r.error());
    set_member(id, *raft_at, *client_at);
    auto r = change_membership(raft::MembershipChange::Kind::add_learner, id);
    return r ? reply::ok() : failure(r.error());
  }

  /// RAFT.NODE REMOVE: takes the member out of the group, then its address record.
  Reply remove(const std::string& id_text) {
    const auto parsed = parse_id(id_text);
    if (!parsed) return reply::error("ERR invalid node id");
    const auto id = *parsed;
    if (auto refused = redirect()) return *refused;
    if (id == options_.node_id) return reply::error("ERR this node leads: remove it from another one once it has handed over");
    if (auto r = change_membership(raft::MembershipChange::Kind::remove, id); !r) return failure(r.error());
    if (auto erased = shard().erase(member_key(id)); !erased) return failure(erased.error());
    return reply::ok();
  }

  /// RAFT.DIGEST: this member's applied index, key count and a 64-bit FNV-1a hash of its data
  /// (every key and value, in order, length-prefixed): equal on members that applied alike.
  Reply digest() {
    const auto applied = shard().status().applied;
    std::uint64_t h = 0xcbf29ce484222325ull, keys = 0;
    auto mix = [&](std::string_view s) {
      const auto n = s.size();
      for (int i = 0; i < 8; ++i) h = (h ^ ((n >> (8 * i)) & 0xff)) * 0x100000001b3ull;
      for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
    };
    for (auto&& [k, v] : shard().scan(KeyRange::all())) {
      mix(k);
      mix(v);
      ++keys;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return reply::array({reply::integer(static_cast<std::int64_t>(applied)), reply::integer(static_cast<std::int64_t>(keys)),
                         reply::bulk(hex)});
  }

  Reply failure(const Error& e) {
    if (e.code() == errc::not_leader) return not_leader();
    if (e.code() == errc::busy) return reply::error("TRYAGAIN " + e.message());
    return reply::error("ERR " + e.message());
  }

  ClusterOptions options_;
  bool lazy_data_ = false;  ///< the data engine does not sync its commits (the shard syncs it)
  std::unique_ptr<AnyBackend> log_store_;
  std::optional<Store> store_;
  std::unique_ptr<TcpTransport> transport_;
  std::unique_ptr<Runner> runner_;
  std::mutex reload_mu_;
  std::uint64_t loaded_term_ = 0;  ///< the term the DataStore was last reloaded in
  std::mutex members_mu_;
  std::map<std::uint64_t, Member> members_;
};

}  // namespace kvstack::redis
