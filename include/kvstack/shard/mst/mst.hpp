// kvstack/shard/mst: replication over Merkle Search Trees — Shard<NoLog, App, Mst<>>. Needs
// OpenSSL's libcrypto (Debian `libssl-dev`; the kvstack::mst target links it), so
// <kvstack/shard/shard.hpp> includes it only when KVSTACK_WITH_MST is 1.
#pragma once

#include <kvstack/shard/mst/digest.hpp>
#include <kvstack/shard/mst/hybrid_clock.hpp>
#include <kvstack/shard/mst/node.hpp>
#include <kvstack/shard/mst/reader.hpp>
#include <kvstack/shard/mst/record.hpp>
#include <kvstack/shard/mst/replica.hpp>
#include <kvstack/shard/mst/shard.hpp>
#include <kvstack/shard/mst/tree.hpp>
