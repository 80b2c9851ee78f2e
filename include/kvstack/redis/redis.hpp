// kvstack/redis: Redis's data model over any Backend and its commands. See layout.hpp for the
// storage layout, datastore.hpp for the store, dispatcher.hpp for `execute`, the per-type
// headers for each command, and resp.hpp for the wire protocol.
#pragma once

#include <kvstack/redis/blocking.hpp>
#include <kvstack/redis/command.hpp>
#include <kvstack/redis/context.hpp>
#include <kvstack/redis/datastore.hpp>
#include <kvstack/redis/dispatcher.hpp>
#include <kvstack/redis/dump.hpp>
#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/hashes.hpp>
#include <kvstack/redis/introspection.hpp>
#include <kvstack/redis/keys.hpp>
#include <kvstack/redis/layout.hpp>
#include <kvstack/redis/lcs.hpp>
#include <kvstack/redis/lists.hpp>
#include <kvstack/redis/meta.hpp>
#include <kvstack/redis/reply.hpp>
#include <kvstack/redis/resp.hpp>
#include <kvstack/redis/session.hpp>
#include <kvstack/redis/sets.hpp>
#include <kvstack/redis/sort.hpp>
#include <kvstack/redis/strings.hpp>
#include <kvstack/redis/zset_ops.hpp>
#include <kvstack/redis/zsets.hpp>
