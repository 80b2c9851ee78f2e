// Child processes for the kill tests: the test binary runs itself again as a named child
// (posix_spawn of /proc/self/exe, a fresh image, so this works under TSan too, where a fork of
// a process with threads does not). A child reports numbers to its parent through a pipe.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kvstack::test {

/// A child's main: `report` is the pipe to write std::uint32_t reports to; `args` what the
/// parent passed. It returns only on failure (its exit status).
using ChildMain = std::function<int(int report, const std::vector<std::string>& args)>;

inline std::map<std::string, ChildMain>& child_mains() {
  static std::map<std::string, ChildMain> mains;
  return mains;
}

/// Registers a child main under `name`, at static initialization.
struct RegisterChild {
  RegisterChild(const std::string& name, ChildMain main) { child_mains()[name] = std::move(main); }
};

/// From the test binary's main: if it was started as a child (`--kvstack-child NAME FD ARGS...`),
/// runs that child and returns its exit status.
inline std::optional<int> run_child_if_asked(int argc, char* argv[]) {
  if (argc < 4 || std::strcmp(argv[1], "--kvstack-child") != 0) return std::nullopt;
  auto it = child_mains().find(argv[2]);
  if (it == child_mains().end()) return 100;
  return it->second(std::stoi(argv[3]), std::vector<std::string>(argv + 4, argv + argc));
}

/// A running child: its pid and the read end of its report pipe. Killed (SIGKILL) and reaped
/// when destroyed, if still running.
class Child {
 public:
  /// Starts child `name` with `args`; nullopt if it could not be spawned.
  static std::optional<Child> spawn(const std::string& name, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return std::nullopt;
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);  // the child inherits only the write end
    std::vector<std::string> argv_strings{"/proc/self/exe", "--kvstack-child", name, std::to_string(fds[1])};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return std::nullopt;
    }
    return Child(pid, fds[0]);
  }
  Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, 0)), reports_(std::exchange(o.reports_, -1)) {}
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (pid_) kill();
    if (reports_ >= 0) ::close(reports_);
  }

  /// The child's process id (to signal it: SIGSTOP, SIGCONT).
  pid_t pid() const noexcept { return pid_; }

  /// The next report, waiting up to `timeout`; nullopt if the child exited or fell silent.
  std::optional<std::uint32_t> next_report(std::chrono::milliseconds timeout) {
    pollfd p{};
    p.fd = reports_;
    p.events = POLLIN;
    int ready;
    do ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    std::uint32_t n = 0;
    if (ready <= 0 || ::read(reports_, &n, sizeof n) != sizeof n) return std::nullopt;
    return n;
  }
  /// Kills the child with SIGKILL and reaps it; true if the signal is what ended it.
  bool kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(std::exchange(pid_, 0), &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  /// After kill(): every report the child had written before it died.
  std::vector<std::uint32_t> remaining_reports() {
    std::vector<std::uint32_t> out;
    std::uint32_t n = 0;
    while (::read(reports_, &n, sizeof n) == sizeof n) out.push_back(n);
    return out;
  }

 private:
  Child(pid_t pid, int reports) : pid_(pid), reports_(reports) {}
  pid_t pid_;
  int reports_;
};

}  // namespace kvstack::test
