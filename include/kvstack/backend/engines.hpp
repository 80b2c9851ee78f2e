// Which optional engines this program compiles in: KVSTACK_WITH_LMDB and KVSTACK_WITH_ROCKSDB
// are 1 or 0. The build may set them: kvstack's CMake targets define KVSTACK_ENGINES_EXPLICIT
// and kvstack::lmdb / kvstack::rocksdb set their engine's macro to 1 (an engine not set is then
// out); Meson and pkg-config set both. Otherwise an engine is in when its header can be found,
// and the program links it (-llmdb, -lrocksdb) if it uses AnyBackend or the engine.
#pragma once

#ifndef KVSTACK_WITH_LMDB
#if defined(KVSTACK_ENGINES_EXPLICIT)
#define KVSTACK_WITH_LMDB 0
#elif __has_include(<lmdb.h>)
#define KVSTACK_WITH_LMDB 1
#else
#define KVSTACK_WITH_LMDB 0
#endif
#endif

#ifndef KVSTACK_WITH_ROCKSDB
#if defined(KVSTACK_ENGINES_EXPLICIT)
#define KVSTACK_WITH_ROCKSDB 0
#elif __has_include(<rocksdb/db.h>)
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
