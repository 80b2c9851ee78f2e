// Which optional engines this program compiles in: KVSTACK_WITH_LMDB, KVSTACK_WITH_ROCKSDB,
// KVSTACK_WITH_SQLITE, KVSTACK_WITH_POSTGRES and KVSTACK_WITH_REDIS are 1 or 0. The build may set them: kvstack's
// CMake targets define KVSTACK_ENGINES_EXPLICIT and kvstack::<engine> sets its engine's macro to
// 1 (an engine not set is then out); Meson and pkg-config set them all. Otherwise LMDB and
// RocksDB are in when their headers can be found, and the program links them (-llmdb,
// -lrocksdb) if it uses AnyBackend or the engine.
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

// The engines on SQLite, PostgreSQL and Redis are in only when the build says so (their headers
// are installed on many machines that do not mean to use them): KVSTACK_WITH_SQLITE,
// KVSTACK_WITH_POSTGRES and KVSTACK_WITH_REDIS default to 0.
#ifndef KVSTACK_WITH_SQLITE
#define KVSTACK_WITH_SQLITE 0
#endif
#ifndef KVSTACK_WITH_POSTGRES
#define KVSTACK_WITH_POSTGRES 0
#endif
#ifndef KVSTACK_WITH_REDIS
#define KVSTACK_WITH_REDIS 0
#endif
// Not an engine, optional in the same way: EVAL and SCRIPT with Lua 5.1 (kvstack::lua).
#ifndef KVSTACK_WITH_LUA
#define KVSTACK_WITH_LUA 0
#endif

#if KVSTACK_WITH_LMDB
#include <kvstack/backend/lmdb.hpp>
#endif
#if KVSTACK_WITH_ROCKSDB
#include <kvstack/backend/rocksdb.hpp>
#endif
#if KVSTACK_WITH_SQLITE
#include <kvstack/backend/sqlite.hpp>
#endif
#if KVSTACK_WITH_POSTGRES
#include <kvstack/backend/postgres.hpp>
#endif
#if KVSTACK_WITH_REDIS
#include <kvstack/backend/redis.hpp>
#endif
