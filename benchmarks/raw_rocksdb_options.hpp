// The options RocksDbBackend opens a database with (its defaults), for the benchmarks' hand-written
// RocksDB contenders: the same engine settings on both sides, so that what differs is the code.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

inline rocksdb::Options raw_rocksdb_options() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  o.write_buffer_size = 64 << 20;
  o.max_open_files = -1;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(64 << 20);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.use_delta_encoding = false;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}
