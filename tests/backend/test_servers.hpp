// Real PostgreSQL and Redis servers for the tests, started by test_servers.sh (beside this file):
// one the whole suite shares (CTest's `servers` fixture starts them in $KVSTACK_TEST_SERVERS; a
// test binary run by hand starts its own), and
// private ones for the tests that restart or kill them.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kvstack::test {

/// Runs test_servers.sh with `args`; returns what it printed (without the newline), or throws.
inline std::string run_test_servers(const std::vector<std::string>& args) {
  const std::string script = (std::filesystem::path(__FILE__).parent_path() / "test_servers.sh").string();
  std::vector<std::string> words{"bash", script};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("test_servers.sh: no pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);  // else the server it starts would hold it open
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "bash", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string printed;
  char buffer[512];
  for (ssize_t n; rc == 0 && (n = ::read(out[0], buffer, sizeof buffer)) > 0;) printed.append(buffer, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  if (rc != 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("test_servers.sh " + args.front() + " failed (its errors are above)");
  while (!printed.empty() && printed.back() == '\n') printed.pop_back();
  return printed;
}

/// A server of the test's own in a fresh directory, stopped and removed when destroyed.
class TestServer {
 public:
  /// Starts "postgres" or "redis".
  explicit TestServer(std::string kind) : kind_(std::move(kind)) {
    static int counter = 0;
    dir_ = "/tmp/kvstack-" + kind_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    run_test_servers({"stop", dir_});  // a leftover of an earlier run with this pid
    address_ = run_test_servers({kind_, dir_});
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    try {
      run_test_servers({"stop", dir_});
    } catch (...) {
    }
  }
  /// The libpq connection string or the redis URL.
  const std::string& address() const { return address_; }
  /// Where it keeps its files (redis.pid, data/postmaster.pid).
  const std::string& dir() const { return dir_; }
  /// Stops the server at once (as a crash would), keeping its data.
  void kill() { run_test_servers({"kill", dir_}); }
  /// Starts it again on the same address, after kill().
  void start_again() { run_test_servers({kind_, dir_}); }

 private:
  std::string kind_, dir_, address_;
};

/// The server of `kind` the suite shares: the one in $KVSTACK_TEST_SERVERS/<kind> if that is set
/// (CTest's fixture started it), else one this process starts (and stops at exit).
inline const std::string& shared_server(const std::string& kind) {
  static std::vector<std::unique_ptr<TestServer>> started;
  static std::string postgres, redis;
  std::string& address = kind == "postgres" ? postgres : redis;
  if (address.empty()) {
    if (const char* dir = std::getenv("KVSTACK_TEST_SERVERS"); dir && *dir) {
      const std::string at = std::string(dir) + "/" + kind;
      address = kind == "postgres" ? "host=" + at + " port=5432 dbname=postgres user=kvstack" : "unix://" + at + "/redis.sock";
    } else {
      started.push_back(std::make_unique<TestServer>(kind));
      address = started.back()->address();
    }
  }
  return address;
}
inline const std::string& shared_postgres() { return shared_server("postgres"); }
inline const std::string& shared_redis() { return shared_server("redis"); }

/// A name no other test process uses at the same time (tables, Redis hash tags).
inline std::string unique_name(const std::string& prefix) {
  static int counter = 0;
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

}  // namespace kvstack::test
