// kvstack/net: replicas in separate processes: TcpTransport (Boost.Asio) and ReplicaRunner.
// Not in <kvstack/kvstack.hpp>: Asio is heavy to compile.
#pragma once

#include <kvstack/net/replica_runner.hpp>
#include <kvstack/net/tcp_transport.hpp>
