// <kvstack/server/server.hpp>: the embeddable Redis-protocol server — redis::Server, its options,
// its own commands, and the Nodes it runs as (Standalone, or a member of a Raft cluster).
// Not part of <kvstack/kvstack.hpp>: it brings Boost.Asio.
#pragma once

#include <kvstack/server/admin.hpp>
#include <kvstack/server/options.hpp>
#include <kvstack/server/raft_node.hpp>
#include <kvstack/server/resp_server.hpp>
#include <kvstack/server/standalone.hpp>
