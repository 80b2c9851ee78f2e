// kvstack/shard/mst: replication over Merkle Search Trees. Needs OpenSSL's libcrypto (Debian
// `libssl-dev`; the kvstack::mst target links it), so <kvstack/shard/shard.hpp> leaves it out.
#pragma once

#include <kvstack/shard/mst/digest.hpp>
#include <kvstack/shard/mst/node.hpp>
#include <kvstack/shard/mst/tree.hpp>
