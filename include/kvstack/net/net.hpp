// kvstack/net: replicas in separate processes (TcpTransport, Boost.Asio) or in one
// (LocalNetwork), each driven by a ReplicaRunner.
// Not in <kvstack/kvstack.hpp>: Asio is heavy to compile.
#pragma once

#include <kvstack/net/local_network.hpp>
#include <kvstack/net/replica_runner.hpp>
#include <kvstack/net/tcp_transport.hpp>
