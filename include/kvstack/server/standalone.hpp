// kvstack::redis::Standalone — the Node of a server that is not part of a cluster: it serves
// every command itself. A Node is what a Server asks about replication (see RaftNode).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

/// A server on its own. The members below are what Server needs of any Node.
struct Standalone {
  /// Whether the node answers command `name` itself (a cluster's RAFT.NODE).
  bool owns(std::string_view) const { return false; }
  /// Runs one of the node's commands.
  Reply handle(const std::vector<std::string>&) { return reply::error("ERR unknown command"); }
  /// The answer to a data command when this node does not serve them now (a cluster member that
  /// does not lead); nullopt when it does.
  std::optional<Reply> redirect() const { return std::nullopt; }
  /// The lines of INFO's Replication section.
  std::string replication_info() const { return "role:master\r\nconnected_slaves:0\r\n"; }
  /// Called every 100 ms on an I/O thread.
  void maintain() {}
};

}  // namespace kvstack::redis
