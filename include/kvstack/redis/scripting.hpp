// kvstack::redis EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT — the commands over Scripts (the
// Lua state, scripts.hpp) that the session points to. A script runs inside its command's backend
// transaction, so it is atomic, and redis.call runs the command table's commands in that same
// transaction. As in Redis, an error in a script keeps the writes made before it; SCRIPT KILL
// stops a script that has not written. Included by dispatcher.hpp when KVSTACK_WITH_LUA is 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <kvstack/redis/blocking.hpp>
#include <kvstack/redis/dispatcher.hpp>
#include <kvstack/redis/scripts.hpp>

namespace kvstack::inline v0::redis {

namespace detail {
/// Whether `name` is one of the scripting commands, which a script may not call (nor blocking
/// ones, as in Redis 7.0).
inline bool is_script_command(std::string_view name) {
  for (std::string_view n : {"eval", "evalsha", "eval_ro", "evalsha_ro", "script"})
    if (name == n) return true;
  return false;
}

/// EVAL and its kin: `by_sha` (EVALSHA) names the script by its SHA-1; `read_only` (the _RO forms)
/// refuses writes.
template <class C>
Reply eval(C& c, Args a, bool by_sha, bool read_only) {
  Scripts* scripts = c.session().scripts;
  if (!scripts) return reply::error("ERR scripting is off: this session has no redis::Scripts");
  auto numkeys = parse_integer(a[2]);
  if (!numkeys) return reply::not_integer();
  if (*numkeys > static_cast<std::int64_t>(a.size() - 3))
    return reply::error("ERR Number of keys can't be greater than number of args");
  if (*numkeys < 0) return reply::error("ERR Number of keys can't be negative");
  Args keys = a.subspan(3, static_cast<std::size_t>(*numkeys)), args = a.subspan(3 + keys.size());
  const int db = c.session().db;  // a SELECT in the script is the script's own
  Scripts::Caller caller{&c, [](void* self, Args argv, bool ro) -> Reply {
    auto& ctx = *static_cast<C*>(self);
    const auto* command = find_command<C>(argv[0]);
    if (!command) return reply::error("ERR Unknown Redis command called from script");
    if (command->arity > 0 ? argv.size() != static_cast<std::size_t>(command->arity)
                           : argv.size() < static_cast<std::size_t>(-command->arity))
      return reply::error("ERR Wrong number of args calling Redis command from script");
    if (!command->run || is_script_command(command->name) || is_blocking(command->name))
      return reply::error("ERR This Redis command is not allowed from script");
    if (command->flags & flag::write) {
      if (ro) return reply::error("ERR Write commands are not allowed from read-only scripts.");
      if (!ctx.session().scripts->may_write()) return reply::error("ERR Script killed by user with SCRIPT KILL...");
    }
    return run_command(ctx.session(), *command, ctx, argv);
  }};
  Reply r = by_sha ? scripts->evalsha(a[1], keys, args, read_only, caller)
                   : scripts->eval(a[1], keys, args, read_only, caller);
  c.session().db = db;
  return r;
}
}  // namespace detail

namespace cmd {
template <class C>
Reply eval(C& c, Args a) { return detail::eval(c, a, false, false); }
template <class C>
Reply evalsha(C& c, Args a) { return detail::eval(c, a, true, false); }
template <class C>
Reply eval_ro(C& c, Args a) { return detail::eval(c, a, false, true); }
template <class C>
Reply evalsha_ro(C& c, Args a) { return detail::eval(c, a, true, true); }

/// SCRIPT LOAD, EXISTS, FLUSH, KILL (a server answers KILL itself, while the script runs).
template <class C>
Reply script(C& c, Args a) {
  Scripts* scripts = c.session().scripts;
  if (!scripts) return reply::error("ERR scripting is off: this session has no redis::Scripts");
  const auto sub = ascii_lower(a[1]);
  if (sub == "load" && a.size() == 3) return scripts->load(a[2]);
  if (sub == "exists" && a.size() >= 3) {
    std::vector<Reply> out;
    for (std::size_t i = 2; i < a.size(); ++i) out.push_back(reply::integer(scripts->exists(a[i]) ? 1 : 0));
    return reply::array(std::move(out));
  }
  if (sub == "flush" && a.size() <= 3) {
    if (a.size() == 3 && !iequals(a[2], "sync") && !iequals(a[2], "async"))
      return reply::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    scripts->flush();
    return reply::ok();
  }
  if (sub == "kill" && a.size() == 2) return scripts->kill();
  if (sub == "help" && a.size() == 2) {
    std::vector<Reply> lines;
    for (const char* line : {"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                             "EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
                             "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache.",
                             "KILL", "    Kill the currently executing Lua script.",
                             "LOAD <script>", "    Load a script into the scripts cache without executing it."})
      lines.push_back(reply::simple(line));
    return reply::array(std::move(lines));
  }
  if (sub == "load" || sub == "exists" || sub == "flush" || sub == "kill" || sub == "help")
    return reply::error("ERR wrong number of arguments for 'script|" + sub + "' command");
  return reply::error("ERR unknown subcommand '" + std::string(a[1]).substr(0, 128) + "'. Try SCRIPT HELP.");
}
}  // namespace cmd

}  // namespace kvstack::redis
