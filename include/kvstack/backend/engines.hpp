// Which optional engines this program compiles in: KVSTACK_WITH_LMDB and KVSTACK_WITH_ROCKSDB
// are 1 or 0. The build may set them (kvstack's CMake and Meson targets do, from their
// KVSTACK_WITH_* options); otherwise an engine is in when its header can be found, and the
// program links it (-llmdb, -lrocksdb) if it uses AnyBackend or the engine.
#pragma once

#ifndef KVSTACK_WITH_LMDB
#if __has_include(<lmdb.h>)
#define KVSTACK_WITH_LMDB 1
#else
#define KVSTACK_WITH_LMDB 0
#endif
#endif

#ifndef KVSTACK_WITH_ROCKSDB
#if __has_include(<rocksdb/db.h>)
#define KVSTACK_WITH_ROCKSDB 1
#else
#define KVSTACK_WITH_ROCKSDB 0
#endif
#endif

#if KVSTACK_WITH_LMDB
#include <kvstack/backend/lmdb.hpp>
#endif
#if KVSTACK_WITH_ROCKSDB
#include <kvstack/backend/rocksdb.hpp>
#endif
