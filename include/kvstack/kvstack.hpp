// kvstack — the umbrella header: the core of the library, kept cheap to compile (fmt's model):
// the contracts and codecs, MemoryBackend, copying between backends, the layers and the
// registries. What brings in heavy headers of its own comes with its own header:
//   <kvstack/backend/lmdb.hpp>      LmdbBackend (lmdb.h)
//   <kvstack/backend/rocksdb.hpp>   RocksDbBackend (RocksDB's headers)
//   <kvstack/backend/config.hpp>    AnyBackend, Config and open(): every engine compiled in
//   <kvstack/backend/backend.hpp>   all of the above
//   <kvstack/redis/redis.hpp>       the Redis data model and RESP
#pragma once

#include <kvstack/version.hpp>
#include <kvstack/core/core.hpp>
#include <kvstack/codec/codec.hpp>
#include <kvstack/backend/copy.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/layer/layer.hpp>
#include <kvstack/registry/registry.hpp>
#include <kvstack/shard/shard.hpp>
#include <kvstack/sim/sim.hpp>
