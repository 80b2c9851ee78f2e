// kvstack-server's Raft cluster as processes: three members on loopback under a client load
// that records its history (SET, GET, INCR, and compare-and-set through WATCH/MULTI/EXEC), while
// the test SIGKILLs the leader and restarts it, SIGSTOPs a follower then SIGCONTs it, SIGKILLs a
// follower and wipes its directory (it comes back under a new id, from a snapshot), and adds
// then removes a fourth member. Afterwards: the history is linearizable, every acknowledged
// unique key is on the leader, and every member holds the same data (RAFT.DIGEST) — again after
// all of them stopped on SIGTERM and started again.
//
//   kvstack_cluster_test path/to/kvstack-server lmdb|rocksdb
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvstack/sim/linearizability.hpp>

#include "server/resp_client.hpp"

extern char** environ;

namespace {
using namespace std::chrono_literals;
using kvstack::redis::Reply;
using kvstack::test::RespClient;
using Clock = std::chrono::steady_clock;
using Argv = std::vector<std::string>;

[[noreturn]] void fail(const std::string& why) {
  std::cout << "FAIL: " << why << std::endl;
  std::exit(1);
}

/// Polls `done()` until it holds; fails the test naming `what` after `timeout`.
template <class F>
void wait_until(const std::string& what, F&& done, std::chrono::seconds timeout = 60s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) fail("timed out waiting until " + what);
    std::this_thread::sleep_for(10ms);
  }
}

/// A free loopback port (bound, then released for the server to take).
std::uint16_t free_port() {
  auto c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  if (::bind(c, reinterpret_cast<sockaddr*>(&at), len) != 0 || ::getsockname(c, reinterpret_cast<sockaddr*>(&at), &len) != 0)
    fail("no free port");
  ::close(c);
  return ntohs(at.sin_port);
}

std::string field(const std::string& info, const std::string& name) {
  auto at = info.find("\n" + name + ":");
  if (at == std::string::npos) at = info.rfind(name + ":", 0) == 0 ? 0 : std::string::npos;
  else ++at;
  if (at == std::string::npos) return "";
  auto start = at + name.size() + 1;
  return info.substr(start, info.find('\r', start) - start);
}

/// The cluster's processes.
class Cluster {
 public:
  struct Member {
    std::uint16_t client = 0, raft = 0;
    std::filesystem::path dir;
    pid_t pid = 0;
  };

  Cluster(std::string server, std::string engine, std::filesystem::path dir)
      : server_(std::move(server)), engine_(std::move(engine)), dir_(std::move(dir)) {}
  ~Cluster() {
    for (auto& [id, m] : members_)
      if (m.pid) {
        ::kill(m.pid, SIGCONT);
        ::kill(m.pid, SIGKILL);
        ::waitpid(m.pid, nullptr, 0);
      }
  }

  /// A new member id with ports and a directory of its own.
  void define(std::uint64_t id) {
    std::lock_guard lock(mu_);
    members_[id] = {free_port(), free_port(), dir_ / ("n" + std::to_string(id)), 0};
  }
  /// Member `id` takes the ports of `other` (a replacement).
  void define_like(std::uint64_t id, std::uint64_t other) {
    std::lock_guard lock(mu_);
    auto m = members_.at(other);
    m.dir = dir_ / ("n" + std::to_string(id));
    m.pid = 0;
    members_[id] = m;
  }
  void forget(std::uint64_t id) {
    std::lock_guard lock(mu_);
    members_.erase(id);
  }

  /// Starts member `id` knowing the members `peers` (itself among them) and waits for "ready".
  void start(std::uint64_t id, const std::vector<std::uint64_t>& peers, bool join = false) {
    const Member m = member(id);
    std::string raft_peers, clients;
    for (auto p : peers) {
      raft_peers += (raft_peers.empty() ? "" : ",") + std::to_string(p) + "=127.0.0.1:" + std::to_string(member(p).raft);
      clients += (clients.empty() ? "" : ",") + std::to_string(p) + "=127.0.0.1:" + std::to_string(member(p).client);
    }
    Argv args{server_, "--port", std::to_string(m.client), "--backend", engine_, "--path", m.dir.string(),
              "--node-id", std::to_string(id), "--raft-bind", "127.0.0.1:" + std::to_string(m.raft),
              "--raft-peers", raft_peers, "--raft-clients", clients, "--raft-compact-every", "64", "--threads", "2"};
    if (join) args.push_back("--raft-join");
    int out[2];
    if (::pipe(out) != 0) fail("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const auto log = (dir_ / ("n" + std::to_string(id) + ".log")).string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, server_.c_str(), &actions, nullptr, argv.data(), environ) != 0) fail("cannot start " + server_);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    std::string line;
    const auto deadline = Clock::now() + 60s;
    while (line.find('\n') == std::string::npos) {
      pollfd p{out[0], POLLIN, 0};
      if (Clock::now() > deadline || ::poll(&p, 1, 1000) < 0) fail("member " + std::to_string(id) + " did not start (see " + log + ")");
      char buf[256];
      auto n = ::read(out[0], buf, sizeof buf);
      if (n == 0) fail("member " + std::to_string(id) + " exited at start (see " + log + ")");
      if (n > 0) line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    if (line.rfind("ready ", 0) != 0) fail("member " + std::to_string(id) + " said: " + line);
    std::lock_guard lock(mu_);
    members_.at(id).pid = pid;
  }

  /// Sends `sig`; for SIGKILL and SIGTERM, waits for the process to end and returns its status.
  int signal(std::uint64_t id, int sig) {
    const pid_t pid = member(id).pid;
    ::kill(pid, sig);
    if (sig != SIGKILL && sig != SIGTERM) return 0;
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::lock_guard lock(mu_);
    members_.at(id).pid = 0;
    return status;
  }

  std::vector<std::uint64_t> running() const {
    std::lock_guard lock(mu_);
    std::vector<std::uint64_t> ids;
    for (auto& [id, m] : members_)
      if (m.pid) ids.push_back(id);
    return ids;
  }
  /// Member `id` as it is now (the load's threads read while the test changes membership).
  Member member(std::uint64_t id) const {
    std::lock_guard lock(mu_);
    return members_.at(id);
  }

  /// A command to member `id` on a fresh connection; nullopt if it did not answer in 5 s.
  std::optional<Reply> ask(std::uint64_t id, const Argv& argv) const {
    auto c = RespClient::connect("127.0.0.1", member(id).client);
    if (!c) return std::nullopt;
    return c->command(argv);
  }
  std::string info(std::uint64_t id) const {
    auto r = ask(id, {"INFO", "replication"});
    return r && !r->is_error() ? r->text : "";
  }
  /// The running member that says it leads (0: none now).
  std::uint64_t leader() const {
    for (auto id : running())
      if (field(info(id), "raft_role") == "leader") return id;
    return 0;
  }
  /// Runs an admin command at the leader, again while there is none or it says TRYAGAIN.
  Reply at_leader(const Argv& argv) {
    std::optional<Reply> r;
    wait_until(argv[0] + " " + argv[1] + " at the leader", [&] {
      auto l = leader();
      if (!l) return false;
      r = ask(l, argv);
      return r && !(r->is_error() && (r->text.rfind("TRYAGAIN", 0) == 0 || r->text.rfind("MOVED", 0) == 0 ||
                                      r->text.rfind("CLUSTERDOWN", 0) == 0));
    });
    return *r;
  }

 private:
  std::string server_, engine_;
  std::filesystem::path dir_;
  mutable std::mutex mu_;  // members_: the load's threads read it
  std::map<std::uint64_t, Member> members_;
};

/// Clients that run operations against the cluster, following redirects, and record a history.
class Load {
 public:
  explicit Load(Cluster& cluster) : cluster_(cluster) {}
  ~Load() { stop(); }

  void start(int clients) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this, i] { run(i); });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  /// Operations that succeeded so far.
  std::uint64_t succeeded() const { return succeeded_.load(); }
  std::vector<kvstack::sim::Op> history() {
    std::lock_guard lock(mu_);
    return history_;
  }
  std::vector<std::string> acknowledged_keys() {
    std::lock_guard lock(mu_);
    return unique_keys_;
  }

 private:
  using Op = kvstack::sim::Op;
  enum class Outcome { done, failed, unknown };

  static bool redirected(const Reply& r) {
    return r.is_error() && (r.text.rfind("MOVED ", 0) == 0 || r.text.rfind("CLUSTERDOWN", 0) == 0);
  }

  void run(int client) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(client) * 7919 + 1);
    std::optional<RespClient> conn;
    std::uint16_t port = 0;
    std::uint64_t seq = 0;
    auto connect_somewhere = [&] {
      auto ids = cluster_.running();
      if (ids.empty()) return;
      port = cluster_.member(ids[rng() % ids.size()]).client;
      conn = RespClient::connect("127.0.0.1", port, 2s);
    };
    // One command on the connection: the reply, following a MOVED to the leader once if
    // `follow` (else the next command goes there). nullopt if the connection failed after the
    // command was sent (its outcome is unknown); a CLUSTERDOWN error if it could not be sent.
    auto command = [&](const Argv& argv, bool follow = true) -> std::optional<Reply> {
      for (int hop = 0; hop < 2; ++hop) {
        if (!conn) return kvstack::redis::reply::error("CLUSTERDOWN not connected");
        auto r = conn->command(argv);
        if (!r) {
          conn.reset();
          return std::nullopt;
        }
        if (!(r->is_error() && r->text.rfind("MOVED ", 0) == 0)) return r;
        port = static_cast<std::uint16_t>(std::stoi(r->text.substr(r->text.rfind(':') + 1)));
        conn = RespClient::connect("127.0.0.1", port, 2s);
        if (!follow || hop == 1) return r;
      }
      return std::nullopt;
    };
    while (!stop_) {
      if (!conn) {
        std::this_thread::sleep_for(5ms);  // a client's back-off while members restart or elect
        connect_somewhere();
        if (!conn) continue;
      }
      // Keys change every 400 operations, so that each key's history stays short enough to check.
      const auto epoch = std::to_string(clock_.load() / 400);
      const std::string reg = "r" + epoch + "-" + std::to_string(rng() % 3), counter = "c" + epoch + "-" + std::to_string(rng() % 2);
      Op op;
      op.call = clock_++;
      Outcome outcome = Outcome::failed;
      switch (rng() % 8) {
        case 0: case 1: {  // SET a register to a value no one else writes
          op = {.kind = Op::Kind::put, .key = reg, .value = "v" + std::to_string(client) + "-" + std::to_string(++seq), .call = op.call};
          auto r = command({"SET", reg, *op.value});
          outcome = !r ? Outcome::unknown : *r == kvstack::redis::reply::ok() ? Outcome::done : redirected(*r) ? Outcome::failed : Outcome::unknown;
          break;
        }
        case 2: case 3: {
          op = {.kind = Op::Kind::get, .key = rng() % 2 ? reg : counter, .call = op.call};
          auto r = command({"GET", op.key});
          if (r && !r->is_error()) {
            outcome = Outcome::done;
            if (r->kind == Reply::Kind::bulk) op.read = r->text;
          }
          break;
        }
        case 4: case 5: {
          op = {.kind = Op::Kind::incr, .key = counter, .call = op.call};
          auto r = command({"INCR", counter});
          if (r && r->kind == Reply::Kind::integer) {
            outcome = Outcome::done;
            op.read = std::to_string(r->integer);
          } else if (!r || !redirected(*r)) {
            outcome = Outcome::unknown;
          }
          break;
        }
        case 6: {  // compare-and-set: WATCH, GET, MULTI, SET, EXEC on one member (none if redirected)
          op = {.kind = Op::Kind::cas, .key = reg, .value = "v" + std::to_string(client) + "-" + std::to_string(++seq), .call = op.call};
          std::optional<Reply> r;
          const Argv steps[] = {{"WATCH", reg}, {"GET", reg}, {"MULTI"}, {"SET", reg, *op.value}, {"EXEC"}};
          std::size_t step = 0;
          for (; step < std::size(steps); ++step) {
            r = command(steps[step], false);
            if (!r || r->is_error()) break;
            if (step == 1 && r->kind == Reply::Kind::bulk) op.expected = r->text;
          }
          if (step == std::size(steps)) outcome = r->kind == Reply::Kind::array ? Outcome::done : Outcome::failed;  // swapped, or not
          else if (step == 4 && (!r || !redirected(*r))) outcome = Outcome::unknown;  // EXEC's outcome not learned
          else if (conn && step > 0 && (!r || !redirected(*r))) command({"DISCARD"}), command({"UNWATCH"});
          break;
        }
        default: {  // a key written once, to be found at the end
          std::string key = "u" + std::to_string(client) + "-" + std::to_string(++seq);
          auto r = command({"SET", key, "1"});
          if (r && *r == kvstack::redis::reply::ok()) {
            std::lock_guard lock(mu_);
            unique_keys_.push_back(key);
            ++succeeded_;
          }
          continue;
        }
      }
      op.ret = clock_++;
      if (outcome == Outcome::failed) continue;  // no effect: not part of the history
      op.known = outcome == Outcome::done;
      if (op.known) ++succeeded_;
      std::lock_guard lock(mu_);
      history_.push_back(std::move(op));
    }
  }

  Cluster& cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> clock_{1}, succeeded_{0};
  std::mutex mu_;
  std::vector<Op> history_;
  std::vector<std::string> unique_keys_;
  std::vector<std::thread> threads_;
};

/// Waits until every running member applied the same index and holds the same data.
void converge(Cluster& c, const std::string& when) {
  std::string last;
  wait_until("the members converge " + when, [&] {
    std::optional<Reply> first;
    last.clear();
    for (auto id : c.running()) {
      auto d = c.ask(id, {"RAFT.DIGEST"});
      if (!d || d->elements.size() != 3) return false;
      last += std::to_string(id) + ": applied " + std::to_string(d->elements[0].integer) + ", " +
              std::to_string(d->elements[1].integer) + " keys, " + d->elements[2].text + "; ";
      if (first && *first != *d) return false;
      first = d;
    }
    return true;
  });
  std::cout << "converged " << when << ": " << last << std::endl;
}

/// Whether the checker refuses this history with one read made stale: a GET that read a SET's
/// value made to read the value of a SET that completed before that one began.
bool catches_a_stale_read(std::vector<kvstack::sim::Op> history) {
  using Kind = kvstack::sim::Op::Kind;
  for (auto& get : history) {
    if (get.kind != Kind::get || !get.known || !get.read) continue;
    const kvstack::sim::Op* read_from = nullptr;
    for (auto& put : history)
      if (put.kind == Kind::put && put.known && put.key == get.key && put.value == get.read) read_from = &put;
    if (!read_from || read_from->ret > get.call) continue;
    for (auto& older : history)
      if (older.kind == Kind::put && older.known && older.key == get.key && older.ret < read_from->call) {
        get.read = older.value;
        return !kvstack::sim::check_linearizable(history);
      }
  }
  fail("no read in the history to make stale");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: kvstack_cluster_test path/to/kvstack-server lmdb|rocksdb");
  std::signal(SIGPIPE, SIG_IGN);
  char tmpl[] = "/tmp/kvstack-cluster-XXXXXX";
  if (!::mkdtemp(tmpl)) fail("mkdtemp");
  const std::filesystem::path dir = tmpl;
  std::uint64_t stamp = 0;
  {
    Cluster c(argv[1], argv[2], dir);
    for (std::uint64_t id : {1, 2, 3}) c.define(id);
    std::vector<std::uint64_t> members{1, 2, 3};
    for (auto id : members) c.start(id, members);
    wait_until("a leader is elected", [&] { return c.leader() != 0; });

    Load load(c);
    load.start(4);
    auto progress = [&](const std::string& what, std::uint64_t ops = 300) {
      const auto from = load.succeeded();
      wait_until(what, [&] { return load.succeeded() >= from + ops; });
    };
    progress("the load runs");

    // The leader killed: a new one takes writes; the old one restarts and catches up.
    const auto killed = c.leader();
    const auto before = Clock::now();
    c.signal(killed, SIGKILL);
    std::uint64_t next = 0;
    wait_until("a new leader is elected", [&] { return (next = c.leader()) != 0; });
    progress("writes go on after the leader was killed", 20);
    std::cout << "leader " << killed << " killed: member " << next << " leads, the load went on after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - before).count() << " ms" << std::endl;
    c.start(killed, members);
    progress("the killed leader is back");

    // A follower paused (a partition, as the others see it), then resumed.
    auto follower = [&] {
      auto l = c.leader();
      for (auto id : c.running())
        if (id != l && l) return id;
      return std::uint64_t{0};
    };
    std::uint64_t paused = 0;
    wait_until("a leader and a follower", [&] { return (paused = follower()) != 0; });
    c.signal(paused, SIGSTOP);
    progress("writes go on while a follower is paused");
    c.signal(paused, SIGCONT);
    progress("the paused follower is back");

    // A follower killed and its directory wiped: it comes back as a new member (id 4, its old
    // ports) and catches up from a snapshot (the log is compacted every 64 entries).
    std::uint64_t wiped = 0;
    wait_until("a leader and a follower", [&] { return (wiped = follower()) != 0; });
    c.signal(wiped, SIGKILL);
    std::filesystem::remove_all(c.member(wiped).dir);
    if (auto r = c.at_leader({"RAFT.NODE", "REMOVE", std::to_string(wiped)}); r.is_error()) fail("RAFT.NODE REMOVE: " + r.text);
    c.define_like(4, wiped);
    c.forget(wiped);
    std::erase(members, wiped);
    members.push_back(4);
    c.start(4, members, true);
    auto address = [&](std::uint64_t id) {
      return std::pair("127.0.0.1:" + std::to_string(c.member(id).raft), "127.0.0.1:" + std::to_string(c.member(id).client));
    };
    if (auto r = c.at_leader({"RAFT.NODE", "ADD", "4", address(4).first, address(4).second}); r.is_error()) fail("RAFT.NODE ADD 4: " + r.text);
    wait_until("the new member 4 is a voter", [&] { return field(c.info(c.leader()), "raft_voters").find('4') != std::string::npos; });
    progress("writes go on with member 4");

    // A fifth member added, then removed and shut down.
    c.define(5);
    auto with5 = members;
    with5.push_back(5);
    c.start(5, with5, true);
    if (auto r = c.at_leader({"RAFT.NODE", "ADD", "5", address(5).first, address(5).second}); r.is_error()) fail("RAFT.NODE ADD 5: " + r.text);
    wait_until("member 5 is a voter", [&] { return field(c.info(c.leader()), "raft_voters").find('5') != std::string::npos; });
    progress("writes go on with five members");
    if (auto r = c.at_leader({"RAFT.NODE", "REMOVE", "5"}); r.is_error()) fail("RAFT.NODE REMOVE 5: " + r.text);
    c.ask(5, {"SHUTDOWN"});
    wait_until("member 5 stops on SHUTDOWN", [&] { return ::waitpid(c.member(5).pid, nullptr, WNOHANG) == c.member(5).pid; });
    c.forget(5);
    progress("writes go on after member 5 left");

    load.stop();
    const auto history = load.history();
    std::size_t unknown = 0;
    for (auto& op : history) unknown += !op.known;
    std::cout << history.size() << " operations (" << unknown << " of unknown outcome), " << load.acknowledged_keys().size()
              << " unique keys" << std::endl;
    auto verdict = kvstack::sim::check_linearizable(history);
    if (!verdict) fail("the history of key " + verdict.key + " (" + std::to_string(verdict.operations) + " operations) is not linearizable");
    if (!catches_a_stale_read(history)) fail("the checker does not catch a stale read put into this history");

    const auto keys = load.acknowledged_keys();
    const auto leader = c.leader();
    for (std::size_t i = 0; i < keys.size(); i += 100) {
      Argv exists{"EXISTS"};
      for (std::size_t j = i; j < std::min(keys.size(), i + 100); ++j) exists.push_back(keys[j]);
      auto r = c.ask(leader, exists);
      if (!r || r->integer != static_cast<std::int64_t>(exists.size() - 1)) fail("an acknowledged key is missing");
    }
    converge(c, "after the faults");

    // Every member stopped with SIGTERM exits cleanly, and starts again with the same data.
    for (auto id : c.running())
      if (int status = c.signal(id, SIGTERM); !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("member " + std::to_string(id) + " did not exit cleanly on SIGTERM");
    for (auto id : members) c.start(id, members);
    wait_until("a leader after the restart", [&] { return c.leader() != 0; });
    if (auto r = c.at_leader({"SET", "after-restart", "1"}); r.is_error()) fail("a write after the restart: " + r.text);
    converge(c, "after a restart of all");
    stamp = history.size();
  }
  std::filesystem::remove_all(dir);
  std::cout << "PASS: kvstack-server cluster on " << argv[2] << " (" << stamp << " operations checked)" << std::endl;
  return 0;
}
