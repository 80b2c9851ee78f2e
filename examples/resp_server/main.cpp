// kvstack-server: a Redis-protocol server over redis::DataStore on any kvstack engine.
//
//   kvstack-server --port 6379 --bind 127.0.0.1 --backend memory|lmdb|rocksdb --path DIR
//                  --databases 16 --requirepass PASS --maxclients N --proto-max-bulk-len BYTES
//                  --threads N
//
// The requests read together — a client's pipelined batch, and every client's that arrived
// meanwhile — run in one backend transaction, one commit (redis::execute_all).
//
// KV_BACKEND / KV_PATH / KV_PARAMS give the engine when the flags do not. `--port 0` picks a
// free port; the server prints "ready <port>" on stdout once it accepts connections. SIGINT and
// SIGTERM stop it cleanly: commands in flight finish, the engine is closed (nothing that was
// acknowledged is lost on a durable engine).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <unistd.h>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/config.hpp>
#include <kvstack/redis/redis.hpp>
#include <kvstack/redis/resp.hpp>

namespace {
namespace asio = boost::asio;
namespace kv = kvstack;
namespace redis = kvstack::redis;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Store = redis::DataStore<kv::AnyBackend>;
using Reply = redis::Reply;
namespace reply = redis::reply;
using Argv = std::vector<std::string>;

struct Options {
  std::string bind = "127.0.0.1";
  unsigned short port = 6379;
  int databases = 16;
  std::string requirepass;
  std::size_t maxclients = 10000;
  // Commands run one at a time (the engine serializes transactions); more threads only read and
  // write sockets in parallel. Half the cores leaves the rest to clients on the same machine.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency() / 2);
  std::size_t max_bulk = 512u * 1024 * 1024;
  kv::Config engine;
};

/// Requests of one connection run together at most (they share a transaction: see run()). A
/// connection reads no more requests until their replies are written, so a client that stops
/// reading holds at most one batch of replies in the server.
constexpr std::size_t max_batch = 64;

/// What the server keeps per connection, beyond the DataStore session.
struct Client {
  std::uint64_t id;
  std::string name;
  bool authenticated;
  int protocol = 2;
  redis::Session session;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Server {
 public:
  Server(asio::io_context& io, Store& store, Options options)
      : io_(io), store_(store), options_(std::move(options)), acceptor_(io) {
    tcp::endpoint at(asio::ip::make_address(options_.bind), options_.port);
    acceptor_.open(at.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
  }

  unsigned short port() const { return port_; }

  /// Accepts connections until the io_context stops; each is served by its own coroutine (on
  /// whichever thread is free: a connection's requests run one after another).
  awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(io_.get_executor(), asio::as_tuple(use_awaitable));
      if (ec) continue;
      socket.set_option(tcp::no_delay(true));
      if (clients_.load() >= options_.maxclients) {
        asio::write(socket, asio::buffer(std::string_view("-ERR max number of clients reached\r\n")), ec);
        char sink[4096];  // what the client already sent: closing over unread bytes would reset
        while (!ec && socket.available(ec) > 0) socket.read_some(asio::buffer(sink), ec);
        continue;
      }
      asio::co_spawn(io_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> sweep() {
    asio::steady_timer timer(io_);
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(100));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(use_awaitable));
      if (ec) break;
      (void)store_.sweep(4096);  // expired keys and deleted collections, a bounded amount per tick
    }
  }

 private:
  awaitable<void> serve(tcp::socket socket) {
    ++clients_;
    ++connections_;
    Client c{next_id_++, {}, options_.requirepass.empty(), 2, store_.session()};
    redis::resp::RequestParser parser({.max_bulk = options_.max_bulk});
    std::string in, out;
    std::vector<char> buf(16 * 1024);
    std::vector<Argv> batch;
    bool closing = false;
    while (!closing) {
      // Parse the whole requests buffered (up to max_batch), run them, write the replies.
      std::string_view rest = in;
      std::string protocol_error;
      while (!rest.empty() && batch.size() < max_batch) {
        auto used = parser.feed(rest);
        rest.remove_prefix(used);
        if (parser.state() == redis::resp::RequestParser::ready) {
          batch.push_back(parser.take());
        } else if (parser.state() == redis::resp::RequestParser::failed) {
          protocol_error = parser.error();
          break;
        } else if (used == 0) {
          break;
        }
      }
      in.erase(0, in.size() - rest.size());
      bool full = batch.size() == max_batch;
      if (!batch.empty()) co_await submit(c, batch, out, closing);
      batch.clear();
      if (!protocol_error.empty() && !closing) {
        redis::resp::encode(reply::error(protocol_error), c.protocol, out);
        closing = true;
      }
      if (!out.empty()) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), asio::as_tuple(use_awaitable));
        if (ec) break;
        out.clear();
      }
      if (closing || full) continue;
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
      if (ec) break;
      in.append(buf.data(), n);
    }
    --clients_;
  }

  /// Hands a connection's batch to the next flush() and waits for it to have run.
  awaitable<void> submit(Client& c, std::vector<Argv>& batch, std::string& out, bool& closing) {
    co_await asio::async_initiate<decltype(use_awaitable), void()>(
        [&](auto handler) {
          std::lock_guard lock(waiting_mu_);
          waiting_.push_back({&c, &batch, &out, &closing, std::move(handler)});
          if (!std::exchange(flush_posted_, true)) asio::post(io_, [this] { flush(); });
        },
        use_awaitable);
  }

  /// Runs the batches of every connection that submitted one since the last flush: the data
  /// commands each sent before any of the server's own run in one backend transaction (one
  /// commit for all: group commit); the rest of each batch after, in order.
  void flush() {
    std::vector<Waiting> ready;
    {
      std::lock_guard lock(waiting_mu_);
      ready.swap(waiting_);
      flush_posted_ = false;
    }
    std::vector<std::vector<Reply>> replies(ready.size());
    std::vector<redis::Pipeline> pipelines;
    for (std::size_t i = 0; i < ready.size(); ++i) {
      auto& [c, batch, out, closing, resume] = ready[i];
      std::size_t n = 0;
      while (n < batch->size() && c->authenticated && !own((*batch)[n][0])) ++n;
      pipelines.push_back({&c->session, std::span(*batch).first(n), &replies[i]});
    }
    redis::execute_all(store_, pipelines);
    for (std::size_t i = 0; i < ready.size(); ++i) {
      auto& [c, batch, out, closing, resume] = ready[i];
      commands_ += replies[i].size();
      for (auto& r : replies[i]) redis::resp::encode(r, c->protocol, *out);
      std::vector<Reply>().swap(replies[i]);  // encoded: no second copy of large values kept
      run(*c, std::span(*batch).subspan(pipelines[i].commands.size()), *out, *closing);
      asio::post(io_, [h = std::move(resume)]() mutable { std::move(h)(); });
    }
  }

  /// Whether the server answers `name` itself (rather than the DataStore).
  static bool own(std::string_view name) {
    for (std::string_view n : {"quit", "auth", "hello", "client", "info", "command", "config"})
      if (redis::iequals(name, n)) return true;
    return false;
  }

  /// Runs requests read together, encoding their replies into `out`: the data commands between
  /// two of the server's own share one backend transaction (redis::execute_all).
  void run(Client& c, std::span<const std::vector<std::string>> batch, std::string& out, bool& closing) {
    std::vector<Reply> replies;
    for (std::size_t i = 0; i < batch.size() && !closing;) {
      auto j = i;
      while (j < batch.size() && c.authenticated && !own(batch[j][0])) ++j;
      if (j == i) {
        replies.push_back(handle(c, batch[i], closing));
        ++i;
      } else {
        redis::execute_all(store_, c.session, batch.subspan(i, j - i), replies);
        commands_ += j - i;
        i = j;
      }
      for (auto& r : replies) redis::resp::encode(r, c.protocol, out);  // in the protocol of their time
      replies.clear();
    }
  }

  /// The server's own commands, and NOAUTH for any other before AUTH.
  Reply handle(Client& c, const std::vector<std::string>& argv, bool& closing) {
    ++commands_;
    auto name = lower(argv[0]);
    if (!c.authenticated && name != "auth" && name != "hello" && name != "quit")
      return reply::error("NOAUTH Authentication required.");
    if (name == "quit") {
      closing = true;
      return reply::ok();
    }
    if (name == "auth") return auth(c, argv);
    if (name == "hello") return hello(c, argv);
    if (name == "client") return client(c, argv);
    if (name == "info") return info(argv);
    if (name == "command") return command(argv);
    return config(argv);
  }

  Reply auth(Client& c, const std::vector<std::string>& a) {
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

  Reply hello(Client& c, const std::vector<std::string>& a) {
    int protocol = c.protocol;
    if (a.size() >= 2) {
      auto v = redis::parse_integer(a[1]);
      if (!v) return reply::error("ERR Protocol version is not an integer or out of range");
      if (*v != 2 && *v != 3) return reply::error("NOPROTO unsupported protocol version");
      protocol = static_cast<int>(*v);
    }
    for (std::size_t i = 2; i < a.size(); ++i) {
      if (redis::iequals(a[i], "AUTH") && i + 2 < a.size()) {
        auto r = auth(c, {"auth", a[i + 1], a[i + 2]});
        if (r.is_error()) return r;
        i += 2;
      } else if (redis::iequals(a[i], "SETNAME") && i + 1 < a.size()) {
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

  Reply client(Client& c, const std::vector<std::string>& a) {
    auto sub = a.size() >= 2 ? lower(a[1]) : "";
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
    if (a.size() < 2) return reply::wrong_arity("client");
    return reply::error("ERR unknown subcommand or wrong number of arguments for '" + a[1] + "'. Try CLIENT HELP.");
  }

  Reply info(const std::vector<std::string>& a) {
    auto wants = [&](std::string_view section) {
      if (a.size() < 2) return true;
      for (std::size_t i = 1; i < a.size(); ++i)
        if (redis::iequals(a[i], section) || redis::iequals(a[i], "all") || redis::iequals(a[i], "everything") ||
            redis::iequals(a[i], "default"))
          return true;
      return false;
    };
    std::string s;
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    if (wants("server"))
      s += "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nos:Linux\r\narch_bits:64\r\n"
           "multiplexing_api:epoll\r\nprocess_id:" + std::to_string(::getpid()) +
           "\r\ntcp_port:" + std::to_string(port()) + "\r\nuptime_in_seconds:" + std::to_string(uptime) +
           "\r\nuptime_in_days:" + std::to_string(uptime / 86400) + "\r\nkvstack_backend:" + options_.engine.backend +
           "\r\n\r\n";
    if (wants("clients"))
      s += "# Clients\r\nconnected_clients:" + std::to_string(clients_.load()) +
           "\r\nmaxclients:" + std::to_string(options_.maxclients) + "\r\n\r\n";
    if (wants("stats"))
      s += "# Stats\r\ntotal_connections_received:" + std::to_string(connections_.load()) +
           "\r\ntotal_commands_processed:" + std::to_string(commands_.load()) + "\r\n\r\n";
    if (wants("keyspace")) {
      s += "# Keyspace\r\n";
      auto session = store_.session();
      store_.run(session, [&](Store::context& ctx) {
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
    }
    return reply::verbatim(std::move(s));
  }

  Reply command(const std::vector<std::string>& a) {
    using C = Store::context;
    auto sub = a.size() >= 2 ? lower(a[1]) : "";
    auto describe = [](const redis::Command<C>& cmd) {
      std::vector<Reply> flags;
      if (cmd.flags & redis::flag::write) flags.push_back(reply::simple("write"));
      else if (cmd.flags & redis::flag::read) flags.push_back(reply::simple("readonly"));
      bool keyed = cmd.flags & (redis::flag::read | redis::flag::write);
      return reply::array({reply::bulk(cmd.name), reply::integer(cmd.arity), reply::array(std::move(flags)),
                           reply::integer(keyed ? 1 : 0), reply::integer(keyed ? 1 : 0), reply::integer(keyed ? 1 : 0)});
    };
    if (a.size() == 1) {
      std::vector<Reply> all;
      for (auto& cmd : redis::command_table<C>()) all.push_back(describe(cmd));
      return reply::array(std::move(all));
    }
    if (sub == "count") return reply::integer(static_cast<std::int64_t>(redis::command_table<C>().size()));
    if (sub == "info") {
      std::vector<Reply> out;
      for (std::size_t i = 2; i < a.size(); ++i) {
        auto* cmd = redis::find_command<C>(a[i]);
        out.push_back(cmd ? describe(*cmd) : reply::null_array());
      }
      return reply::array(std::move(out));
    }
    if (sub == "docs") return reply::map();  // no documentation: redis-cli then uses its own help
    return reply::error("ERR unknown subcommand '" + a[1] + "'. Try COMMAND HELP.");
  }

  Reply config(const std::vector<std::string>& a) {
    if (a.size() < 3 || !redis::iequals(a[1], "GET")) {
      if (a.size() >= 2 && redis::iequals(a[1], "SET")) return reply::error("ERR CONFIG SET is not supported by kvstack-server");
      return reply::wrong_arity("config|get");
    }
    const std::pair<std::string, std::string> settings[] = {
        {"bind", options_.bind},
        {"port", std::to_string(port())},
        {"databases", std::to_string(options_.databases)},
        {"maxclients", std::to_string(options_.maxclients)},
        {"proto-max-bulk-len", std::to_string(options_.max_bulk)},
        {"requirepass", options_.requirepass},
        {"appendonly", "no"},
        {"save", ""},
    };
    std::vector<Reply> out;
    for (auto& [k, v] : settings)
      for (std::size_t i = 2; i < a.size(); ++i)
        if (redis::glob_match(a[i], k, true)) {
          out.insert(out.end(), {reply::bulk(k), reply::bulk(v)});
          break;
        }
    return reply::map(std::move(out));
  }

  struct Waiting {
    Client* client;
    std::vector<Argv>* batch;
    std::string* out;
    bool* closing;
    asio::any_completion_handler<void()> resume;
  };

  asio::io_context& io_;
  Store& store_;
  std::mutex waiting_mu_;
  std::vector<Waiting> waiting_;  ///< batches for the next flush()
  bool flush_posted_ = false;
  Options options_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> clients_{0};
  std::atomic<std::uint64_t> next_id_{1}, connections_{0}, commands_{0};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "kvstack-server: " << why
            << "\nusage: kvstack-server [--port N] [--bind ADDR] [--backend memory|lmdb|rocksdb] [--path DIR]\n"
               "                      [--databases N] [--requirepass PASS] [--maxclients N] "
               "[--proto-max-bulk-len BYTES] [--threads N]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  auto env = kv::Config::from_env();
  if (!env) usage(env.error().message());
  o.engine = env.value();
  auto number = [](const std::string& flag, const char* v, long long lo, long long hi) {
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) usage(flag + ": not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return n;
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* v = argv[++i];
    if (flag == "--port") o.port = static_cast<unsigned short>(number(flag, v, 0, 65535));
    else if (flag == "--bind") o.bind = v;
    else if (flag == "--backend") o.engine.backend = v;
    else if (flag == "--path") o.engine.path = v;
    else if (flag == "--databases") o.databases = static_cast<int>(number(flag, v, 1, 1 << 20));
    else if (flag == "--requirepass") o.requirepass = v;
    else if (flag == "--threads") o.threads = static_cast<unsigned>(number(flag, v, 1, 1024));
    else if (flag == "--maxclients") o.maxclients = static_cast<std::size_t>(number(flag, v, 1, 1 << 24));
    else if (flag == "--proto-max-bulk-len") o.max_bulk = static_cast<std::size_t>(number(flag, v, 1024, 1ll << 40));
    else usage("unknown option " + flag);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse(argc, argv);
  auto engine = kv::open(options.engine);
  if (!engine) {
    std::cerr << "kvstack-server: " << engine.error().message() << "\n";
    return 1;
  }
  auto store = Store::open(std::move(engine).value(), {.databases = options.databases});
  if (!store) {
    std::cerr << "kvstack-server: " << store.error().message() << "\n";
    return 1;
  }
  asio::io_context io;
  std::optional<Server> server;
  try {
    server.emplace(io, store.value(), options);
  } catch (const std::exception& e) {
    std::cerr << "kvstack-server: cannot listen on " << options.bind << ":" << options.port << ": " << e.what() << "\n";
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  // Stopping the io_context lets every running command finish (run() returns after the handler
  // in progress); the threads are joined, then the engine closed.
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  std::signal(SIGPIPE, SIG_IGN);
  asio::co_spawn(io, server->accept(), asio::detached);
  asio::co_spawn(io, server->sweep(), asio::detached);
  std::cout << "ready " << server->port() << std::endl;
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < options.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  return 0;  // the store closes here: a durable engine has every acknowledged write
}
