// kvstack — the umbrella header: the whole library but the Redis data model (include
// <kvstack/redis/redis.hpp> for it), each folder through its aggregate header, with the optional
// engines that are compiled in (see backend/engines.hpp).
#pragma once

#include <kvstack/version.hpp>
#include <kvstack/core/core.hpp>
#include <kvstack/codec/codec.hpp>
#include <kvstack/backend/backend.hpp>
#include <kvstack/layer/layer.hpp>
#include <kvstack/registry/registry.hpp>
