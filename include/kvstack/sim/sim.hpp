// kvstack/sim: deterministic simulation for testing replicated code: a seeded random source,
// a network with faults, shared disks, a cluster that runs shards in logical time, and the
// linearizability checker.
#pragma once

#include <kvstack/sim/cluster.hpp>
#include <kvstack/sim/disk.hpp>
#include <kvstack/sim/linearizability.hpp>
#include <kvstack/sim/network.hpp>
#include <kvstack/sim/rng.hpp>
