// kvstack::redis::Admin — the commands a server answers itself rather than its DataStore: QUIT,
// AUTH, HELLO, CLIENT, INFO, COMMAND, CONFIG, FUNCTION, SAVE, BGSAVE, SHUTDOWN, SLOWLOG, and
// those of its Node (a cluster's RAFT.NODE); with what the server keeps per connection (Client)
// and counts (ServerCounters).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <kvstack/redis/dispatcher.hpp>
#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/reply.hpp>
#include <kvstack/redis/resp.hpp>
#include <kvstack/redis/session.hpp>
#include <kvstack/server/client_registry.hpp>
#include <kvstack/server/encoding_settings.hpp>
#include <kvstack/server/options.hpp>
#include <kvstack/server/pubsub.hpp>

namespace kvstack::inline v0::redis {

/// What the server keeps per connection, beyond its DataStore session.
struct Client {
  std::uint64_t id = 0;
  std::string name;
  bool authenticated = false;
  int protocol = 2;
  Session session;
  std::shared_ptr<Mailbox> mailbox;  ///< its Pub/Sub messages and subscriptions
  bool replies_off = false;          ///< CLIENT REPLY OFF (Pub/Sub messages still go)
  int replies_to_skip = 0;           ///< CLIENT REPLY SKIP: its own reply and the next

  /// Encodes `r` into `out` in the client's protocol, unless CLIENT REPLY silences it (Pub/Sub's
  /// pushes go through).
  void answer(const Reply& r, std::string& out) {
    if (r.kind == Reply::Kind::push) return resp::encode(r, protocol, out);
    if (replies_off) return;
    if (replies_to_skip > 0) {
      --replies_to_skip;
      return;
    }
    resp::encode(r, protocol, out);
  }
};

/// What a server counts, for INFO.
struct ServerCounters {
  std::atomic<std::size_t> clients{0}, blocked{0};
  std::atomic<std::uint64_t> next_id{1}, connections{0}, commands{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// The server's own commands over `store`, with `node`'s (see Standalone for what a Node is).
template <class Store, class Node>
class Admin {
 public:
  using Argv = std::vector<std::string>;

  /// `stop` ends the server (SHUTDOWN).
  Admin(Store& store, Node& node, const ServerOptions& options, ServerCounters& counters, ClientRegistry& clients,
        CommandStats& stats, std::function<void()> stop)
      : store_(store), node_(node), options_(options), counters_(counters), clients_(clients), stats_(stats),
        stop_(std::move(stop)) {}

  /// The client port, for INFO and CONFIG GET (known once the server listens).
  void set_port(std::uint16_t port) { port_ = port; }

#if KVSTACK_WITH_LUA
  /// The server's Scripts, for CONFIG's lua-time-limit (busy-reply-threshold).
  void set_scripts(Scripts* scripts) { scripts_ = scripts; }
#endif

  /// Whether the server answers `name` itself (rather than the DataStore).
  bool owns(std::string_view name) const {
    for (std::string_view n :
         {"quit", "auth", "hello", "client", "info", "command", "config", "shutdown", "function", "save", "bgsave",
          "slowlog"})
      if (iequals(name, n)) return true;
    return node_.owns(name);
  }

  /// Whether `name`, one of the server's own commands, is queued inside MULTI (as in Redis; QUIT
  /// acts at once, SHUTDOWN and SAVE are refused there, a Node's commands act at once).
  bool queued_in_multi(std::string_view name) const {
    for (std::string_view n : {"quit", "shutdown", "save", "bgsave"})
      if (iequals(name, n)) return false;
    return owns(name) && !node_.owns(name);
  }

  /// Runs one of the server's own commands; NOAUTH for any command before AUTH. Sets `closing`
  /// when the connection is to close after the reply.
  Reply handle(Client& c, const Argv& argv, bool& closing) {
    ++counters_.commands;
    auto name = ascii_lower(argv[0]);
    if (!c.authenticated && name != "auth" && name != "hello" && name != "quit")
      return reply::error("NOAUTH Authentication required.");
    if (name == "quit") {
      closing = true;
      return reply::ok();
    }
    if (name == "auth") return auth(c, argv);
    if (name == "hello") return hello(c, argv);
    if (name == "client") return client(c, argv, closing);
    if (name == "info") return info(argv);
    if (name == "command") return command(argv);
    if (name == "config") return config(argv);
    if ((name == "shutdown" || name == "save" || name == "bgsave") && c.session.in_multi) {
      c.session.multi_failed = true;  // as Redis: refused, and the EXEC that follows aborts
      return reply::error("ERR Command not allowed inside a transaction");
    }
    if (name == "shutdown") return shutdown(argv, closing);
    // Every write is in the engine when it is acknowledged: there is nothing to save.
    if (name == "save") return argv.size() == 1 ? reply::ok() : reply::wrong_arity("save");
    if (name == "bgsave") return argv.size() <= 2 ? reply::simple("Background saving started") : reply::syntax();
    if (name == "function") return function(argv);
    if (name == "slowlog") return slowlog(argv);
    return node_.handle(argv);
  }

 private:
  Reply auth(Client& c, const Argv& a) {
    if (a.size() < 2 || a.size() > 3) return reply::wrong_arity("auth");
    if (options_.requirepass.empty())
      return reply::error(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
          "configuration is correct?");
    if ((a.size() == 3 && a[1] != "default") || a.back() != options_.requirepass)
      return reply::error("WRONGPASS invalid username-password pair or user is disabled.");
    c.authenticated = true;
    return reply::ok();
  }

  Reply hello(Client& c, const Argv& a) {
    int protocol = c.protocol;
    if (a.size() >= 2) {
      auto v = parse_integer(a[1]);
      if (!v) return reply::error("ERR Protocol version is not an integer or out of range");
      if (*v != 2 && *v != 3) return reply::error("NOPROTO unsupported protocol version");
      protocol = static_cast<int>(*v);
    }
    for (std::size_t i = 2; i < a.size(); ++i) {
      if (iequals(a[i], "AUTH") && i + 2 < a.size()) {
        auto r = auth(c, {"auth", a[i + 1], a[i + 2]});
        if (r.is_error()) return r;
        i += 2;
      } else if (iequals(a[i], "SETNAME") && i + 1 < a.size()) {
        c.name = a[++i];
      } else {
        return reply::error("ERR Syntax error in HELLO option '" + a[i] + "'");
      }
    }
    if (!c.authenticated)
      return reply::error(
          "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
          "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at the "
          "same time");
    c.protocol = protocol;
    return reply::map({reply::bulk("server"), reply::bulk("redis"), reply::bulk("version"), reply::bulk("7.0.0"),
                       reply::bulk("proto"), reply::integer(protocol), reply::bulk("id"),
                       reply::integer(static_cast<std::int64_t>(c.id)), reply::bulk("mode"), reply::bulk("standalone"),
                       reply::bulk("role"), reply::bulk("master"), reply::bulk("modules"), reply::array()});
  }

  Reply client(Client& c, const Argv& a, bool& closing) {
    auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    if (sub == "list" || (sub == "info" && a.size() == 2)) {
      std::vector<std::uint64_t> ids;  // CLIENT LIST ID id...
      if (sub == "list" && a.size() > 2) {
        if (a.size() < 4 || !iequals(a[2], "ID")) return reply::syntax();
        for (std::size_t i = 3; i < a.size(); ++i) {
          auto id = parse_integer(a[i]);
          if (!id || *id <= 0) return reply::error("ERR Invalid client ID");
          ids.push_back(static_cast<std::uint64_t>(*id));
        }
      }
      std::string out;
      for (auto v : clients_.list()) {
        if (sub == "info" ? v.id != c.id : !ids.empty() && std::ranges::find(ids, v.id) == ids.end()) continue;
        if (v.id == c.id) {  // its own line, as it is now
          v.name = c.name, v.db = c.session.db, v.protocol = c.protocol, v.in_multi = c.session.in_multi;
          v.last_command = "client|" + sub;
        }
        out += ClientRegistry::line(v);
      }
      return reply::verbatim(std::move(out));
    }
    if (sub == "kill") return kill(c, a, closing);
    if (sub == "setname" && a.size() == 3) {
      for (char ch : a[2])
        if (ch < '!' || ch > '~')
          return reply::error("ERR Client names cannot contain spaces, newlines or special characters.");
      c.name = a[2];
      return reply::ok();
    }
    if (sub == "getname" && a.size() == 2) return c.name.empty() ? reply::null() : reply::bulk(c.name);
    if (sub == "id" && a.size() == 2) return reply::integer(static_cast<std::int64_t>(c.id));
    if (sub == "setinfo") return reply::ok();  // client libraries announce themselves; nothing kept
    if (sub == "reply" && a.size() == 3) {  // OFF and SKIP silence their own reply too
      if (iequals(a[2], "on")) c.replies_off = false, c.replies_to_skip = 0;
      else if (iequals(a[2], "off")) c.replies_off = true;
      else if (iequals(a[2], "skip")) c.replies_to_skip = c.replies_off ? 0 : 2;
      else return reply::syntax();
      return reply::ok();
    }
    if (a.size() < 2) return reply::wrong_arity("client");
    return reply::error("ERR unknown subcommand or wrong number of arguments for '" + a[1] + "'. Try CLIENT HELP.");
  }

  /// CLIENT KILL addr:port, or CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [SKIPME yes|no]
  /// [TYPE normal|pubsub] [USER default]: closes the connections named (itself last, after the reply).
  Reply kill(Client& c, const Argv& a, bool& closing) {
    if (a.size() < 3) return reply::wrong_arity("client|kill");
    std::optional<std::uint64_t> id;
    std::optional<std::string> addr, laddr, type;
    bool skipme = true, old_form = a.size() == 3;
    if (old_form) {
      addr = a[2];
    } else {
      if (a.size() % 2 != 0) return reply::syntax();
      for (std::size_t i = 2; i + 1 < a.size(); i += 2) {
        const auto& v = a[i + 1];
        if (iequals(a[i], "ID")) {
          auto n = parse_integer(v);
          if (!n || *n <= 0) return reply::error("ERR client-id should be greater than 0");
          id = static_cast<std::uint64_t>(*n);
        } else if (iequals(a[i], "ADDR")) {
          addr = v;
        } else if (iequals(a[i], "LADDR")) {
          laddr = v;
        } else if (iequals(a[i], "TYPE")) {
          if (!iequals(v, "normal") && !iequals(v, "pubsub") && !iequals(v, "master") && !iequals(v, "replica") &&
              !iequals(v, "slave"))
            return reply::error("ERR Unknown client type '" + v + "'");
          type = ascii_lower(v);
        } else if (iequals(a[i], "SKIPME")) {
          if (!iequals(v, "yes") && !iequals(v, "no")) return reply::syntax();
          skipme = iequals(v, "yes");
        } else if (iequals(a[i], "USER")) {
          if (v != "default") return reply::error("ERR No such user '" + v + "'");
        } else {
          return reply::syntax();
        }
      }
    }
    bool self = false;
    auto n = clients_.kill([&](const ClientView& v) {
      const bool pubsub = v.subscriptions + v.patterns > 0;
      if ((id && v.id != *id) || (addr && v.addr != *addr) || (laddr && v.laddr != *laddr) ||
          (type && (*type == "pubsub" ? !pubsub : *type == "normal" ? pubsub : true)))
        return false;
      if (v.id != c.id) return true;
      self = self || !skipme || old_form;
      return false;
    });
    if (self) closing = true;
    n += self ? 1 : 0;
    if (old_form) return n ? reply::ok() : reply::error("ERR No such client");
    return reply::integer(static_cast<std::int64_t>(n));
  }

  Reply info(const Argv& a) {
    auto wants = [&](std::string_view section) {
      if (a.size() < 2) return true;
      for (std::size_t i = 1; i < a.size(); ++i)
        if (iequals(a[i], section) || iequals(a[i], "all") || iequals(a[i], "everything") || iequals(a[i], "default"))
          return true;
      return false;
    };
    std::string s;
    auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - counters_.started).count();
    if (wants("server"))
      s += "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nos:Linux\r\narch_bits:64\r\n"
           "multiplexing_api:epoll\r\nprocess_id:" + std::to_string(::getpid()) +
           "\r\ntcp_port:" + std::to_string(port_) + "\r\nuptime_in_seconds:" + std::to_string(uptime) +
           "\r\nuptime_in_days:" + std::to_string(uptime / 86400) + "\r\nkvstack_backend:" + options_.engine.backend +
           "\r\n\r\n";
    if (wants("memory")) s += "# Memory\r\nmem_allocator:libc\r\n\r\n";
    if (wants("clients"))
      s += "# Clients\r\nconnected_clients:" + std::to_string(counters_.clients.load()) +
           "\r\nmaxclients:" + std::to_string(options_.maxclients) +
           "\r\nblocked_clients:" + std::to_string(counters_.blocked.load()) + "\r\n\r\n";
    if (wants("stats"))
      s += "# Stats\r\ntotal_connections_received:" + std::to_string(counters_.connections.load()) +
           "\r\ntotal_commands_processed:" + std::to_string(counters_.commands.load()) + "\r\n\r\n";
    if (wants("persistence"))  // every write is in the engine when acknowledged: nothing pending, nothing to load
      s += "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\n"
           "aof_enabled:0\r\naof_rewrite_in_progress:0\r\nkvstack_engine:" + options_.engine.backend + "\r\n\r\n";
    if (wants("replication")) s += "# Replication\r\n" + node_.replication_info() + "\r\n";
    if (a.size() >= 2 && std::ranges::any_of(a.begin() + 1, a.end(), [](auto& x) {
          return iequals(x, "commandstats") || iequals(x, "all") || iequals(x, "everything");
        }))
      s += commandstats();
    if (wants("keyspace")) s += keyspace();
    return reply::verbatim(std::move(s));
  }

  /// INFO commandstats: each command run at least once (the server's own are not counted).
  std::string commandstats() {
    using C = typename Store::context;
    std::string s = "# Commandstats\r\n";
    const auto& table = command_table<C>();
    for (std::size_t i = 0; i < table.size(); ++i) {
      auto t = stats_.totals(i);
      if (t.calls == 0) continue;
      char per_call[32];
      std::snprintf(per_call, sizeof per_call, "%.2f", static_cast<double>(t.usec) / static_cast<double>(t.calls));
      s += "cmdstat_" + std::string(table[i].name) + ":calls=" + std::to_string(t.calls) + ",usec=" +
           std::to_string(t.usec) + ",usec_per_call=" + per_call + ",rejected_calls=0,failed_calls=" +
           std::to_string(t.failed) + "\r\n";
    }
    return s + "\r\n";
  }

  /// SLOWLOG GET [count] | LEN | RESET. Entries name no client (commands are timed where the
  /// store runs them, which does not know the connection).
  Reply slowlog(const Argv& a) {
    const auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    if (sub == "len" && a.size() == 2) return reply::integer(static_cast<std::int64_t>(stats_.slow_length()));
    if (sub == "reset" && a.size() == 2) {
      stats_.reset_slow();
      return reply::ok();
    }
    if (sub == "get" && a.size() <= 3) {
      std::int64_t count = 10;
      if (a.size() == 3) {
        auto n = parse_integer(a[2]);
        if (!n || *n < -1) return reply::error("ERR count should be greater than or equal to -1");
        count = *n;
      }
      std::vector<Reply> out;
      for (auto& e : stats_.slow_entries(count)) {
        std::vector<Reply> argv;
        for (auto& x : e.argv) argv.push_back(reply::bulk(x));
        out.push_back(reply::array({reply::integer(static_cast<std::int64_t>(e.id)), reply::integer(e.unix_seconds),
                                    reply::integer(e.usec), reply::array(std::move(argv)), reply::bulk(""),
                                    reply::bulk("")}));
      }
      return reply::array(std::move(out));
    }
    if (a.size() < 2) return reply::wrong_arity("slowlog");
    return reply::error("ERR unknown subcommand or wrong number of arguments for '" + a[1] + "'. Try SLOWLOG HELP.");
  }

  std::string keyspace() {
    std::string s = "# Keyspace\r\n";
    auto session = store_.session();
    auto r = store_.run(session, [&](typename Store::context& ctx) {
      for (int db = 0; db < ctx.databases(); ++db) {
        std::int64_t keys = 0, expires = 0;
        std::string at;
        for (bool after = false;; after = true) {
          auto page = ctx.keys(db, at, after, 4096);
          for (auto& m : page) keys += 1, expires += m.expiry != 0;
          if (page.size() < 4096) break;
          at = page.back().key;
        }
        if (keys)
          s += "db" + std::to_string(db) + ":keys=" + std::to_string(keys) + ",expires=" + std::to_string(expires) +
               ",avg_ttl=0\r\n";
      }
      return reply::ok();
    });
    if (r.is_error()) s += "kvstack_keyspace_error:" + r.text + "\r\n";  // e.g. a cluster member that does not lead
    return s;
  }

  Reply command(const Argv& a) {
    using C = typename Store::context;
    auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    auto describe = [](const Command<C>& cmd) {
      std::vector<Reply> flags;
      if (cmd.flags & flag::write) flags.push_back(reply::simple("write"));
      else if (cmd.flags & flag::read) flags.push_back(reply::simple("readonly"));
      bool keyed = cmd.flags & (flag::read | flag::write);
      return reply::array({reply::bulk(cmd.name), reply::integer(cmd.arity), reply::array(std::move(flags)),
                           reply::integer(keyed ? 1 : 0), reply::integer(keyed ? 1 : 0), reply::integer(keyed ? 1 : 0)});
    };
    if (a.size() == 1) {
      std::vector<Reply> all;
      for (auto& cmd : command_table<C>()) all.push_back(describe(cmd));
      return reply::array(std::move(all));
    }
    if (sub == "count") return reply::integer(static_cast<std::int64_t>(command_table<C>().size()));
    if (sub == "info") {
      std::vector<Reply> out;
      for (std::size_t i = 2; i < a.size(); ++i) {
        auto* cmd = find_command<C>(a[i]);
        out.push_back(cmd ? describe(*cmd) : reply::null_array());
      }
      return reply::array(std::move(out));
    }
    if (sub == "docs") return reply::map();  // no documentation: redis-cli then uses its own help
    return reply::error("ERR unknown subcommand '" + a[1] + "'. Try COMMAND HELP.");
  }

  /// CONFIG GET pattern...; CONFIG SET name value ... of the encoding thresholds (which change
  /// nothing); CONFIG RESETSTAT.
  Reply config(const Argv& a) {
    const auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    if (sub == "set") {
      if (a.size() < 4 || a.size() % 2 != 0) return reply::wrong_arity("config|set");
      // save "" (no snapshots: kvstack writes every change to its engine) is what holds already.
      if (a.size() == 4 && iequals(a[2], "save") && a[3].empty()) return reply::ok();
      std::vector<std::string> rest;
      std::optional<std::int64_t> slower_than, slow_max;
      for (std::size_t i = 2; i + 1 < a.size(); i += 2) {
        if (iequals(a[i], "slowlog-log-slower-than") || iequals(a[i], "slowlog-max-len")) {
          auto v = parse_integer(a[i + 1]);
          const bool max = iequals(a[i], "slowlog-max-len");
          if (!v || (max && *v < 0))
            return reply::error("ERR CONFIG SET failed (possibly related to argument '" + ascii_lower(a[i]) +
                                "') - argument couldn't be parsed into an integer");
          (max ? slow_max : slower_than) = *v;
#if KVSTACK_WITH_LUA
        } else if (scripts_ && (iequals(a[i], "lua-time-limit") || iequals(a[i], "busy-reply-threshold"))) {
          auto v = parse_integer(a[i + 1]);
          if (!v || *v < 0 || *v > INT64_MAX / 1'000'000)
            return reply::error("ERR CONFIG SET failed (possibly related to argument '" + ascii_lower(a[i]) +
                                "') - argument couldn't be parsed into an integer");
          scripts_->busy_after_ns = *v * 1'000'000;
#endif
        } else if (iequals(a[i], "notify-keyspace-events")) {
          auto flags = events::parse(a[i + 1]);
          if (!flags)
            return reply::error("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
                                "Invalid event class character. Use 'Ag$lshzxeKEtmd'.");
          store_.keyspace_events(*flags);
        } else if (!iequals(a[i], "maxmemory")) {
          rest.insert(rest.end(), {a[i], a[i + 1]});
        } else if (a[i + 1] != "0") {  // no limit: what holds
          return reply::error(std::string("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - ") +
                              (is_memory_value(a[i + 1]) ? "kvstack-server sets no memory limit"
                                                         : "argument must be a memory value"));
        }
      }
      if (auto e = encodings_.set(rest)) return *e;
      if (slower_than) stats_.slower_than_usec = *slower_than;
      if (slow_max) stats_.set_slow_max(static_cast<std::size_t>(*slow_max));
      return reply::ok();
    }
    if (sub == "resetstat" && a.size() == 2) {
      stats_.reset_totals();
      stats_.reset_slow();
      return reply::ok();
    }
    if (sub != "get") return reply::error("ERR unknown subcommand '" + (a.size() >= 2 ? a[1] : "") + "'. Try CONFIG HELP.");
    if (a.size() < 3) return reply::wrong_arity("config|get");
    std::vector<std::pair<std::string, std::string>> settings = {
        {"bind", options_.bind},
        {"port", std::to_string(port_)},
        {"databases", std::to_string(options_.databases)},
        {"maxclients", std::to_string(options_.maxclients)},
        {"proto-max-bulk-len", std::to_string(options_.max_bulk)},
        {"requirepass", options_.requirepass},
        {"appendonly", "no"},
        {"maxmemory", "0"},
        {"timeout", "0"},  // idle clients are never closed
        {"slowlog-log-slower-than", std::to_string(stats_.slower_than_usec.load())},
        {"slowlog-max-len", std::to_string(stats_.slow_max())},
        {"save", ""},
        {"notify-keyspace-events", events::format(store_.keyspace_events())},
    };
#if KVSTACK_WITH_LUA
    if (scripts_)
      for (const char* name : {"lua-time-limit", "busy-reply-threshold"})
        settings.emplace_back(name, std::to_string(scripts_->busy_after_ns.load() / 1'000'000));
#endif
    for (auto& setting : encodings_.all()) settings.push_back(std::move(setting));
    std::vector<Reply> out;
    for (auto& [k, v] : settings)
      for (std::size_t i = 2; i < a.size(); ++i)
        if (a[i].find_first_of("[*?") == std::string::npos ? iequals(a[i], k) : glob_match(a[i], k, true)) {
          out.insert(out.end(), {reply::bulk(k), reply::bulk(v)});
          break;
        }
    return reply::map(std::move(out));
  }

  /// "100", "1gb", "64K": a size as Redis reads one.
  static bool is_memory_value(std::string_view s) {
    auto digits = s.find_first_not_of("0123456789");
    if (digits == 0) return false;
    auto unit = ascii_lower(s.substr(digits == std::string_view::npos ? s.size() : digits));
    for (std::string_view u : {"", "b", "k", "kb", "m", "mb", "g", "gb"})
      if (unit == u) return true;
    return false;
  }

  /// FUNCTION: there are no functions here (kvstack-server runs no scripts), so FLUSH has
  /// nothing to do and LIST nothing to list.
  Reply function(const Argv& a) {
    const auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    if (sub == "flush" && (a.size() == 2 || (a.size() == 3 && (iequals(a[2], "ASYNC") || iequals(a[2], "SYNC")))))
      return reply::ok();
    if (sub == "list") return reply::array({});
    return reply::error("ERR kvstack-server has no functions: FUNCTION " + (a.size() >= 2 ? a[1] : std::string()) +
                        " is not supported");
  }

  /// SHUTDOWN [NOSAVE|SAVE]: the server stops as on SIGTERM (commands in flight finish, the
  /// engine closes); there is nothing to save, every write is already in the engine.
  Reply shutdown(const Argv& a, bool& closing) {
    for (std::size_t i = 1; i < a.size(); ++i)
      if (!iequals(a[i], "nosave") && !iequals(a[i], "save") && !iequals(a[i], "now") && !iequals(a[i], "force"))
        return reply::syntax();
    closing = true;
    stop_();
    return reply::ok();
  }

  Store& store_;
  Node& node_;
  const ServerOptions& options_;
  ServerCounters& counters_;
  ClientRegistry& clients_;
  CommandStats& stats_;
  std::function<void()> stop_;
  std::uint16_t port_ = 0;
  EncodingSettings encodings_;
#if KVSTACK_WITH_LUA
  Scripts* scripts_ = nullptr;
#endif
};

}  // namespace kvstack::redis
