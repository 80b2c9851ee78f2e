// kvstack::redis::Scripts — Redis's scripting on Lua 5.1, the version Redis embeds: the script
// cache (a body's SHA-1 → its compiled function), KEYS and ARGV, redis.call and redis.pcall, the
// conversions between Lua values and replies, and SCRIPT KILL. One Lua state serves every session
// that shares the Scripts, one script at a time. It needs Lua 5.1 (Debian liblua5.1-0-dev; the
// kvstack::lua target links it), so <kvstack/redis/dispatcher.hpp> includes it, and has EVAL,
// only when KVSTACK_WITH_LUA is 1.
//
// Lua 5.1 raises errors with longjmp, which skips C++ destructors: the functions Lua calls here
// finish their C++ work in a function of its own before raising.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/uuid/detail/sha1.hpp>
#include <lua.hpp>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

/// A Lua state and the scripts loaded in it, shared by the sessions that point to it
/// (Session::scripts). Thread-safe: a script runs under a lock, and `kill` may come from any thread.
class Scripts {
 public:
  /// What redis.call runs: the command line `argv`, in the transaction of the script's command;
  /// `read_only` for a script run by EVAL_RO or flagged no-writes (then writes are refused).
  struct Caller {
    void* self;
    Reply (*call)(void* self, Args argv, bool read_only);
  };

  Scripts() { open(); }
  ~Scripts() { lua_close(lua_); }
  Scripts(const Scripts&) = delete;
  Scripts& operator=(const Scripts&) = delete;

  /// The SHA-1 of `body` in lower-case hex, the name a script is called by (EVALSHA).
  static std::string sha1_hex(std::string_view body) {
    boost::uuids::detail::sha1 h;
    h.process_bytes(body.data(), body.size());
    boost::uuids::detail::sha1::digest_type digest;
    h.get_digest(digest);
    char hex[41];
    for (int i = 0; i < 5; ++i) std::snprintf(hex + 8 * i, 9, "%08x", digest[i]);
    return std::string(hex, 40);
  }

  /// SCRIPT LOAD: compiles `body` and keeps it; its SHA-1, or the compile error.
  Reply load(std::string_view body) {
    std::lock_guard lock(mu_);
    return compile(body);
  }

  /// SCRIPT EXISTS for one SHA-1 (any case).
  bool exists(std::string_view sha) {
    std::lock_guard lock(mu_);
    return loaded_.contains(ascii_lower(sha));
  }

  /// SCRIPT FLUSH: forgets every script, and starts a new Lua state (globals a script set go too).
  void flush() {
    std::lock_guard lock(mu_);
    lua_close(lua_);
    loaded_.clear();
    open();
  }

  /// SCRIPT KILL, from any thread: stops the script that runs now, as long as it has not written
  /// (its writes could not be taken back: Redis's rule). The reply to give.
  Reply kill() {
    auto expected = Status::clean;
    if (state_.compare_exchange_strong(expected, Status::killing)) return reply::ok();
    if (expected == Status::idle) return reply::error("NOTBUSY No scripts in execution right now.");
    if (expected == Status::killing) return reply::ok();
    return reply::error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
        "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
  }

  /// What runs now: no script (idle), one that has not written (clean, killable), one that did.
  enum class Status { idle, clean, wrote, killing };
  Status status() const noexcept { return state_.load(); }

  /// Whether a script has run for longer than `busy_after` (Redis's lua-time-limit): a server then
  /// answers other clients BUSY rather than have them wait.
  bool busy() const noexcept {
    const auto started = started_.load();
    return state_.load() != Status::idle && started != 0 &&
           std::chrono::steady_clock::now().time_since_epoch().count() - started > busy_after_ns.load();
  }
  /// How long a script runs before the server calls it busy (lua-time-limit, busy-reply-threshold).
  std::atomic<std::int64_t> busy_after_ns{5'000'000'000};
  /// Called, on the script's thread, once a script has run for 50 ms (or busy_after_ns, if
  /// shorter): a server with one I/O thread, which the script holds, lets another take requests
  /// (SCRIPT KILL) while it runs. Set before any script runs.
  std::function<void()> on_long_run;

  /// Called by the running script's Caller before a write: false when the script is being killed
  /// (the write must not run), else the script can no longer be killed.
  bool may_write() {
    auto expected = Status::clean;
    return state_.compare_exchange_strong(expected, Status::wrote) || expected == Status::wrote;
  }

  /// EVAL: runs `body` (compiled and kept first, unless it is already) with KEYS and ARGV.
  Reply eval(std::string_view body, Args keys, Args args, bool read_only, Caller caller) {
    std::lock_guard lock(mu_);
    auto sha = sha1_hex(body);
    if (!loaded_.contains(sha))
      if (Reply r = compile(body); r.is_error()) return r;
    return run(sha, keys, args, read_only, caller);
  }

  /// EVALSHA: runs the script loaded as `sha` (any case); NOSCRIPT when there is none.
  Reply evalsha(std::string_view sha, Args keys, Args args, bool read_only, Caller caller) {
    std::lock_guard lock(mu_);
    auto name = ascii_lower(sha);
    if (!loaded_.contains(name)) return reply::error("NOSCRIPT No matching script. Please use EVAL.");
    return run(name, keys, args, read_only, caller);
  }

 private:
  static constexpr const char* killed_message = "ERR Script killed by user with SCRIPT KILL...";

  static Scripts& self(lua_State* lua) {
    lua_getfield(lua, LUA_REGISTRYINDEX, "kvstack_scripts");
    auto* s = static_cast<Scripts*>(lua_touserdata(lua, -1));
    lua_pop(lua, 1);
    return *s;
  }

  /// A new Lua state with Redis's libraries and API, and its globals protected.
  void open() {
    lua_ = luaL_newstate();
    using Library = std::pair<const char*, lua_CFunction>;
    for (auto [name, library] : {Library{"", luaopen_base}, Library{LUA_TABLIBNAME, luaopen_table},
                                 Library{LUA_STRLIBNAME, luaopen_string}, Library{LUA_MATHLIBNAME, luaopen_math},
                                 Library{LUA_DBLIBNAME, luaopen_debug}}) {
      lua_pushcfunction(lua_, library);
      lua_pushstring(lua_, name);
      lua_call(lua_, 1, 0);
    }
    lua_pushlightuserdata(lua_, this);
    lua_setfield(lua_, LUA_REGISTRYINDEX, "kvstack_scripts");
    // The redis table.
    lua_newtable(lua_);
    auto set_function = [&](const char* name, lua_CFunction f) {
      lua_pushcfunction(lua_, f);
      lua_setfield(lua_, -2, name);
    };
    set_function("call", [](lua_State* l) { return redis_call(l, true); });
    set_function("pcall", [](lua_State* l) { return redis_call(l, false); });
    set_function("error_reply", error_reply);
    set_function("status_reply", status_reply);
    set_function("sha1hex", sha1hex);
    set_function("log", log);
    set_function("setresp", setresp);
    set_function("set_repl", [](lua_State*) { return 0; });  // replication carries effects, not scripts
    set_function("replicate_commands", [](lua_State* l) { lua_pushboolean(l, 1); return 1; });
    int level = 0;
    for (const char* name : {"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"}) {
      lua_pushinteger(lua_, level++);
      lua_setfield(lua_, -2, name);
    }
    for (auto [name, flags] : {std::pair<const char*, int>{"REPL_NONE", 0}, {"REPL_AOF", 1}, {"REPL_SLAVE", 2},
                               {"REPL_REPLICA", 2}, {"REPL_ALL", 3}}) {
      lua_pushinteger(lua_, flags);
      lua_setfield(lua_, -2, name);
    }
    lua_setglobal(lua_, "redis");
    for (const char* name : {"dofile", "loadfile", "print"}) {
      lua_pushnil(lua_);
      lua_setglobal(lua_, name);
    }
    // The error handler: a runtime error becomes {err=..., source=..., line=...}, where the
    // script's own code is (the caller of a C function such as redis.call, or of the globals'
    // protection). It keeps the debug library for itself; scripts do not see it.
    static constexpr std::string_view handler =
        "local getinfo = debug.getinfo\n"
        "debug = nil\n"
        "return function(e)\n"
        "  local level = 2\n"
        "  local at = getinfo(level, 'Sl')\n"
        "  while at and (at.what == 'C' or at.source == '@protection') do\n"
        "    level = level + 1\n"
        "    at = getinfo(level, 'Sl')\n"
        "  end\n"
        "  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end\n"
        "  if at then e.source = at.source; e.line = at.currentline end\n"
        "  return e\n"
        "end\n";
    luaL_loadbuffer(lua_, handler.data(), handler.size(), "@error_handler");
    lua_call(lua_, 0, 1);
    lua_setfield(lua_, LUA_REGISTRYINDEX, "kvstack_error_handler");
    // Read-only globals and libraries, as in Redis 7: scripts see the globals through an empty
    // proxy that reads them (an undefined one is an error) and refuses every assignment, and
    // the libraries through such proxies too; setmetatable and rawset refuse the proxies. The
    // globals themselves stay in the registry, where a run puts KEYS and ARGV.
    static constexpr std::string_view protect = R"lua(
      local real, protected = ..., setmetatable({}, {__mode = 'k'})
      local setmeta, rawset_, error_, tostring_ = setmetatable, rawset, error, tostring
      local function refuse() error_('Attempt to modify a readonly table', 3) end  -- where the caller was called
      local sealed = setmeta({}, {__newindex = function() refuse() end, __metatable = false})
      protected[sealed] = true
      local function readonly(t, strict)
        local index = not strict and t or function(_, k)
          local v = t[k]
          if v == nil then error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2) end
          return v
        end
        local proxy = setmeta({}, {__index = index, __newindex = function() refuse() end, __metatable = sealed})
        protected[proxy] = true
        return proxy
      end
      for _, name in ipairs({'redis', 'string', 'math', 'table'}) do real[name] = readonly(real[name]) end
      real.setmetatable = function(t, mt) if protected[t] then refuse() end return setmeta(t, mt) end
      real.rawset = function(t, k, v) if protected[t] then refuse() end return rawset_(t, k, v) end
      -- Precompiled chunks can crash Lua 5.1: only source is loaded, as in Redis.
      local loadstring_, concat = loadstring, table.concat
      real.loadstring = function(s, name)
        if type(s) == 'string' and s:byte(1) == 27 then return nil, 'precompiled chunks are not loaded' end
        return loadstring_(s, name)
      end
      real.load = function(reader, name)
        local parts = {}
        for part in reader do if part == '' then break end parts[#parts + 1] = part end
        return real.loadstring(concat(parts), name)
      end
      real._G = readonly(real, true)
      return real._G
    )lua";
    luaL_loadbuffer(lua_, protect.data(), protect.size(), "@protection");
    lua_pushvalue(lua_, LUA_GLOBALSINDEX);
    lua_pushvalue(lua_, LUA_GLOBALSINDEX);
    lua_setfield(lua_, LUA_REGISTRYINDEX, "kvstack_globals");
    lua_call(lua_, 1, 1);
    lua_replace(lua_, LUA_GLOBALSINDEX);
  }

  /// Compiles `body` as the function "f_<sha>" of the registry. Holds mu_.
  Reply compile(std::string_view body) {
    auto sha = sha1_hex(body);
    if (loaded_.contains(sha)) return reply::bulk(sha);
    bool no_writes = false;
    // A shebang line ("#!lua flags=no-writes") is read past, its line feed kept for line numbers.
    std::size_t skip = 0;
    if (body.starts_with("#!")) {
      skip = std::min(body.find('\n'), body.size());
      auto r = read_shebang(body.substr(2, skip - 2), no_writes);
      if (r.is_error()) return r;
    }
    if (body.size() > skip && body[skip] == LUA_SIGNATURE[0])  // precompiled: Lua 5.1 does not check it
      return reply::error("ERR Error compiling script (new function): precompiled chunks are not loaded");
    if (luaL_loadbuffer(lua_, body.data() + skip, body.size() - skip, "@user_script")) {
      Reply r = reply::error(std::string("ERR Error compiling script (new function): ") + lua_tostring(lua_, -1));
      lua_pop(lua_, 1);
      return r;
    }
    lua_setfield(lua_, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
    loaded_.emplace(sha, no_writes);
    return reply::bulk(sha);
  }

  /// Reads a shebang line (after "#!"): "lua" and options, of which Redis 7.0 has flags=.
  static Reply read_shebang(std::string_view line, bool& no_writes) {
    auto next = [&] {
      while (line.starts_with(' ')) line.remove_prefix(1);
      auto word = line.substr(0, line.find(' '));
      line.remove_prefix(word.size());
      return word;
    };
    if (auto engine = next(); engine != "lua")
      return reply::error("ERR Unexpected engine in script shebang: " + std::string(engine));
    for (auto option = next(); !option.empty(); option = next()) {
      if (!option.starts_with("flags="))
        return reply::error("ERR Unknown lua shebang option: " + std::string(option));
      for (auto flags = option.substr(6); !flags.empty();) {
        auto flag = flags.substr(0, flags.find(','));
        flags.remove_prefix(std::min(flags.size(), flag.size() + 1));
        if (flag == "no-writes") no_writes = true;
        else if (flag != "allow-oom" && flag != "allow-stale" && flag != "no-cluster" && flag != "allow-cross-slot-keys")
          return reply::error("ERR Unexpected flag in script shebang: " + std::string(flag));
      }
    }
    return reply::ok();
  }

  /// Runs the loaded script `sha`. Holds mu_.
  Reply run(const std::string& sha, Args keys, Args args, bool read_only, Caller caller) {
    lua_getfield(lua_, LUA_REGISTRYINDEX, "kvstack_error_handler");
    lua_getfield(lua_, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
    for (auto [name, values] : {std::pair<const char*, Args>{"KEYS", keys}, {"ARGV", args}}) {
      lua_getfield(lua_, LUA_REGISTRYINDEX, "kvstack_globals");
      lua_pushstring(lua_, name);
      lua_createtable(lua_, static_cast<int>(values.size()), 0);
      for (std::size_t i = 0; i < values.size(); ++i) {
        lua_pushlstring(lua_, values[i].data(), values[i].size());
        lua_rawseti(lua_, -2, static_cast<int>(i + 1));
      }
      lua_rawset(lua_, -3);
      lua_pop(lua_, 1);
    }
    caller_ = &caller;
    read_only_ = read_only || loaded_.at(sha);
    started_ = std::chrono::steady_clock::now().time_since_epoch().count();
    told_long_run_ = false;
    state_ = Status::clean;
    lua_sethook(lua_, check_killed, LUA_MASKCOUNT, 100000);
    const bool failed = lua_pcall(lua_, 0, 1, -2) != 0;
    lua_sethook(lua_, nullptr, 0, 0);
    state_ = Status::idle;
    caller_ = nullptr;
    Reply r = failed ? script_error(sha) : to_reply(-1, 0);
    lua_pop(lua_, 2);  // the result (or error) and the error handler
    if (++runs_ % 50 == 0) lua_gc(lua_, LUA_GCSTEP, 50);  // a little at a time, not a full cycle at once
    return r;
  }

  /// The error that stopped a script, as Redis words it: its message, then where it was raised.
  Reply script_error(const std::string& sha) {
    if (!lua_istable(lua_, -1)) {
      const char* what = lua_isstring(lua_, -1) ? lua_tostring(lua_, -1) : "execution failure";
      return reply::error("ERR Error running script " + sha + ", " + std::string(what).substr(0, 100));
    }
    auto field = [&](const char* name) {
      lua_getfield(lua_, -1, name);
      std::string s = lua_isstring(lua_, -1) ? lua_tostring(lua_, -1) : "";
      lua_pop(lua_, 1);
      return s;
    };
    std::string message = one_line(field("err"));
    auto source = field("source"), line = field("line");
    if (!source.empty() && !line.empty()) message += " script: " + sha + ", on " + source + ":" + line + ".";
    return reply::error(std::move(message));
  }

  static std::string one_line(std::string s) {
    for (char& ch : s)
      if (ch == '\r' || ch == '\n') ch = ' ';
    return s;
  }

  /// The Lua value at `index` as a reply, as Redis converts a script's result (RESP2).
  Reply to_reply(int index, int depth) {
    if (!lua_checkstack(lua_, 4) || depth > 1000) return reply::error("ERR reached lua stack limit");
    switch (lua_type(lua_, index)) {
      case LUA_TSTRING: {
        std::size_t n = 0;
        const char* s = lua_tolstring(lua_, index, &n);
        return reply::bulk(std::string_view(s, n));
      }
      case LUA_TBOOLEAN: return lua_toboolean(lua_, index) ? reply::integer(1) : reply::null();
      case LUA_TNUMBER: {
        // As Redis's (long long) cast on x86-64: a number out of range becomes INT64_MIN.
        double d = lua_tonumber(lua_, index);
        return reply::integer(d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? static_cast<std::int64_t>(d)
                                                                                       : INT64_MIN);
      }
      case LUA_TTABLE: {
        const int table = index < 0 ? lua_gettop(lua_) + index + 1 : index;
        for (auto [name, kind] : {std::pair<const char*, Reply::Kind>{"err", Reply::Kind::error}, {"ok", Reply::Kind::simple}}) {
          lua_pushstring(lua_, name);
          lua_rawget(lua_, table);
          if (lua_type(lua_, -1) == LUA_TSTRING) {
            Reply r{kind, 0, one_line(lua_tostring(lua_, -1)), {}};
            lua_pop(lua_, 1);
            return r;
          }
          lua_pop(lua_, 1);
        }
        std::vector<Reply> items;  // up to the first nil, as Redis
        for (int i = 1;; ++i) {
          lua_rawgeti(lua_, table, i);
          if (lua_isnil(lua_, -1)) {
            lua_pop(lua_, 1);
            break;
          }
          items.push_back(to_reply(-1, depth + 1));
          lua_pop(lua_, 1);
        }
        return reply::array(std::move(items));
      }
      default: return reply::null();
    }
  }

  /// Pushes `r` as Redis hands a command's reply to a script (RESP2): an error or a status as a
  /// table with "err" or "ok", nil as false.
  static void push(lua_State* lua, const Reply& r) {
    luaL_checkstack(lua, 3, "reply too deeply nested");
    switch (r.kind) {
      case Reply::Kind::simple:
      case Reply::Kind::error:
        lua_createtable(lua, 0, 1);
        lua_pushlstring(lua, r.text.data(), r.text.size());
        lua_setfield(lua, -2, r.is_error() ? "err" : "ok");
        return;
      case Reply::Kind::integer: lua_pushnumber(lua, static_cast<lua_Number>(r.integer)); return;
      case Reply::Kind::bulk:
      case Reply::Kind::verbatim:
      case Reply::Kind::number: lua_pushlstring(lua, r.text.data(), r.text.size()); return;
      case Reply::Kind::null:
      case Reply::Kind::null_array: lua_pushboolean(lua, 0); return;
      case Reply::Kind::array:
      case Reply::Kind::set:
      case Reply::Kind::map:
      case Reply::Kind::pairs:
      case Reply::Kind::push:
        lua_createtable(lua, static_cast<int>(r.elements.size()), 0);
        for (std::size_t i = 0; i < r.elements.size(); ++i) {
          push(lua, r.elements[i]);
          lua_rawseti(lua, -2, static_cast<int>(i + 1));
        }
        return;
    }
  }

  /// Pushes the error table {err = "ERR <message>"} (or `message` as is when it has its code).
  static void push_error(lua_State* lua, std::string_view message) {
    lua_createtable(lua, 0, 1);
    std::string text = message.starts_with('-') ? std::string(message.substr(1)) : "ERR " + std::string(message);
    lua_pushlstring(lua, text.data(), text.size());
    lua_setfield(lua, -2, "err");
  }

  /// redis.call (raise: an error stops the script) and redis.pcall (an error is returned).
  static int redis_call(lua_State* lua, bool raise) {
    const bool failed = self(lua).call_command(lua);  // C++ objects live only in there
    if (failed && raise) return lua_error(lua);
    return 1;
  }

  /// Runs the command whose arguments are on the stack and pushes its reply: true when that is
  /// an error.
  bool call_command(lua_State* lua) noexcept {
    const int argc = lua_gettop(lua);
    if (!caller_) return push_error(lua, "redis.call/pcall can only be called inside a script invocation"), true;
    if (argc == 0) return push_error(lua, "Please specify at least one argument for this redis lib call"), true;
    try {
      std::vector<std::string> argv;
      argv.reserve(static_cast<std::size_t>(argc));
      for (int i = 1; i <= argc; ++i) {
        if (lua_type(lua, i) == LUA_TNUMBER) {  // not lua_tolstring, which prints 14 digits
          char buf[64];
          int n = std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(lua_tonumber(lua, i)));
          argv.emplace_back(buf, static_cast<std::size_t>(n));
        } else if (lua_type(lua, i) == LUA_TSTRING) {
          std::size_t n = 0;
          const char* s = lua_tolstring(lua, i, &n);
          argv.emplace_back(s, n);
        } else {
          lua_settop(lua, 0);
          push_error(lua, "Lua redis lib command arguments must be strings or integers");
          return true;
        }
      }
      lua_settop(lua, 0);
      Reply r = caller_->call(caller_->self, argv, read_only_);
      push(lua, r);
      return r.is_error();
    } catch (const std::exception& e) {  // out of memory, mostly: the script stops, nothing else
      lua_settop(lua, 0);
      push_error(lua, e.what());
      return true;
    }
  }

  /// The instruction-count hook: raises the kill error once SCRIPT KILL asked for it (then at
  /// every line, so that a pcall catching it does not keep the script going).
  static void check_killed(lua_State* lua, lua_Debug*) {
    self(lua).tell_long_run();
    if (self(lua).state_.load() != Status::killing) return;
    lua_sethook(lua, check_killed, LUA_MASKLINE, 0);
    push_error(lua, std::string_view(killed_message).substr(4));
    lua_error(lua);
  }

  /// Calls on_long_run, once per script, once it has run long.
  void tell_long_run() noexcept {
    if (told_long_run_ || !on_long_run) return;
    const auto ran = std::chrono::steady_clock::now().time_since_epoch().count() - started_.load();
    if (ran < std::min<std::int64_t>(50'000'000, busy_after_ns.load())) return;
    told_long_run_ = true;
    try {
      on_long_run();
    } catch (...) {  // nothing may leave through Lua; the script goes on
    }
  }

  static int error_reply(lua_State* lua) {  // "-CODE message", "CODE message", or "message" (code ERR)
    if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) return luaL_error(lua, "wrong number or type of arguments");
    const char* text = lua_tostring(lua, 1);
    if (*text == '-') ++text;
    lua_createtable(lua, 0, 1);
    if (std::strchr(text, ' ')) lua_pushstring(lua, text);
    else lua_pushfstring(lua, "ERR %s", text);
    lua_setfield(lua, -2, "err");
    return 1;
  }

  static int status_reply(lua_State* lua) {
    if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) return luaL_error(lua, "wrong number or type of arguments");
    lua_createtable(lua, 0, 1);
    lua_pushvalue(lua, 1);
    lua_setfield(lua, -2, "ok");
    return 1;
  }

  static int sha1hex(lua_State* lua) {
    if (lua_gettop(lua) != 1) return luaL_error(lua, "wrong number of arguments");
    std::size_t n = 0;
    const char* s = lua_tolstring(lua, 1, &n);
    char hex[40];
    sha1_hex(std::string_view(s ? s : "", s ? n : 0)).copy(hex, 40);  // the string is gone before Lua can raise
    lua_pushlstring(lua, hex, 40);
    return 1;
  }

  static int log(lua_State* lua) {  // checked as Redis checks it; the server keeps no log file
    if (lua_gettop(lua) < 2) return luaL_error(lua, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(lua, 1)) return luaL_error(lua, "First argument must be a number (log level).");
    if (lua_tonumber(lua, 1) < 0 || lua_tonumber(lua, 1) > 3) return luaL_error(lua, "Invalid debug level.");
    return 0;
  }

  static int setresp(lua_State* lua) {
    if (lua_gettop(lua) != 1) return luaL_error(lua, "redis.setresp() requires one argument.");
    const int version = static_cast<int>(lua_tonumber(lua, 1));
    if (version != 2 && version != 3) return luaL_error(lua, "RESP version must be 2 or 3.");
    if (version == 3) return luaL_error(lua, "kvstack: scripts speak RESP2 only");
    return 0;
  }

  std::mutex mu_;
  lua_State* lua_ = nullptr;
  std::unordered_map<std::string, bool> loaded_;  ///< the SHA-1s of the scripts compiled: flagged no-writes?
  Caller* caller_ = nullptr;                      ///< while a script runs
  bool read_only_ = false;                        ///< while a script runs
  bool told_long_run_ = false;                    ///< on_long_run was called for the script running
  std::atomic<Status> state_{Status::idle};
  std::atomic<std::chrono::steady_clock::rep> started_{0};  ///< when the script running started
  std::uint64_t runs_ = 0;
};

}  // namespace kvstack::redis
