// kill_child_mid_write: the harness of the SIGKILL tests: a forked child writes and acknowledges
// each write on a pipe; the parent kills it at a point that moves with the round.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kvstack::test {

/// Forks `child(ack_fd)`, which never returns and writes a std::uint32_t to `ack_fd` after each
/// acknowledged write. Reads `kill_after` acknowledgements, waits a further round/20 of the
/// time the last write took (so that the kill lands anywhere inside a write), kills the child
/// with SIGKILL and returns the last number it acknowledged.
template <class Child>
std::uint32_t kill_child_mid_write(int round, std::uint32_t kill_after, Child&& child) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    child(pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::uint32_t n = 0, acknowledged = 0;
  auto last = std::chrono::steady_clock::now(), before = last;
  for (std::uint32_t read = 0; read < kill_after; ++read) {
    REQUIRE(::read(pipe_fds[0], &n, sizeof n) == sizeof n);
    acknowledged = n;
    before = std::exchange(last, std::chrono::steady_clock::now());
  }
  const auto kill_at = last + (last - before) * round / 20;
  while (std::chrono::steady_clock::now() < kill_at) {  // spin: the point matters, not the wait
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  while (::read(pipe_fds[0], &n, sizeof n) == sizeof n) acknowledged = n;  // acks sent before death
  ::close(pipe_fds[0]);
  return acknowledged;
}

}  // namespace kvstack::test
