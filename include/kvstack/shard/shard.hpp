// kvstack/shard: replicated shards. Shard<Log, App, Policy>; the LogStorage, ReplicationPolicy
// and Transport concepts; BackendLog and NoLog; NoReplication, AsyncPrimaryBackup and Raft; and
// Mst when the build says so (KVSTACK_WITH_MST=1, as the kvstack::mst target sets: it needs
// OpenSSL's libcrypto), else from <kvstack/shard/mst/mst.hpp>.
#pragma once

#include <kvstack/shard/apply.hpp>
#include <kvstack/shard/async_primary_backup.hpp>
#include <kvstack/shard/backend_log.hpp>
#include <kvstack/shard/log.hpp>
#include <kvstack/shard/message_codec.hpp>
#include <kvstack/shard/no_log.hpp>
#include <kvstack/shard/no_replication.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/raft/raft.hpp>
#include <kvstack/shard/shard_backend.hpp>
#include <kvstack/shard/snapshot_stream.hpp>
#include <kvstack/shard/transport.hpp>

#if defined(KVSTACK_WITH_MST) && KVSTACK_WITH_MST
#include <kvstack/shard/mst/mst.hpp>
#endif
