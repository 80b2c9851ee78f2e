// kvstack — the umbrella header: the whole library, with the optional engines that are compiled
// in (see backend/engines.hpp).
#pragma once

#include <kvstack/version.hpp>

#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/errc.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/stats.hpp>
#include <kvstack/core/write_batch.hpp>

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/config.hpp>
#include <kvstack/backend/copy.hpp>
#include <kvstack/backend/engines.hpp>
#include <kvstack/backend/memory.hpp>

#include <kvstack/layer/atomic.hpp>
#include <kvstack/layer/lease.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>

#include <kvstack/registry/namespaced_registry.hpp>
