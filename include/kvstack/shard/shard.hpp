// kvstack/shard: replicated shards. So far the replication log: the LogStorage concept,
// BackendLog and NoLog.
#pragma once

#include <kvstack/shard/backend_log.hpp>
#include <kvstack/shard/log.hpp>
#include <kvstack/shard/no_log.hpp>
