// kvstack::redis keyspace events (Redis's notify-keyspace-events): the classes and their letters,
// KeyEvent, and which event each command's writes raise on each key it changed — as Redis names
// them ("set", "lpush", "del" when a collection is left empty, "rename_from"/"rename_to", ...).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

/// The classes of keyspace events, as bits of notify-keyspace-events.
namespace events {
inline constexpr unsigned keyspace = 1u << 0,  ///< K: on __keyspace@<db>__:<key>
    keyevent = 1u << 1,                         ///< E: on __keyevent@<db>__:<event>
    generic = 1u << 2,                          ///< g: DEL, EXPIRE, RENAME...
    string = 1u << 3,                           ///< $
    list = 1u << 4,                             ///< l
    set = 1u << 5,                              ///< s
    hash = 1u << 6,                             ///< h
    zset = 1u << 7,                             ///< z
    expired = 1u << 8,                          ///< x
    evicted = 1u << 9,                          ///< e (kvstack evicts nothing)
    stream = 1u << 10,                          ///< t (kvstack has no streams)
    key_miss = 1u << 11,                        ///< m
    module = 1u << 12,                          ///< d
    new_key = 1u << 13;                         ///< n
inline constexpr unsigned all = generic | string | list | set | hash | zset | expired | evicted | stream;  ///< A

inline constexpr std::pair<char, unsigned> letters[] = {
    {'g', generic}, {'$', string}, {'l', list},   {'s', set},     {'h', hash},      {'z', zset},     {'x', expired},
    {'e', evicted}, {'t', stream}, {'d', module}, {'n', new_key}, {'K', keyspace}, {'E', keyevent}, {'m', key_miss}};

/// The flags notify-keyspace-events `text` sets ("KEA", "Ex"...); nullopt for an unknown letter.
inline std::optional<unsigned> parse(std::string_view text) {
  unsigned flags = 0;
  for (char ch : text) {
    if (ch == 'A') {
      flags |= all;
      continue;
    }
    unsigned bit = 0;
    for (auto [letter, b] : letters)
      if (letter == ch) bit = b;
    if (!bit) return std::nullopt;
    flags |= bit;
  }
  return flags;
}

/// `flags` as Redis prints them (CONFIG GET): "A" for all the classes it stands for, then K, E, m.
inline std::string format(unsigned flags) {
  std::string s;
  if ((flags & all) == all) s += 'A';
  for (auto [letter, bit] : letters) {
    const bool in_a = (bit & all) && (flags & all) == all;
    if ((flags & bit) && !in_a) s += letter;
  }
  return s;
}
}  // namespace events

/// One keyspace event: `event` ("set") happened to `key` of database `db`, of class `type`.
struct KeyEvent {
  unsigned type = 0;
  std::string event;
  int db = 0;
  std::string key;
};

namespace detail {
/// How a command's changes become events. `event` (and `type`) names what it did to each key it
/// changed; a key it left deleted raises, after it, "del" (a pop that emptied a list), or
/// instead of it when `replaces` (a STORE whose result was empty, an EXPIRE in the past). With
/// `second_event`, the command changes two keys, the source (`event`) then the destination.
struct CommandEvents {
  unsigned type = 0;
  std::string_view event;
  bool replaces = false;
  std::string_view second_event = {};
};

/// What `argv` (a command that ran, name in lower case) raises; type 0: nothing of its own.
inline CommandEvents command_events(std::string_view name, Args argv) {
  using namespace events;
  const auto left = [&](std::size_t i) { return i < argv.size() && iequals(argv[i], "left"); };
  const auto min = [&](std::size_t i) { return i < argv.size() && iequals(argv[i], "min"); };
  // Where LMPOP's and ZMPOP's direction is: after the keys, whose count is at `numkeys`.
  const auto after_keys = [&](std::size_t numkeys) -> std::size_t {
    auto n = numkeys < argv.size() ? parse_integer(argv[numkeys]) : std::nullopt;
    return numkeys + 1 + (n && *n > 0 ? static_cast<std::size_t>(*n) : 0);
  };
  struct Same {
    std::string_view name;
    unsigned type;
  };
  // The commands that raise their own name.
  static constexpr Same same[] = {
      {"set", string},          {"append", string},       {"setrange", string},     {"setbit", string},
      {"incrbyfloat", string},  {"lpush", list},          {"rpush", list},          {"lpop", list},
      {"rpop", list},           {"lset", list},           {"lrem", list},           {"ltrim", list},
      {"linsert", list},        {"hset", hash},           {"hdel", hash},           {"hincrby", hash},
      {"hincrbyfloat", hash},   {"sadd", set},            {"srem", set},            {"spop", set},
      {"zrem", zset},           {"zpopmin", zset},        {"zpopmax", zset},        {"zremrangebyscore", zset},
      {"zremrangebyrank", zset}, {"zremrangebylex", zset}, {"persist", generic},    {"restore", generic},
      {"del", generic},         {"unlink", generic},      {"getdel", generic}};
  for (auto [n, t] : same)
    if (name == n) return {t, n, n == "del" || n == "unlink" || n == "getdel"};
  struct Renamed {
    std::string_view name;
    unsigned type;
    std::string_view event;
    bool replaces;
  };
  static constexpr Renamed renamed[] = {
      {"setnx", string, "set", false},         {"setex", string, "set", false},       {"psetex", string, "set", false},
      {"getset", string, "set", false},        {"mset", string, "set", false},        {"msetnx", string, "set", false},
      {"incr", string, "incrby", false},       {"incrby", string, "incrby", false},   {"decr", string, "incrby", false},
      {"decrby", string, "incrby", false},     {"lpushx", list, "lpush", false},      {"rpushx", list, "rpush", false},
      {"blpop", list, "lpop", false},          {"brpop", list, "rpop", false},        {"hmset", hash, "hset", false},
      {"hsetnx", hash, "hset", false},         {"zincrby", zset, "zincr", false},     {"bzpopmin", zset, "zpopmin", false},
      {"bzpopmax", zset, "zpopmax", false},    {"expire", generic, "expire", true},   {"pexpire", generic, "expire", true},
      {"expireat", generic, "expire", true},   {"pexpireat", generic, "expire", true}, {"sinterstore", set, "sinterstore", true},
      {"sunionstore", set, "sunionstore", true}, {"sdiffstore", set, "sdiffstore", true},
      {"zunionstore", zset, "zunionstore", true}, {"zinterstore", zset, "zinterstore", true},
      {"zdiffstore", zset, "zdiffstore", true}, {"zrangestore", zset, "zrangestore", true},
      {"sort", generic, "sortstore", true},    {"copy", generic, "copy_to", false}};
  for (auto [n, t, e, r] : renamed)
    if (name == n) return {t, e, r};
  if (name == "zadd") {
    for (std::size_t i = 2; i < argv.size(); ++i)
      if (iequals(argv[i], "incr")) return {zset, "zincr"};
    return {zset, "zadd"};
  }
  if (name == "lmpop" || name == "blmpop") return {list, left(after_keys(name == "lmpop" ? 1 : 2)) ? "lpop" : "rpop"};
  if (name == "zmpop" || name == "bzmpop") return {zset, min(after_keys(name == "zmpop" ? 1 : 2)) ? "zpopmin" : "zpopmax"};
  if (name == "lmove" || name == "blmove") return {list, left(3) ? "lpop" : "rpop", false, left(4) ? "lpush" : "rpush"};
  if (name == "rpoplpush" || name == "brpoplpush") return {list, "rpop", false, "lpush"};
  if (name == "smove") return {set, "srem", false, "sadd"};
  if (name == "rename" || name == "renamenx") return {generic, "rename_from", false, "rename_to"};
  if (name == "move") return {generic, "move_from", false, "move_to"};
  return {};
}

/// A key a command changed, for its events: created (it did not exist), left deleted.
struct Change {
  std::uint32_t db = 0;  ///< physical database id
  std::string key;
  bool created = false, dropped = false;
};

/// Whether SET or GETEX `argv` also sets or clears an expiry: "expire" or "persist", or empty.
inline std::string_view expiry_event(std::string_view name, Args argv) {
  if (name == "setex" || name == "psetex") return "expire";
  if (name != "set" && name != "getex") return {};
  for (std::size_t i = 2; i < argv.size(); ++i) {
    for (std::string_view option : {"ex", "px", "exat", "pxat"})
      if (iequals(argv[i], option)) return "expire";
    if (name == "getex" && iequals(argv[i], "persist")) return "persist";
  }
  return {};
}

/// Calls `raise(type, event, change)` for each event the command `name` (lower case) `argv`
/// raises by its `changes`, in Redis's order: "new" for a key it created, its own event, then
/// "expire" or "persist" (SET EX, GETEX), then "del" for a key it left deleted. `db` is the
/// physical id of the database the command ran in (where a two-key command's source is).
template <class F>
void raise_command_events(std::string_view name, Args argv, std::span<const Change> changes, std::uint32_t db,
                          F&& raise) {
  const auto own = command_events(name, argv);
  if (!own.second_event.empty()) {  // a move: its source argv[1], its destination
    const Change* source = nullptr;
    const Change* destination = nullptr;
    for (const auto& change : changes)
      (change.db == db && change.key == argv[1] ? source : destination) = &change;
    if (!destination) destination = source;  // LMOVE l l
    if (!source) return;
    const bool renames = name == "rename" || name == "renamenx" || name == "move";
    auto from = [&] {
      raise(own.type, own.event, *source);
      if (source->dropped && !renames) raise(events::generic, std::string_view("del"), *source);
    };
    auto to = [&] {
      if (destination->created && !renames) raise(events::new_key, std::string_view("new"), *destination);
      raise(own.type, own.second_event, *destination);
    };
    if (renames && destination->created) raise(events::new_key, std::string_view("new"), *destination);
    if (own.type == events::list) to(), from();  // a list move pushes, then says it popped
    else from(), to();
    return;
  }
  const auto expiry = expiry_event(name, argv);
  for (const auto& change : changes) {
    if (change.created) raise(events::new_key, std::string_view("new"), change);
    if (change.dropped && own.replaces) {
      raise(events::generic, std::string_view("del"), change);
      continue;
    }
    if (own.type) raise(own.type, own.event, change);
    if (!expiry.empty()) raise(events::generic, expiry, change);
    if (change.dropped) raise(events::generic, std::string_view("del"), change);
  }
}

}  // namespace detail

}  // namespace kvstack::redis
