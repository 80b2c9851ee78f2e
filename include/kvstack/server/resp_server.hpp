// kvstack::redis::Server — an embeddable Redis-protocol server (Boost.Asio) over any
// redis::DataStore: it accepts connections, reads pipelined requests, and runs the requests that
// arrive together from every client in one backend transaction (group commit); it holds clients
// blocked in BLPOP and the like until a write serves them, and carries Pub/Sub messages.
//
//   auto store = kv::redis::DataStore<kv::LmdbBackend>::open(kv::LmdbBackend::open("db").value()).value();
//   kv::redis::Standalone node;
//   auto server = kv::redis::Server<decltype(store)>::open(store, node, {.port = 0}).value();
//   server->start();   // I/O threads; server->port() is the port; server->stop() ends it
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <kvstack/core/result.hpp>
#include <kvstack/redis/blocking.hpp>
#include <kvstack/redis/dispatcher.hpp>
#include <kvstack/redis/resp.hpp>
#include <kvstack/server/admin.hpp>
#include <kvstack/server/blocked_clients.hpp>
#include <kvstack/server/doorbell.hpp>
#include <kvstack/server/options.hpp>
#include <kvstack/server/pubsub.hpp>
#include <kvstack/server/standalone.hpp>

// GCC 12 takes Asio's coroutine frames (aligned_alloc, then its own operator delete) for a
// mismatch when it inlines them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kvstack::inline v0::redis {

/// A RESP server over `Store` (a redis::DataStore) and `Node` (Standalone, or a cluster member
/// such as RaftNode). Both must outlive it.
///
/// Threads: `options.threads` threads read and write sockets; each connection is served by one
/// coroutine at a time, so its Client and Session are never touched by two threads at once. One
/// thread at a time works on the store (flush: commands and upkeep); the others never wait for
/// it, so that a long command (a script) leaves them free to read and write sockets, and to take
/// SCRIPT KILL. The commands go through the Store's transactions, which the engine serializes
/// too: that is what makes the Store's shared state (its database table and watch table) safe.
template <class Store, class Node = Standalone>
class Server {
 public:
  using Argv = std::vector<std::string>;

  /// Listens on options.bind:options.port; errc::io_error naming the address if it cannot.
  static Result<std::unique_ptr<Server>> open(Store& store, Node& node, ServerOptions options) {
    std::unique_ptr<Server> s(new Server(store, node, std::move(options)));
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(s->options_.bind, ec);
    const tcp::endpoint at(address, s->options_.port);
    if (!ec) s->acceptor_.open(at.protocol(), ec);
    if (!ec) s->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) s->acceptor_.bind(at, ec);
    if (!ec) s->acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Error{errc::io_error, "cannot listen on " + s->options_.bind + ":" + std::to_string(s->options_.port) +
                                       ": " + ec.message()};
    s->port_ = s->acceptor_.local_endpoint().port();
    s->admin_.set_port(s->port_);
#if KVSTACK_WITH_LUA
    s->admin_.set_scripts(&s->scripts_);
    if (s->options_.threads == 1)
      s->scripts_.on_long_run = [server = s.get()] {
        {
          std::lock_guard lock(server->stop_mu_);
          server->long_script_ = true;
        }
        server->wakeup_.notify_all();
      };
#endif
    return s;
  }

  ~Server() {
    stop();
    join();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The port it listens on.
  std::uint16_t port() const noexcept { return port_; }

  /// Starts serving on `options.threads` threads of its own.
  void start() {
    boost::asio::co_spawn(io_, accept(), boost::asio::detached);
    boost::asio::co_spawn(io_, maintain(), boost::asio::detached);
    boost::asio::co_spawn(io_, expire_blocked(), boost::asio::detached);
    for (unsigned i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { io_.run(); });
#if KVSTACK_WITH_LUA
    if (options_.threads == 1) threads_.emplace_back([this] { serve_while_scripts_run(); });
#endif
    // (A cluster member's shard syncs its data itself.)
    if constexpr (std::is_same_v<Node, Standalone> && requires { store_.backend().sync(); })
      if (options_.fsync_every.count() > 0) threads_.emplace_back([this] { sync_periodically(); });
  }
  /// Stops on SIGINT and SIGTERM too (call before start).
  void stop_on_signals() {
    signals_.emplace(io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
  }
  /// Stops serving: the commands running finish, no others start. Thread-safe.
  void stop() {
    {
      std::lock_guard lock(stop_mu_);
      stopping_ = true;
    }
    wakeup_.notify_all();
    io_.stop();
  }
  /// Waits until the server has stopped (stop(), SHUTDOWN or a signal).
  void join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;
  static constexpr auto use_awaitable = boost::asio::use_awaitable;

  /// How many requests of one connection run together: from min_batch, doubling up to max_batch
  /// while their replies stay small (under small_replies bytes), and back to min_batch when they
  /// do not — and never more than one read of 16 KB brought. So a long pipeline of writes commits
  /// about as often as Redis fsyncs (once per read), and a client that stops reading holds at
  /// most one batch of replies in the server (a connection reads no more requests until those of
  /// its batch are written): 64 of them once they are large.
  static constexpr std::size_t min_batch = 64, max_batch = 1024, small_replies = 64 * 1024;

  Server(Store& store, Node& node, ServerOptions options)
      : store_(store), node_(node), options_(std::move(options)), acceptor_(io_),
        stats_(command_table<typename Store::context>().size()),
        admin_(store, node, options_, counters_, clients_, stats_, [this] { stop(); }) {}

  /// Accepts connections until the server stops; each is served by its own coroutine.
  awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(io_.get_executor(), boost::asio::as_tuple(use_awaitable));
      if (ec == boost::asio::error::operation_aborted) co_return;
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      if (counters_.clients.load() >= options_.maxclients) {
        boost::asio::write(socket, boost::asio::buffer(std::string_view("-ERR max number of clients reached\r\n")), ec);
        char sink[4096];  // what the client already sent: closing over unread bytes would reset
        while (!ec && socket.available(ec) > 0) socket.read_some(boost::asio::buffer(sink), ec);
        continue;
      }
      boost::asio::co_spawn(io_.get_executor(), serve(std::move(socket)), boost::asio::detached);
    }
  }

  /// Every options.fsync_every until stopped: the engine's sync, which makes what committed
  /// durable (for an engine opened with sync=false), on a thread of its own: no I/O waits for it.
  void sync_periodically() {
    std::unique_lock lock(stop_mu_);
    while (!wakeup_.wait_for(lock, options_.fsync_every, [&] { return stopping_; })) {
      lock.unlock();
      (void)store_.backend().sync();  // on a failure, the next round tries again
      lock.lock();
    }
  }

#if KVSTACK_WITH_LUA
  /// While a script runs long: answers the batches waiting for the store at once (BUSY, see
  /// answer_at_once), as Redis answers what arrives then.
  void answer_waiting_busy() {
    std::vector<Job> jobs;
    {
      std::lock_guard lock(waiting_mu_);
      jobs.swap(waiting_);
    }
    for (auto& job : jobs) {
      if (answer_at_once(*job.client, *job.batch, *job.out)) {
        resume(job);
        continue;
      }
      std::lock_guard lock(waiting_mu_);  // the script ended meanwhile: the store takes it
      waiting_.push_back(std::move(job));
      want_flush();
    }
  }

  /// With one I/O thread: while a script that runs long holds it, this one takes requests (SCRIPT
  /// KILL, and BUSY for the others), until the script ends.
  void serve_while_scripts_run() {
    std::unique_lock lock(stop_mu_);
    for (;;) {
      wakeup_.wait(lock, [&] { return stopping_ || long_script_; });
      if (stopping_) return;
      lock.unlock();
      while (scripts_.status() != Scripts::Status::idle && !io_.stopped())
        io_.run_one_for(std::chrono::milliseconds(10));
      lock.lock();
      long_script_ = false;
    }
  }
#endif

  /// Every 100 ms, in the store's turn (flush): the Store's sweep (expired keys, deleted
  /// collections; a bounded amount) and the Node's upkeep.
  awaitable<void> maintain() {
    boost::asio::steady_timer timer(io_);
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(100));
      auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(use_awaitable));
      if (ec) break;
      std::lock_guard lock(waiting_mu_);
      due_.upkeep = true;
      want_flush();
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    ++counters_.clients;
    ++counters_.connections;
    // A Pub/Sub message wakes a subscribed connection that waits for a request.
    auto doorbell = std::make_shared<Doorbell>(socket.get_executor());
    auto strand = boost::asio::make_strand(io_);  // for request_or_message (a strand of io_context: no shared executor)
    Client c{counters_.next_id++, {}, options_.requirepass.empty(), 2, store_.session(),
             std::make_shared<Mailbox>([doorbell] { doorbell->ring(); })};
    c.session.stats = &stats_;
#if KVSTACK_WITH_LUA
    c.session.scripts = &scripts_;
#endif
    {
      ClientView view;
      view.id = c.id;
      boost::system::error_code ec;
      auto endpoint = [](const tcp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); };
      if (auto remote = socket.remote_endpoint(ec); !ec) view.addr = endpoint(remote);
      if (auto local = socket.local_endpoint(ec); !ec) view.laddr = endpoint(local);
      // CLIENT KILL: the connection ends as if the client had closed it. The registry calls this
      // under its lock, and the connection leaves the registry before its socket closes: the
      // descriptor is this connection's.
      clients_.add(std::move(view), [fd = socket.native_handle()] { ::shutdown(fd, SHUT_RDWR); });
    }
    resp::RequestParser parser({.max_bulk = options_.max_bulk});
    std::string in, out;
    std::vector<char> buf(16 * 1024);
    std::vector<Argv> batch;
    std::size_t batch_limit = min_batch;
    bool closing = false;
    while (!closing) {
      // Parse the whole requests buffered (up to batch_limit), run them, write the replies.
      std::string_view rest = in;
      std::string protocol_error;
      while (!rest.empty() && batch.size() < batch_limit) {
        auto used = parser.feed(rest);
        rest.remove_prefix(used);
        if (parser.state() == resp::RequestParser::ready) {
          batch.push_back(parser.take());
        } else if (parser.state() == resp::RequestParser::failed) {
          protocol_error = parser.error();
          break;
        } else if (used == 0) {
          break;
        }
      }
      in.erase(0, in.size() - rest.size());
      const bool full = batch.size() == batch_limit;
      if (answer_at_once(c, batch, out)) {
        batch.clear();
      } else if (!batch.empty()) {
        co_await submit(c, batch, out, closing, socket.native_handle());
        clients_.update(c.id, [&](ClientView& v) {
          v.name = c.name, v.db = c.session.db, v.protocol = c.protocol, v.in_multi = c.session.in_multi;
          v.subscriptions = c.mailbox->channels.size(), v.patterns = c.mailbox->patterns.size();
          v.last_command = ascii_lower(batch.back()[0]), v.blocked = false;
          v.last_active = std::chrono::steady_clock::now();
        });
      }
      batch.clear();
      if (!protocol_error.empty() && !closing) {
        resp::encode(reply::error(protocol_error), c.protocol, out);
        closing = true;
      }
      for (auto& message : c.mailbox->take()) resp::encode(message, c.protocol, out);
      if (!out.empty()) {
        auto [ec, n] = co_await boost::asio::async_write(socket, boost::asio::buffer(out), boost::asio::as_tuple(use_awaitable));
        if (ec) break;
        batch_limit = out.size() < small_replies ? std::min(2 * batch_limit, max_batch) : min_batch;
        out.clear();
        continue;  // what was published meanwhile, then what was sent meanwhile
      }
      if (closing || full) continue;
      if (c.mailbox->subscriptions() > 0) {  // wait for a request or a message, whichever comes first
        if (auto opened = doorbell->open(); opened == Doorbell::Opened::now) {
          continue;  // messages delivered before it could ring are taken first
        } else if (opened == Doorbell::Opened::failed) {
          resp::encode(reply::error("ERR no file descriptor left to wait for messages"), c.protocol, out);
          co_await boost::asio::async_write(socket, boost::asio::buffer(out), boost::asio::as_tuple(use_awaitable));
          break;
        }
        auto [rang, ec] = co_await boost::asio::co_spawn(strand, request_or_message(socket, *doorbell), use_awaitable);
        if (rang) {  // a message to write
          doorbell->reset();
          continue;
        }
        if (ec) break;
        socket.non_blocking(true, ec);  // what is there, without waiting
        auto n = socket.read_some(boost::asio::buffer(buf), ec);
        if (ec == boost::asio::error::would_block) continue;
        if (ec) break;
        in.append(buf.data(), n);
        continue;
      }
      auto [ec, n] = co_await socket.async_read_some(boost::asio::buffer(buf), boost::asio::as_tuple(use_awaitable));
      if (ec) break;
      in.append(buf.data(), n);
    }
    pubsub_.leave(*c.mailbox);
    clients_.remove(c.id);
    --counters_.clients;
  }

  /// Waits until `socket` is readable (false, and the wait's error) or `doorbell` rings (true).
  /// Run it on a strand: Asio's `||` races with itself when its two waits complete on two
  /// threads at once (one cancels the other while that one's frame is being freed).
  static awaitable<std::pair<bool, boost::system::error_code>> request_or_message(tcp::socket& socket, Doorbell& doorbell) {
    using namespace boost::asio::experimental::awaitable_operators;
    auto woke = co_await (socket.async_wait(tcp::socket::wait_read, boost::asio::as_tuple(use_awaitable)) ||
                          doorbell.wait(boost::asio::as_tuple(use_awaitable)));
    if (woke.index() == 1) co_return std::pair{true, boost::system::error_code()};
    co_return std::pair{false, std::get<0>(std::get<0>(woke))};
  }

  /// A connection's batch, from submit() until all its replies are encoded (the connection waits).
  struct Job {
    Client* client;
    std::vector<Argv>* batch;
    std::string* out;
    bool* closing;
    boost::asio::any_completion_handler<void()> resume;
    int fd;                ///< the connection's socket, to tell when a blocked client has gone
    std::size_t next = 0;  ///< the first request not yet run
    BlockedState blocked;  ///< while blocked on batch[next]
  };

  /// Hands a connection's batch to the next flush() and waits for it to have run.
  awaitable<void> submit(Client& c, std::vector<Argv>& batch, std::string& out, bool& closing, int fd) {
    co_await boost::asio::async_initiate<decltype(use_awaitable), void()>(
        [&](auto handler) {
          std::lock_guard lock(waiting_mu_);
          waiting_.push_back({&c, &batch, &out, &closing, std::move(handler), fd, 0, BlockedState{}});
          want_flush();
        },
        use_awaitable);
  }

  /// Answers into `out`, without waiting for the store, a batch that cannot wait (an I/O thread
  /// stays free while a script runs, see serve_while_scripts_run): SCRIPT KILL, which stops the
  /// script running; and while a script has run long (Scripts::busy), any batch, as Redis does:
  /// BUSY, which fails a MULTI in progress (EXEC discards it), and MULTI and DISCARD act.
  bool answer_at_once([[maybe_unused]] Client& c, [[maybe_unused]] const std::vector<Argv>& batch,
                      [[maybe_unused]] std::string& out) {
#if KVSTACK_WITH_LUA
    auto is_kill = [](const Argv& a) { return a.size() == 2 && iequals(a[0], "script") && iequals(a[1], "kill"); };
    if (!c.authenticated || batch.empty() || subscribed_resp2(c) ||
        !(scripts_.busy() || (batch.size() == 1 && is_kill(batch[0]) && !c.session.in_multi)))
      return false;
    const std::string busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    for (const auto& argv : batch) {
      Reply r;
      auto& s = c.session;
      if (is_kill(argv)) {
        r = scripts_.kill();
      } else if (iequals(argv[0], "multi") && argv.size() == 1 && !s.in_multi) {
        s.in_multi = true;
        r = reply::ok();
      } else if (iequals(argv[0], "discard") && argv.size() == 1 && s.in_multi) {
        s.reset();
        r = reply::ok();
      } else if (iequals(argv[0], "exec") && s.in_multi) {
        s.reset();
        r = reply::error("EXECABORT Transaction discarded because of: " + busy);
      } else {
        if (s.in_multi) s.multi_failed = true;
        r = reply::error(busy);
      }
      c.answer(r, out);
    }
    return true;
#else
    return false;
#endif
  }

  /// Whether the server answers `name` itself (Admin's commands and Pub/Sub's).
  bool server_owns(std::string_view name) const { return admin_.owns(name) || PubSub::owns(name); }

  /// Whether a RESP2 client is subscribed: then its connection carries messages, and few commands.
  static bool subscribed_resp2(const Client& c) { return c.protocol == 2 && c.mailbox->subscriptions() > 0; }

  /// Whether the server answers `argv` outside the Store's group commit: its own commands,
  /// blocking ones (which may wait), scripts (which may run long: no other client's command
  /// shares their transaction and waits for them), an EXEC with its own commands queued, and any
  /// command of a subscribed RESP2 client.
  bool apart(const Client& c, const Argv& argv) const {
    if (!c.authenticated || subscribed_resp2(c)) return true;
    const auto* command = find_command<typename Store::context>(argv[0]);
    if (!command) return server_owns(argv[0]);  // (the command table has none of the server's own)
    if (command->flags & (flag::blocking | flag::script)) return true;
    return c.session.in_multi && command->name == "exec" &&
           std::ranges::any_of(c.session.queued, [&](const Argv& q) { return server_owns(q[0]); });
  }

  /// One of the server's own commands (or any command of a subscribed RESP2 client): queued
  /// inside MULTI, or run; its replies (SUBSCRIBE answers once per channel).
  std::vector<Reply> own(Client& c, const Argv& argv, bool& closing) {
    if (!c.authenticated) return {admin_.handle(c, argv, closing)};  // NOAUTH, but for AUTH and the like
    if (subscribed_resp2(c) && !PubSub::allowed_while_subscribed(argv[0]))
      return {reply::error("ERR Can't execute '" + ascii_lower(argv[0]) +
                           "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")};
    const bool publishing = iequals(argv[0], "publish") || iequals(argv[0], "pubsub");
    if (c.session.in_multi && (admin_.queued_in_multi(argv[0]) || publishing)) {
      c.session.queued.push_back(argv);
      return {reply::simple("QUEUED")};
    }
    if (PubSub::owns(argv[0])) {
      if (c.session.in_multi) {  // SUBSCRIBE and the like: their replies do not fit in EXEC's
        c.session.multi_failed = true;
        return {reply::error("ERR Command not allowed inside a transaction")};
      }
      return pubsub_.handle(*c.mailbox, argv);
    }
    if (!admin_.owns(argv[0])) {  // PING, RESET of a subscribed RESP2 client
      if (iequals(argv[0], "ping") && argv.size() <= 2) return {reply::array({reply::bulk("pong"), reply::bulk(argv.size() == 2 ? argv[1] : "")})};
      return {execute(store_, c.session, argv)};
    }
    if (iequals(argv[0], "client") && argv.size() >= 2 && iequals(argv[1], "unblock")) return {unblock(argv)};
    return {admin_.handle(c, argv, closing)};
  }

  /// EXEC of a transaction with some of the server's own commands: the Store runs the others, in
  /// one transaction, then the server runs its own, each answering in its place.
  Reply exec_with_own(Client& c, const Argv& argv, bool& closing) {
    if (auto refused = node_.redirect()) {
      c.session.reset();
      return *refused;
    }
    auto queued = c.session.queued;
    Reply r = execute(store_, c.session, argv);
    if (r.kind == Reply::Kind::array && r.elements.size() == queued.size())
      for (std::size_t i = 0; i < queued.size(); ++i)
        if (server_owns(queued[i][0])) r.elements[i] = own(c, queued[i], closing).front();
    return r;
  }

  /// Posts a flush() unless one is posted or running (which takes in what came). Holds waiting_mu_.
  void want_flush() {
    if (!flushing_ && !std::exchange(flush_posted_, true)) boost::asio::post(io_, [this] { flush(); });
  }

  /// The store's turn, on one thread at a time: runs the batches submitted and the timers' work,
  /// until none is left.
  void flush() {
    std::unique_lock lock(waiting_mu_);
    flush_posted_ = false;
    if (std::exchange(flushing_, true)) return;
    for (;;) {
      std::vector<Job> ready;
      ready.swap(waiting_);
      const auto due = std::exchange(due_, {});
      if (ready.empty() && !due.upkeep && !due.expire) break;
      lock.unlock();
      if (!ready.empty()) run_batches(std::move(ready));
      if (due.upkeep) {
        node_.maintain();
        if (!node_.redirect())
          if (auto swept = store_.sweep(4096)) publish_events(swept->events);
      }
      if (due.expire) {
        blocked_.expire(std::chrono::steady_clock::now(), due.drop_closed);
        serve_blocked();
      }
      lock.lock();
    }
    flushing_ = false;
  }

  /// Runs the batches of every connection that submitted one since the last flush: the data
  /// commands each sent before any of the server's own (or a blocking one) run in one backend
  /// transaction (one commit for all: group commit); the rest of each batch after, in order.
  /// Then the blocked clients whose keys were written are served.
  void run_batches(std::vector<Job> ready) {
    std::vector<std::vector<Reply>> replies(ready.size());
    std::vector<Pipeline> pipelines;
    for (std::size_t i = 0; i < ready.size(); ++i) {
      auto& job = ready[i];
      std::size_t n = 0;
      while (n < job.batch->size() && !apart(*job.client, (*job.batch)[n])) ++n;
      pipelines.push_back({&job.client->session, std::span(*job.batch).first(n), &replies[i]});
    }
    execute_data(pipelines);
    bool rest = counters_.blocked.load() > 0;  // blocked clients to serve, or commands left to run
    for (std::size_t i = 0; i < ready.size(); ++i) {
      auto& job = ready[i];
      counters_.commands += replies[i].size();
      for (auto& r : replies[i]) job.client->answer(r, *job.out);
      std::vector<Reply>().swap(replies[i]);  // encoded: no second copy of large values kept
      job.next = pipelines[i].commands.size();
      if (job.next == job.batch->size()) resume(job);
      else rest = true;
    }
    if (!rest) return;
    for (auto& job : ready)
      if (job.resume) proceed(std::move(job));
    serve_blocked();
  }

  /// Runs data commands (execute_all), or answers each with the Node's redirect when this node
  /// does not serve them now.
  void execute_data(std::span<const Pipeline> pipelines) {
    if (auto refused = node_.redirect()) {
      for (const auto& p : pipelines) {
        p.replies->insert(p.replies->end(), p.commands.size(), *refused);
        if (!p.commands.empty()) p.session->reset();  // a MULTI or WATCH in progress ends here
      }
      return;
    }
    execute_all(store_, pipelines);
  }

  /// Runs the rest of a job's batch, encoding the replies in the protocol of their time: the data
  /// commands between two of the server's own share one backend transaction. Then the connection
  /// goes on — unless a blocking command found nothing to pop: the job then waits in `blocked_`.
  void proceed(Job job) {
    auto& c = *job.client;
    std::span<const Argv> batch = *job.batch;
    std::vector<Reply> replies;
    while (job.next < batch.size() && !*job.closing) {
      const auto& argv = batch[job.next];
      if (!apart(c, argv)) {
        auto j = job.next;
        while (j < batch.size() && !apart(c, batch[j])) ++j;
        const Pipeline p{&c.session, batch.subspan(job.next, j - job.next), &replies};
        execute_data(std::span(&p, 1));
        counters_.commands += j - job.next;
        job.next = j;
      } else if (!c.authenticated || server_owns(argv[0]) || subscribed_resp2(c)) {
        std::ranges::move(own(c, argv, *job.closing), std::back_inserter(replies));
        ++job.next;
      } else if (!is_blocking(argv[0])) {
        replies.push_back(exec_with_own(c, argv, *job.closing));
        ++counters_.commands;
        ++job.next;
      } else if (c.session.in_multi) {  // queued, as any command inside MULTI
        const Pipeline p{&c.session, batch.subspan(job.next, 1), &replies};
        execute_data(std::span(&p, 1));
        ++counters_.commands;
        ++job.next;
      } else if (auto refused = node_.redirect()) {
        replies.push_back(*refused);
        ++job.next;
      } else {
        ++counters_.commands;
        if (auto r = try_blocking(store_, c.session, argv, job.blocked.waits)) {
          replies.push_back(std::move(*r));
          ++job.next;
        } else {
          auto timeout = blocking_wait(argv).timeout_ms;
          constexpr std::int64_t century = 100ll * 365 * 24 * 3600 * 1000;  // longer: for ever (and no overflow)
          if (timeout > 0 && timeout < century)
            job.blocked.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
          clients_.update(c.id, [&](ClientView& v) { v.blocked = true, v.last_command = ascii_lower(argv[0]); });
          blocked_.add(std::move(job));
          return;
        }
      }
      for (auto& r : replies) c.answer(r, *job.out);
      replies.clear();
    }
    resume(job);
  }

  /// Publishes keyspace events (notify-keyspace-events) on Redis's channels.
  void publish_events(std::vector<KeyEvent>& raised) {
    if (raised.empty()) return;
    const unsigned flags = store_.keyspace_events();
    for (auto& e : raised) {
      const auto db = std::to_string(e.db);
      if (flags & events::keyspace) pubsub_.publish("__keyspace@" + db + "__:" + e.key, e.event);
      if (flags & events::keyevent) pubsub_.publish("__keyevent@" + db + "__:" + e.event, e.key);
    }
    raised.clear();
  }

  /// Lets the job's connection go on, once the keyspace events of its commands are published.
  void resume(Job& job) {
    publish_events(job.client->session.events);
    boost::asio::post(io_, [h = std::move(job.resume)]() mutable { std::move(h)(); });
  }

  /// Serves the blocked clients whose keys were written, or that have an answer (BlockedClients::
  /// serve): each goes on with the rest of its batch.
  void serve_blocked() {
    blocked_.serve(
        [&](Job& job) {
          return try_blocking(store_, job.client->session, (*job.batch)[job.next], job.blocked.waits, true);
        },
        [&](Job job, Reply r) {
          job.client->answer(r, *job.out);
          ++job.next;
          proceed(std::move(job));
        },
        [&](Job& job) {
          *job.closing = true;
          resume(job);
        });
  }

  /// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if that client was blocked (it is answered as on a
  /// timeout, or with an UNBLOCKED error), 0 if not.
  Reply unblock(const Argv& a) {
    if (a.size() < 3 || a.size() > 4) return reply::wrong_arity("client|unblock");
    auto id = parse_integer(a[2]);
    if (!id) return reply::not_integer();
    bool error = a.size() == 4 && iequals(a[3], "ERROR");
    if (a.size() == 4 && !error && !iequals(a[3], "TIMEOUT"))
      return reply::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    return reply::integer(blocked_.unblock(static_cast<std::uint64_t>(*id),
                                           error ? reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
                                                 : reply::null_array()));
  }

  /// Every 10 ms while clients are blocked: answers those whose timeout passed, and serves those
  /// a write served meanwhile (one that committed while they were blocking, which the flush
  /// behind it may have missed); every 100 ms, drops those whose connection closed. And while a
  /// script runs long, answers BUSY to what waits for the store.
  awaitable<void> expire_blocked() {
    boost::asio::steady_timer timer(io_);
    for (unsigned tick = 0;; ++tick) {
      timer.expires_after(std::chrono::milliseconds(10));
      auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(use_awaitable));
      if (ec) break;
#if KVSTACK_WITH_LUA
      if (scripts_.busy()) answer_waiting_busy();
#endif
      if (counters_.blocked.load() == 0) continue;
      std::lock_guard lock(waiting_mu_);
      due_.expire = true;
      due_.drop_closed |= tick % 10 == 0;
      want_flush();
    }
  }

  Store& store_;
  Node& node_;
  ServerOptions options_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<boost::asio::signal_set> signals_;
  ServerCounters counters_;
  ClientRegistry clients_;
  CommandStats stats_;
  Admin<Store, Node> admin_;
  PubSub pubsub_;
#if KVSTACK_WITH_LUA
  Scripts scripts_;  ///< EVAL's, shared by the connections
#endif
  std::uint16_t port_ = 0;
  std::mutex waiting_mu_;
  std::vector<Job> waiting_;  ///< batches for the next flush()
  struct {
    bool upkeep = false, expire = false, drop_closed = false;
  } due_;  ///< the timers' work for the next flush()
  bool flush_posted_ = false;
  bool flushing_ = false;  ///< a thread is in flush(): it takes in what comes meanwhile
  BlockedClients<Job> blocked_{counters_.blocked};  ///< clients blocked in BLPOP and the like
  std::mutex stop_mu_;
  std::condition_variable wakeup_;  ///< stop() was called, or a script runs long (threads wait on it)
  bool stopping_ = false;
  bool long_script_ = false;  ///< Scripts::on_long_run said so
  std::vector<std::thread> threads_;
};

}  // namespace kvstack::redis

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
