// kvstack/backend: the engines (MemoryBackend; LmdbBackend, RocksDbBackend, SqliteBackend,
// PostgresBackend and RedisBackend when compiled in: engines.hpp includes them), AnyBackend,
// opening by configuration, and copying between engines.
#pragma once

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/config.hpp>
#include <kvstack/backend/copy.hpp>
#include <kvstack/backend/engines.hpp>
#include <kvstack/backend/memory.hpp>
