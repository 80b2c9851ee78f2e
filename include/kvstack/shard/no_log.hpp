// kvstack::NoLog — the log of a shard whose policy needs none (NoReplication, Mst).
#pragma once

#include <kvstack/shard/log.hpp>

namespace kvstack::inline v0 {

/// Holds nothing and is not a LogStorage, so that a policy that needs a log rejects it at
/// compile time.
struct NoLog {};

static_assert(!LogStorage<NoLog>);

}  // namespace kvstack
