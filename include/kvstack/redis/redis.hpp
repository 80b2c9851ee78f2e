// kvstack/redis: Redis's data model over any Backend and its commands. See datastore.hpp for the
// storage layout, dispatcher.hpp for `execute`, the per-type headers for each command, and
// resp.hpp for the wire protocol.
#pragma once

#include <kvstack/redis/datastore.hpp>
#include <kvstack/redis/dispatcher.hpp>
#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/reply.hpp>
#include <kvstack/redis/resp.hpp>
