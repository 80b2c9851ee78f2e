// kvstack::redis::execute — runs one command line (argv) for a session: looks the command up in
// the table (name, arity, flags), answers unknown commands and wrong arity as Redis does, queues
// between MULTI and EXEC, and runs each command — or a whole EXEC — in one backend transaction.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <span>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <kvstack/backend/engines.hpp>
#include <kvstack/redis/blocking.hpp>
#include <kvstack/redis/datastore.hpp>
#include <kvstack/redis/dump.hpp>
#include <kvstack/redis/hashes.hpp>
#include <kvstack/redis/introspection.hpp>
#include <kvstack/redis/keys.hpp>
#include <kvstack/redis/lcs.hpp>
#include <kvstack/redis/lists.hpp>
#include <kvstack/redis/sets.hpp>
#include <kvstack/redis/sort.hpp>
#include <kvstack/redis/strings.hpp>
#include <kvstack/redis/zset_ops.hpp>
#include <kvstack/redis/zsets.hpp>

namespace kvstack::inline v0::redis {

/// What a command does, for front ends (e.g. a read-only replica refuses `write`).
namespace flag {
inline constexpr unsigned read = 1, write = 2, transaction = 4, connection = 8;
inline constexpr unsigned blocking = 16;  ///< may wait for another client's write (BLPOP and the like)
inline constexpr unsigned script = 32;    ///< runs a script (EVAL and the like)
}

#if KVSTACK_WITH_LUA
namespace cmd {  // redis/scripting.hpp
template <class C> Reply eval(C&, Args);
template <class C> Reply evalsha(C&, Args);
template <class C> Reply eval_ro(C&, Args);
template <class C> Reply evalsha_ro(C&, Args);
template <class C> Reply script(C&, Args);
}  // namespace cmd
#endif

template <class C>
struct Command {
  std::string_view name;  ///< lower case
  int arity;              ///< as Redis: n exactly n arguments (the name included), -n at least n
  unsigned flags;         ///< redis::flag bits
  Reply (*run)(C&, Args);  ///< null for MULTI, EXEC, DISCARD, WATCH, UNWATCH (the dispatcher's own)
};

/// Every command, sorted by name.
template <class C>
const std::vector<Command<C>>& command_table() {
  using namespace cmd;
  static const std::vector<Command<C>> table = [] {
    constexpr unsigned R = flag::read, W = flag::write | flag::read, T = flag::transaction, N = flag::connection,
                       B = flag::blocking;
    std::vector<Command<C>> t = {
        // strings
        {"get", 2, R, get<C>}, {"set", -3, W, set<C>}, {"setnx", 3, W, setnx<C>}, {"setex", 4, W, setex<C>},
        {"psetex", 4, W, psetex<C>}, {"getset", 3, W, getset<C>}, {"getdel", 2, W, getdel<C>},
        {"getex", -2, W, getex<C>}, {"mget", -2, R, mget<C>}, {"mset", -3, W, mset<C>}, {"msetnx", -3, W, msetnx<C>},
        {"append", 3, W, append<C>}, {"strlen", 2, R, strlen<C>}, {"incr", 2, W, incr<C>}, {"decr", 2, W, decr<C>},
        {"incrby", 3, W, incrby<C>}, {"decrby", 3, W, decrby<C>}, {"incrbyfloat", 3, W, incrbyfloat<C>},
        {"getrange", 4, R, getrange<C>}, {"setrange", 4, W, setrange<C>}, {"setbit", 4, W, setbit<C>},
        {"getbit", 3, R, getbit<C>}, {"lcs", -3, R, lcs<C>},
        // lists
        {"lpush", -3, W, lpush<C>}, {"rpush", -3, W, rpush<C>}, {"lpushx", -3, W, lpushx<C>},
        {"rpushx", -3, W, rpushx<C>}, {"lpop", -2, W, lpop<C>}, {"rpop", -2, W, rpop<C>}, {"llen", 2, R, llen<C>},
        {"lrange", 4, R, lrange<C>}, {"lindex", 3, R, lindex<C>}, {"lset", 4, W, lset<C>}, {"lrem", 4, W, lrem<C>},
        {"ltrim", 4, W, ltrim<C>}, {"linsert", 5, W, linsert<C>}, {"lpos", -3, R, lpos<C>}, {"lmove", 5, W, lmove<C>},
        {"rpoplpush", 3, W, rpoplpush<C>}, {"lmpop", -4, W, lmpop<C>}, {"blpop", -3, W | B, blpop<C>},
        {"brpop", -3, W | B, brpop<C>}, {"blmove", 6, W | B, blmove<C>}, {"brpoplpush", 4, W | B, brpoplpush<C>},
        {"blmpop", -5, W | B, blmpop<C>},
        // hashes
        {"hset", -4, W, hset<C>}, {"hsetnx", 4, W, hsetnx<C>}, {"hget", 3, R, hget<C>}, {"hmget", -3, R, hmget<C>},
        {"hmset", -4, W, hmset<C>}, {"hdel", -3, W, hdel<C>}, {"hexists", 3, R, hexists<C>}, {"hlen", 2, R, hlen<C>},
        {"hkeys", 2, R, hkeys<C>}, {"hvals", 2, R, hvals<C>}, {"hgetall", 2, R, hgetall<C>},
        {"hincrby", 4, W, hincrby<C>}, {"hincrbyfloat", 4, W, hincrbyfloat<C>}, {"hstrlen", 3, R, hstrlen<C>},
        {"hrandfield", -2, R, hrandfield<C>}, {"hscan", -3, R, hscan<C>},
        // sets
        {"sadd", -3, W, sadd<C>}, {"srem", -3, W, srem<C>}, {"sismember", 3, R, sismember<C>},
        {"smismember", -3, R, smismember<C>}, {"smembers", 2, R, smembers<C>}, {"scard", 2, R, scard<C>},
        {"spop", -2, W, spop<C>}, {"srandmember", -2, R, srandmember<C>}, {"smove", 4, W, smove<C>},
        {"sunion", -2, R, sunion<C>}, {"sinter", -2, R, sinter<C>}, {"sdiff", -2, R, sdiff<C>},
        {"sunionstore", -3, W, sunionstore<C>}, {"sinterstore", -3, W, sinterstore<C>},
        {"sdiffstore", -3, W, sdiffstore<C>}, {"sintercard", -3, R, sintercard<C>}, {"sscan", -3, R, sscan<C>},
        // sorted sets
        {"zadd", -4, W, zadd<C>}, {"zrem", -3, W, zrem<C>}, {"zscore", 3, R, zscore<C>}, {"zmscore", -3, R, zmscore<C>},
        {"zincrby", 4, W, zincrby<C>}, {"zcard", 2, R, zcard<C>}, {"zcount", 4, R, zcount<C>},
        {"zlexcount", 4, R, zlexcount<C>}, {"zrank", -3, R, zrank<C>}, {"zrevrank", -3, R, zrevrank<C>},
        {"zrange", -4, R, zrange<C>}, {"zrevrange", -4, R, zrevrange<C>}, {"zrangebyscore", -4, R, zrangebyscore<C>},
        {"zrevrangebyscore", -4, R, zrevrangebyscore<C>}, {"zrangebylex", -4, R, zrangebylex<C>},
        {"zrevrangebylex", -4, R, zrevrangebylex<C>}, {"zpopmin", -2, W, zpopmin<C>}, {"zpopmax", -2, W, zpopmax<C>},
        {"zremrangebyrank", 4, W, zremrangebyrank<C>}, {"zremrangebyscore", 4, W, zremrangebyscore<C>},
        {"zremrangebylex", 4, W, zremrangebylex<C>}, {"zrandmember", -2, R, zrandmember<C>}, {"zscan", -3, R, zscan<C>},
        {"zmpop", -4, W, zmpop<C>}, {"bzpopmin", -3, W | B, bzpopmin<C>}, {"bzpopmax", -3, W | B, bzpopmax<C>},
        {"bzmpop", -5, W | B, bzmpop<C>}, {"zunion", -3, R, zunion<C>}, {"zinter", -3, R, zinter<C>},
        {"zdiff", -3, R, zdiff<C>}, {"zunionstore", -4, W, zunionstore<C>}, {"zinterstore", -4, W, zinterstore<C>},
        {"zdiffstore", -4, W, zdiffstore<C>}, {"zintercard", -3, R, zintercard<C>},
        {"zrangestore", -5, W, zrangestore<C>},
        // keys and databases
        {"del", -2, W, del<C>}, {"unlink", -2, W, unlink<C>}, {"exists", -2, R, exists<C>}, {"touch", -2, R, touch<C>}, {"type", 2, R, type<C>},
        {"expire", -3, W, expire<C>}, {"pexpire", -3, W, pexpire<C>}, {"expireat", -3, W, expireat<C>},
        {"pexpireat", -3, W, pexpireat<C>}, {"expiretime", 2, R, expiretime<C>},
        {"pexpiretime", 2, R, pexpiretime<C>}, {"ttl", 2, R, ttl<C>}, {"pttl", 2, R, pttl<C>},
        {"persist", 2, W, persist<C>}, {"keys", 2, R, keys<C>}, {"scan", -2, R, scan<C>}, {"rename", 3, W, rename<C>},
        {"renamenx", 3, W, renamenx<C>}, {"copy", -3, W, copy<C>}, {"move", 3, W, move<C>}, {"sort", -2, W, sort<C>}, {"sort_ro", -2, R, sort_ro<C>},
        {"dump", 2, R, dump<C>}, {"restore", -4, W, restore<C>},
        {"randomkey", 1, R, randomkey<C>}, {"dbsize", 1, R, dbsize<C>}, {"flushdb", -1, W, flushdb<C>},
        {"flushall", -1, W, flushall<C>}, {"swapdb", 3, W, swapdb<C>}, {"select", 2, N, select<C>},
        {"ping", -1, N, ping<C>}, {"echo", 2, N, echo<C>},
        // introspection
        {"object", -2, R, object<C>}, {"memory", -2, R, memory<C>}, {"time", 1, N, time<C>},
        // transactions
        {"multi", 1, T, nullptr}, {"exec", 1, T, nullptr}, {"discard", 1, T, nullptr}, {"watch", -2, T, nullptr},
        {"unwatch", 1, T, nullptr}};
#if KVSTACK_WITH_LUA
    constexpr unsigned S = flag::script;
    t.insert(t.end(), {{"eval", -3, W | S, eval<C>}, {"evalsha", -3, W | S, evalsha<C>},
                       {"eval_ro", -3, R | S, eval_ro<C>}, {"evalsha_ro", -3, R | S, evalsha_ro<C>},
                       {"script", -2, N, script<C>}});
#endif
    std::sort(t.begin(), t.end(), [](auto& x, auto& y) { return x.name < y.name; });
    return t;
  }();
  return table;
}

/// The command named `name` (any case), or null.
template <class C>
const Command<C>* find_command(std::string_view name) {
  static const auto index = [] {
    std::unordered_map<std::string_view, const Command<C>*> by_name;
    for (auto& command : command_table<C>()) by_name.emplace(command.name, &command);
    return by_name;
  }();
  char buf[24];  // longer than any command's name
  if (name.size() > sizeof buf) return nullptr;
  for (std::size_t i = 0; i < name.size(); ++i) buf[i] = ascii_lower(name[i]);
  auto it = index.find(std::string_view(buf, name.size()));
  return it != index.end() ? it->second : nullptr;
}

namespace detail {
/// Raises the keyspace events of `command` from the keys it changed (those recorded from `mark`
/// on), and forgets those: a script's commands raise theirs, its EVAL none of its own.
template <class C>
void raise_events(C& c, const Command<C>& command, Args argv, std::size_t mark) {
  auto& changes = c.changes();
  if (changes.size() == mark) return;
  raise_command_events(command.name, argv, std::span(changes).subspan(mark), c.phys(c.session().db),
                       [&](unsigned type, std::string_view event, const Change& change) {
                         c.raise(type, event, change.db, change.key);
                       });
  changes.resize(mark);
}

/// Runs `command`, counted and timed in the session's CommandStats when it has some.
template <class C>
Reply run_command(const Session& session, const Command<C>& command, C& c, Args argv) {
  const auto mark = c.changes().size();
  const auto start = session.stats ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  Reply r = command.run(c, argv);
  if (session.stats)
    session.stats->record(static_cast<std::size_t>(&command - command_table<C>().data()), argv,
                          std::chrono::steady_clock::now() - start, r.is_error());
  raise_events(c, command, argv, mark);
  return r;
}

inline Reply unknown_command(Args argv) {
  std::string s = "ERR unknown command '" + argv[0].substr(0, 128) + "', with args beginning with: ";
  for (std::size_t i = 1; i < argv.size(); ++i) s += "'" + argv[i].substr(0, 128) + "' ";
  return reply::error(std::move(s));
}

template <class Store>
Reply exec(Store& store, Session& s) {
  auto queued = std::move(s.queued);
  bool failed = s.multi_failed;
  s.queued.clear();
  s.in_multi = s.multi_failed = false;
  if (failed) {
    s.unwatch();
    return reply::error("EXECABORT Transaction discarded because of previous errors.");
  }
  using C = typename Store::context;
  Reply r = store.run(s, [&](C& c) {
    for (auto& w : s.watched)
      if (s.table->epoch(w.key) != w.epoch || (w.expiry && c.now() >= w.expiry)) return reply::null_array();
    std::vector<Reply> out;
    for (auto& argv : queued) {
      auto* command = find_command<C>(argv[0]);
      if (!command) out.push_back(reply::null());  // a server's own command, which it queued: it answers it
      else out.push_back(command->run ? run_command(s, *command, c, argv) : reply::ok());  // UNWATCH: EXEC unwatches anyway
    }
    return reply::array(std::move(out));
  });
  s.unwatch();
  return r;
}

template <class Store>
Reply watch(Store& store, Session& s, Args argv) {
  if (s.in_multi) return reply::error("ERR WATCH inside MULTI is not allowed");
  using C = typename Store::context;
  return store.run(s, [&](C& c) {
    for (std::size_t i = 1; i < argv.size(); ++i) {
      std::string key = watch_key(c.phys(s.db), argv[i]);
      auto m = c.find(argv[i]);
      auto epoch = s.table->watch(key);
      s.watched.push_back({std::move(key), epoch, m ? m->expiry : 0});
    }
    return reply::ok();
  });
}
}  // namespace detail

namespace detail {
/// The command `argv` names, or null with `refused` set: unknown command or wrong arity (inside
/// MULTI that also fails the transaction, as Redis does).
template <class C>
const Command<C>* resolve(Session& session, Args argv, Reply& refused) {
  if (argv.empty()) {
    refused = reply::error("ERR empty command");
    return nullptr;
  }
  const auto* command = find_command<C>(argv[0]);
  if (!command) refused = unknown_command(argv);
  else if (command->arity > 0 ? argv.size() != static_cast<std::size_t>(command->arity)
                              : argv.size() < static_cast<std::size_t>(-command->arity))
    refused = reply::wrong_arity(command->name);
  else return command;
  if (session.in_multi) session.multi_failed = true;
  return nullptr;
}
}  // namespace detail

/// Runs the command `argv` (name first) for `session`, as a Redis server would.
template <class Store>
Reply execute(Store& store, Session& session, Args argv) {
  using C = typename Store::context;
  Reply refused;
  const auto* command = detail::resolve<C>(session, argv, refused);
  if (!command) return refused;
  auto name = command->name;
  if ((command->run || name == "unwatch") && session.in_multi) {
    session.queued.emplace_back(argv.begin(), argv.end());
    return reply::simple("QUEUED");
  }
  if (name == "multi") {
    if (session.in_multi) return reply::error("ERR MULTI calls can not be nested");
    session.in_multi = true;
    return reply::ok();
  }
  if (name == "exec") {
    if (!session.in_multi) return reply::error("ERR EXEC without MULTI");
    return detail::exec(store, session);
  }
  if (name == "discard") {
    if (!session.in_multi) return reply::error("ERR DISCARD without MULTI");
    session.reset();
    return reply::ok();
  }
  if (name == "watch") return detail::watch(store, session, argv);
  if (name == "unwatch") {
    session.unwatch();
    return reply::ok();
  }
  return store.run(session, [&](C& c) { return detail::run_command(session, *command, c, argv); });
}

/// Runs the blocking command `argv` (see is_blocking) for `session`, outside MULTI: its reply; or
/// nullopt when it found nothing to pop, and then `waits` watches its keys, from the same
/// transaction on, so that a write to one of them that could serve it shows as `waits.changed()`.
/// A `retry` (once that shows) pops from the first of its keys that holds the type it pops, as
/// Redis serves a blocked client: a key it waits on that became a string keeps it waiting.
template <class Store>
std::optional<Reply> try_blocking(Store& store, Session& session, Args argv, KeyWaits& waits, bool retry = false) {
  using C = typename Store::context;
  Reply refused;
  const auto* command = detail::resolve<C>(session, argv, refused);
  if (!command) return refused;
  waits = KeyWaits(session.table);
  bool empty = false;
  Reply r = store.run(session, [&](C& c) {
    auto wait = blocking_wait(argv);
    Reply r;
    if (!retry) r = detail::run_command(session, *command, c, argv);
    for (std::size_t i = 0; retry && i < wait.keys.size(); ++i)
      if (auto m = c.find(wait.keys[i]); m && m->type == blocking_type(argv[0])) {
        auto narrowed = blocking_on(argv, wait.keys[i]);
        r = detail::run_command(session, *command, c, narrowed);
        break;
      }
    empty = r.kind == Reply::Kind::null || r.kind == Reply::Kind::null_array;
    if (empty)
      for (auto& key : wait.keys) waits.add(watch_key(c.phys(session.db), key));
    return r;
  });
  if (empty && !r.is_error()) return std::nullopt;
  waits.clear();
  return r;
}

/// One session's command lines and where their replies go, for `execute_all`.
struct Pipeline {
  Session* session;
  std::span<const std::vector<std::string>> commands;
  std::vector<Reply>* replies;
};

namespace detail {
/// How many of `commands` from the start are plain: commands of the table run outside MULTI (not
/// MULTI, EXEC, WATCH and the like); appends them to `resolved`.
template <class C>
std::size_t plain_prefix(Session& session, std::span<const std::vector<std::string>> commands,
                         std::vector<const Command<C>*>& resolved) {
  std::size_t n = 0;
  Reply refused;
  while (n < commands.size() && !session.in_multi) {
    const auto* command = resolve<C>(session, commands[n], refused);
    if (!command || !command->run) break;
    resolved.push_back(command);
    ++n;
  }
  return n;
}

/// Runs the first `counts[i]` commands of each pipeline (`resolved`: the commands they name, one
/// pipeline after the other) in one backend transaction; false, with replies and sessions as they
/// were, when a backend failure rolled it back.
template <class Store, class C = typename Store::context>
bool run_together(Store& store, std::span<const Pipeline> pipelines, std::span<const std::size_t> counts,
                  const std::vector<const Command<C>*>& resolved) {
  std::vector<Session*> sessions;
  std::vector<std::pair<std::size_t, int>> before;  // replies, database
  std::vector<std::size_t> which, first;
  for (std::size_t i = 0, at = 0; i < pipelines.size(); at += counts[i++])
    if (counts[i]) {
      sessions.push_back(pipelines[i].session);
      before.emplace_back(pipelines[i].replies->size(), pipelines[i].session->db);
      which.push_back(i);
      first.push_back(at);
    }
  auto failure = store.run_each(sessions, [&](std::size_t k, C& c) {
    auto& p = pipelines[which[k]];
    auto* stats = p.session->stats;
    auto start = stats ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    for (std::size_t j = 0; j < counts[which[k]] && !c.failed(); ++j) {
      const auto& command = *resolved[first[k] + j];
      const auto mark = c.changes().size();
      p.replies->push_back(command.run(c, p.commands[j]));
      raise_events(c, command, p.commands[j], mark);
      if (!stats) continue;
      const auto end = std::chrono::steady_clock::now();  // one clock read per command: its end, the next's start
      stats->record(static_cast<std::size_t>(&command - command_table<C>().data()), p.commands[j], end - start,
                    p.replies->back().is_error());
      start = end;
    }
  });
  if (!failure) return true;
  for (std::size_t k = 0; k < sessions.size(); ++k) {
    pipelines[which[k]].replies->resize(before[k].first);
    sessions[k]->db = before[k].second;  // a SELECT among them
  }
  return false;
}
}  // namespace detail

/// Runs the command lines of several sessions (each in its order, as that many `execute` calls
/// would), appending the replies to their pipeline's. Each pipeline's plain commands up to its
/// first MULTI, WATCH or the like share one backend transaction with the other pipelines' — so
/// that pipelining clients, and clients served together, cost one commit — and so do later runs
/// of plain commands of one pipeline. Should a shared transaction fail, its commands run again
/// one transaction each, so that every reply tells what happened to its own command.
template <class Store>
void execute_all(Store& store, std::span<const Pipeline> pipelines) {
  using C = typename Store::context;
  std::vector<std::size_t> counts;
  std::vector<const Command<C>*> resolved;
  for (auto& p : pipelines) counts.push_back(detail::plain_prefix<C>(*p.session, p.commands, resolved));
  if (!detail::run_together<Store>(store, pipelines, counts, resolved)) std::ranges::fill(counts, 0);
  for (std::size_t i = 0; i < pipelines.size(); ++i) {
    Pipeline p = pipelines[i];
    for (auto rest = p.commands.subspan(counts[i]); !rest.empty();) {
      p.commands = rest;
      resolved.clear();
      std::size_t n = detail::plain_prefix<C>(*p.session, rest, resolved);
      if (n < 2 || !detail::run_together<Store>(store, std::span(&p, 1), std::span(&n, 1), resolved)) {
        n = std::max<std::size_t>(n, 1);
        for (std::size_t j = 0; j < n; ++j) p.replies->push_back(execute(store, *p.session, rest[j]));
      }
      rest = rest.subspan(n);
    }
  }
}

/// `execute_all` for one session.
template <class Store>
void execute_all(Store& store, Session& session, std::span<const std::vector<std::string>> commands,
                 std::vector<Reply>& replies) {
  Pipeline p{&session, commands, &replies};
  execute_all(store, std::span(&p, 1));
}

/// `execute(store, session, {"SET", "k", "v"})`.
template <class Store>
Reply execute(Store& store, Session& session, std::initializer_list<std::string_view> argv) {
  std::vector<std::string> args(argv.begin(), argv.end());
  return execute(store, session, Args(args));
}

}  // namespace kvstack::redis

#if KVSTACK_WITH_LUA
#include <kvstack/redis/scripting.hpp>
#endif
