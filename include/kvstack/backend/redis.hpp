// kvstack::RedisBackend — an engine on a Redis server (Debian `libhiredis-dev`; link with
// -lhiredis): values in string keys and an ordered index beside them, all under one hash tag.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/back_off.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/connection_pool.hpp>
#include <kvstack/detail/scan_base.hpp>

namespace kvstack::inline v0 {

struct RedisOptions {
  /// The store's name: every key it writes starts with `{name}:`, so all of them share one hash
  /// slot (one Redis Cluster node) and many stores share one server. No `{` or `}` in it.
  std::string name = "kvstack";
  /// Idle connections kept open (more are opened while more calls run at once).
  unsigned max_idle_connections = 8;
  /// Keys a scan reads per round trip (each batch is read atomically).
  unsigned scan_batch = 500;
  /// How long a connect or a command may take before it fails with errc::timeout, in
  /// milliseconds (a server that stopped answering).
  unsigned timeout_ms = 5000;
  /// Conflicting transactions a `transact` retries before it gives up with errc::busy.
  unsigned max_retries = 1000;
};

namespace detail::redis_backend {

struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
struct ContextFree {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};

inline std::string_view text(const redisReply* r) noexcept { return {r->str, r->len}; }

// Where a store's server is: parsed from redis://[[user]:password@]host[:port][/db] or
// unix://path[?db=N].
struct Address {
  std::string host = "127.0.0.1", socket, user, password;
  int port = 6379, db = 0;
  std::string shown;  // the URL without its password, for messages

  static Result<Address> parse(std::string_view url) {
    Address a;
    auto bad = [&](std::string_view why) {
      return Error{errc::invalid_argument, "Redis: malformed URL '" + std::string(url) + "': " + std::string(why) +
                                               " (want redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N])"};
    };
    auto number = [](std::string_view s, int& out) {
      if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
      out = std::atoi(std::string(s).c_str());
      return true;
    };
    if (url.starts_with("unix://") || url.starts_with("unix:")) {
      std::string_view rest = url.substr(url.starts_with("unix://") ? 7 : 5);
      if (auto q = rest.find("?db="); q != std::string_view::npos) {
        if (!number(rest.substr(q + 4), a.db)) return bad("the database is not a number");
        rest = rest.substr(0, q);
      }
      if (rest.empty()) return bad("no socket path");
      a.socket = rest;
      a.shown = "unix://" + a.socket + (a.db ? "?db=" + std::to_string(a.db) : "");
      return a;
    }
    if (!url.starts_with("redis://")) return bad("unknown scheme");
    std::string_view rest = url.substr(8);
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view credentials = rest.substr(0, at);
      rest = rest.substr(at + 1);
      auto colon = credentials.find(':');
      if (colon == std::string_view::npos) a.password = credentials;
      else a.user = credentials.substr(0, colon), a.password = credentials.substr(colon + 1);
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
      if (slash + 1 < rest.size() && !number(rest.substr(slash + 1), a.db)) return bad("the database is not a number");
      rest = rest.substr(0, slash);
    }
    std::string_view port;
    if (rest.starts_with('[')) {  // [IPv6]:port
      const auto close = rest.find(']');
      if (close == std::string_view::npos) return bad("no ] after an IPv6 address");
      if (rest.size() > close + 1) {
        if (rest[close + 1] != ':') return bad("junk after the IPv6 address");
        port = rest.substr(close + 2);
      }
      rest = rest.substr(1, close - 1);
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
    if (!port.empty() && !number(port, a.port)) return bad("the port is not a number");
    if (!rest.empty()) a.host = rest;
    a.shown = "redis://" + a.host + ":" + std::to_string(a.port) + "/" + std::to_string(a.db);
    return a;
  }
};

// SIGPIPE blocked in this thread while it lives, and one raised meanwhile (a write to a server
// that went away) discarded: hiredis writes with write(2), and a lost server must be an error,
// not the end of the program.
class SigpipeBlocked {
 public:
  SigpipeBlocked() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  ~SigpipeBlocked() {
    if (!was_pending_) {
      const timespec now{};
      while (sigtimedwait(&pipe_, nullptr, &now) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// Reads a batch of the index and the values of the keys in it, atomically.
inline constexpr std::string_view scan_script =
    "local keys = redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, ARGV[4]) "
    "if #keys == 0 then return {keys, {}} end "
    "local names = {} "
    "for i, k in ipairs(keys) do names[i] = ARGV[5] .. k end "
    "return {keys, redis.call('MGET', unpack(names))}";

// One connection; `broken` once the link failed (it is then dropped, not pooled).
struct Conn {
  std::unique_ptr<redisContext, ContextFree> ctx;
  bool broken() const noexcept { return !ctx || ctx->err != 0; }
  bool reusable() const noexcept { return true; }
};

// The open store: where its server is, its keys' names, and a pool of connections.
struct Db {
  Address address;
  RedisOptions options;
  std::string value_prefix, index_key, version_key;  // `{name}:v:`, `{name}:i`, `{name}:ver`
  ConnectionPool<Conn> pool;

  explicit Db(const RedisOptions& o) : options(o), pool(o.max_idle_connections) {}

  std::string value_key(std::string_view key) const { return value_prefix + std::string(key); }

  Error fail(const Conn& conn, const redisReply* reply, std::string_view what) const {
    const std::string where = "Redis " + std::string(what) + " " + address.shown + " store " + options.name + ": ";
    if (!reply || conn.broken()) {
      const std::string_view detail = conn.ctx && conn.ctx->err ? conn.ctx->errstr : "";
      const bool timed_out = detail.find("temporarily unavailable") != std::string_view::npos ||
                             detail.find("timed out") != std::string_view::npos;
      return {timed_out ? errc::timeout : errc::io_error,
              where + (detail.empty() ? std::string("the connection was lost") : std::string(detail)) +
                  (timed_out ? " (no answer within timeout_ms)" : "")};
    }
    const std::string_view message = text(reply);
    errc code = errc::io_error;
    if (message.starts_with("OOM")) code = errc::full;
    else if (message.starts_with("WRONGTYPE")) code = errc::corruption;  // something else wrote under this store's keys
    else if (message.starts_with("NOAUTH") || message.starts_with("WRONGPASS") || message.starts_with("NOPERM")) code = errc::invalid_argument;
    else if (message.starts_with("BUSY") || message.starts_with("LOADING") || message.starts_with("TRYAGAIN")) code = errc::busy;
    return {code, where + std::string(message)};
  }

  // Sends the commands (each a list of arguments) in one round trip and reads every reply.
  Result<std::vector<Reply>> pipeline(Conn& conn, const std::vector<std::vector<std::string_view>>& commands, std::string_view what) const {
    if (conn.broken()) return fail(conn, nullptr, what);
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& command : commands) {
      argv.clear();
      lengths.clear();
      for (std::string_view arg : command) argv.push_back(arg.data()), lengths.push_back(arg.size());
      if (redisAppendCommandArgv(conn.ctx.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK)
        return fail(conn, nullptr, what);
    }
    std::vector<Reply> replies;
    SigpipeBlocked quiet;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(conn.ctx.get(), &raw) != REDIS_OK) return fail(conn, nullptr, what);
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    return replies;
  }
  Result<Reply> command(Conn& conn, const std::vector<std::string_view>& args, std::string_view what) const {
    auto replies = pipeline(conn, {args}, what);
    if (!replies) return replies.error();
    Reply& r = replies->front();
    if (r->type == REDIS_REPLY_ERROR) return fail(conn, r.get(), what);
    return std::move(r);
  }

  Result<std::unique_ptr<Conn>> connect() const {
    auto conn = std::make_unique<Conn>();
    const timeval timeout{static_cast<time_t>(options.timeout_ms / 1000), static_cast<suseconds_t>(options.timeout_ms % 1000 * 1000)};
    conn->ctx.reset(address.socket.empty() ? redisConnectWithTimeout(address.host.c_str(), address.port, timeout)
                                           : redisConnectUnixWithTimeout(address.socket.c_str(), timeout));
    if (conn->broken()) return fail(*conn, nullptr, "cannot connect to");
    redisSetTimeout(conn->ctx.get(), timeout);
    if (!address.password.empty()) {
      std::vector<std::string_view> auth{"AUTH"};
      if (!address.user.empty()) auth.push_back(address.user);
      auth.push_back(address.password);
      if (auto r = command(*conn, auth, "cannot log in to"); !r) return r.error();
    }
    if (address.db != 0)
      if (auto r = command(*conn, {"SELECT", std::to_string(address.db)}, "cannot select the database of"); !r) return r.error();
    return conn;
  }

  using Lease = ConnectionPool<Conn>::Lease;
  Result<Lease> lease() const { return pool.lease([this] { return connect(); }); }

  // Reads `key`: fn(view) if present.
  template <class F>
  Result<bool> read(Conn& conn, std::string_view key, F&& fn) const {
    auto r = command(conn, {"GET", value_key(key)}, "cannot read from");
    if (!r) return r.error();
    if (r.value()->type == REDIS_REPLY_NIL) return false;
    if (r.value()->type != REDIS_REPLY_STRING) return Error{errc::corruption, "Redis " + address.shown + ": GET gave no string"};
    std::invoke(std::forward<F>(fn), text(r.value().get()));
    return true;
  }

  // The commands that apply `writes` (an iterable of {key, optional value}; empty: erase) in
  // order and bump the store's version, for between MULTI and EXEC: puts in a row are one MSET
  // and one ZADD, erases in a row one DEL and one ZREM. They point into `names`.
  template <class Writes>
  void add_writes(const Writes& writes, std::vector<std::vector<std::string_view>>& commands, std::string& names) const {
    std::size_t size = 0;
    for (const auto& [key, value] : writes) size += value_prefix.size() + key.size();
    names.reserve(size);  // so that views into it stay valid
    std::size_t run = commands.size();  // the current run's first command
    bool putting = false;                // what the current run does
    for (const auto& [key, value] : writes) {
      const bool put = value.has_value();
      if (run == commands.size() || putting != put) {
        run = commands.size();
        putting = put;
        commands.push_back({put ? "MSET" : "DEL"});
        commands.push_back({put ? "ZADD" : "ZREM", index_key});
      }
      const std::size_t at = names.size();
      names.append(value_prefix).append(key);
      commands[run].emplace_back(names.data() + at, names.size() - at);
      if (put) commands[run].push_back(*value), commands[run + 1].push_back("0");
      commands[run + 1].push_back(key);
    }
    commands.push_back({"INCR", version_key});
  }
};

// The EXEC reply: null if a watched key changed, else an array whose errors are the failure.
inline const redisReply* exec_error(const redisReply* exec) noexcept {
  if (exec->type == REDIS_REPLY_ERROR) return exec;
  if (exec->type == REDIS_REPLY_ARRAY)
    for (std::size_t i = 0; i < exec->elements; ++i)
      if (exec->element[i]->type == REDIS_REPLY_ERROR) return exec->element[i];
  return nullptr;
}

}  // namespace detail::redis_backend

/// A Backend on a Redis server (or a Redis Cluster node), opened from a URL.
///
/// - Each value is a string key `{name}:v:<key>`; a sorted set `{name}:i` holds every key with
///   score 0, which Redis orders bytewise, so scans keep byte order (ZRANGEBYLEX, never a
///   pattern). All of a store's keys share the hash tag `{name}`: one slot, so MULTI/EXEC and
///   scripts work on a Redis Cluster, and many stores spread over its nodes.
/// - get is one GET; put, erase and write are one MULTI/EXEC each, sent in one round trip.
/// - A scan reads `scan_batch` keys and their values per round trip, each batch atomically (a
///   script), but **not the whole range at one moment**: a scan longer than one batch may see
///   writes made while it runs (each key at most once, in order). `snapshot_scans` is false,
///   and the law suite checks the weaker promise for it.
/// - `transact` is optimistic: its gets WATCH the keys they read, its scans WATCH the store's
///   version (which every write bumps), and it commits with MULTI/EXEC; when a watched key
///   changed it runs `fn` again, so `fn` must have no effects outside the transaction.
/// - A lost connection is errc::io_error, a server that stops answering errc::timeout; the pool
///   is then emptied and the next call connects again. Durability is the server's: its
///   `appendonly`/`appendfsync` settings decide what a crash of the server loses.
class RedisBackend {
  using Db = detail::redis_backend::Db;
  using Reply = detail::redis_backend::Reply;

 public:
  /// Scans see each batch atomically, not the whole range at one moment (see above).
  static constexpr bool snapshot_scans = false;

  /// A scan, batch by batch.
  class Scan : public detail::ScanBase<Scan> {
   public:
    Scan(Scan&&) = default;  // only before begin()
    Scan& operator=(Scan&&) = default;

   private:
    friend class RedisBackend;
    friend struct detail::ScanIterator<Scan>;

    // `lease` empty: within a transaction, on `conn` (which has WATCHed the version already).
    Scan(std::shared_ptr<const Db> db, Db::Lease lease, detail::redis_backend::Conn* conn, const KeyRange& range)
        : db_(std::move(db)), lease_(std::move(lease)), conn_(conn), reverse_(range.is_reverse()),
          streaming_(range.is_streaming()), remaining_(range.max_count()) {
      if (range.is_empty()) {
        lease_.give_back();
        return;
      }
      lower_ = "[" + std::string(range.lower());
      upper_ = range.upper() ? "(" + *range.upper() : "+";
      fetch();
    }
    explicit Scan(Error e) { error_ = std::move(e); }

    KeyValue current() const { return current_; }
    bool done() const { return !has_current_; }
    void advance() {
      has_current_ = false;
      if (batches_.empty()) return;
      const redisReply* batch = batches_.back().get();
      if (++row_ < batch->element[0]->elements) return show();
      if (batch->element[0]->elements < batch_size_ || remaining_ == 0) return finish();
      // The next batch starts after the last key of this one.
      const std::string after = "(" + std::string(detail::redis_backend::text(batch->element[0]->element[row_ - 1]));
      (reverse_ ? upper_ : lower_) = after;
      fetch();
    }

    void fetch() {
      batch_size_ = static_cast<std::size_t>(std::min<std::size_t>(db_->options.scan_batch, remaining_));
      const std::string count = std::to_string(batch_size_);
      std::vector<std::string_view> args{"EVAL", detail::redis_backend::scan_script, "1", db_->index_key,
                                         reverse_ ? "ZREVRANGEBYLEX" : "ZRANGEBYLEX", reverse_ ? upper_ : lower_,
                                         reverse_ ? lower_ : upper_, count, db_->value_prefix};
      auto r = db_->command(*conn_, args, "cannot scan");
      if (!r) return stop(r.error());
      const redisReply* reply = r.value().get();
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_ARRAY ||
          reply->element[1]->type != REDIS_REPLY_ARRAY)
        return stop(Error{errc::corruption, "Redis " + db_->address.shown + ": a scan's script gave an unexpected reply"});
      if (streaming_) batches_.clear();
      batches_.push_back(std::move(r).value());
      row_ = 0;
      if (batches_.back()->element[0]->elements == 0) return finish();
      show();
    }
    void show() {
      const redisReply* batch = batches_.back().get();
      const redisReply* value = batch->element[1]->element[row_];
      if (value->type != REDIS_REPLY_STRING) {  // erased between two batches' reads: cannot be, a batch is atomic
        return stop(Error{errc::corruption, "Redis " + db_->address.shown + " store " + db_->options.name +
                                                ": the index names a key without a value"});
      }
      current_ = {detail::redis_backend::text(batch->element[0]->element[row_]), detail::redis_backend::text(value)};
      has_current_ = true;
      --remaining_;
    }
    void finish() { lease_.give_back(); }
    void stop(Error e) {
      error_ = std::move(e);
      has_current_ = false;
      batches_.clear();
      lease_.give_back();
    }

    std::shared_ptr<const Db> db_;  // destroyed last
    Db::Lease lease_;
    detail::redis_backend::Conn* conn_ = nullptr;
    bool reverse_ = false, streaming_ = false;
    std::size_t remaining_ = 0, batch_size_ = 0;
    std::string lower_, upper_;  // the lex bounds still to read
    std::vector<Reply> batches_;  // the entries handed out (the last batch alone, streaming)
    std::size_t row_ = 0;
    KeyValue current_;
    bool has_current_ = false;
  };

  /// Reads within a transaction, watching what it reads.
  class Reader {
   public:
    Reader(std::shared_ptr<const Db> db, detail::redis_backend::Conn* conn) : db_(std::move(db)), conn_(conn) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      if (auto watched = db_->command(*conn_, {"WATCH", db_->value_key(key)}, "cannot watch a key of"); !watched)
        return watched.error();
      return db_->read(*conn_, key, std::forward<F>(fn));
    }
    /// WATCH and a GET per key, pipelined in one round trip (GET, unlike MGET, refuses a key
    /// that holds another type, as `get` does).
    template <class F>
    Result<void> get_many(std::span<const std::string_view> keys, F&& fn) const {
      if (keys.empty()) return success();
      std::vector<std::string> names;
      names.reserve(keys.size());
      std::vector<std::vector<std::string_view>> commands{{"WATCH"}};
      for (std::string_view key : keys) {
        const std::string& name = names.emplace_back(db_->value_key(key));
        commands.front().push_back(name);
        commands.push_back({"GET", name});
      }
      auto replies = db_->pipeline(*conn_, commands, "cannot read from");
      if (!replies) return replies.error();
      for (const auto& reply : replies.value())
        if (reply->type == REDIS_REPLY_ERROR) return db_->fail(*conn_, reply.get(), "cannot read from");
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const redisReply* value = replies.value()[i + 1].get();
        if (value->type == REDIS_REPLY_STRING) std::invoke(fn, i, detail::redis_backend::text(value));
        else if (value->type != REDIS_REPLY_NIL) return Error{errc::corruption, "Redis " + db_->address.shown + ": GET gave no string"};
      }
      return success();
    }
    static constexpr bool remember_reads = true;
    Scan scan(const KeyRange& range) const {
      if (auto watched = db_->command(*conn_, {"WATCH", db_->version_key}, "cannot watch"); !watched) return Scan(watched.error());
      return Scan(db_, {}, conn_, range);
    }

   private:
    std::shared_ptr<const Db> db_;
    detail::redis_backend::Conn* conn_;
  };
  using transaction = detail::BufferedTransaction<Reader>;

  /// Connects to the server at `url` — redis://[[user]:password@]host[:port][/db] or
  /// unix:///path/to/socket[?db=N] — and opens the store `options.name` there.
  static Result<RedisBackend> open(std::string_view url, const RedisOptions& options = {}) {
    auto address = detail::redis_backend::Address::parse(url);
    if (!address) return address.error();
    if (options.name.empty() || options.name.find_first_of("{}") != std::string::npos)
      return Error{errc::invalid_argument, "Redis: a store's name must be non-empty and hold no { or }: '" + options.name + "'"};
    auto db = std::make_shared<Db>(options);
    db->address = std::move(address).value();
    db->options.scan_batch = std::clamp(options.scan_batch, 1u, 4000u);  // Lua's unpack takes about 8000
    const std::string tag = "{" + options.name + "}:";
    db->value_prefix = tag + "v:";
    db->index_key = tag + "i";
    db->version_key = tag + "ver";
    auto conn = db->connect();
    if (!conn) return conn.error();
    auto type = db->command(*conn.value(), {"TYPE", db->index_key}, "cannot open");
    if (!type) return type.error();
    const std::string_view kind = detail::redis_backend::text(type.value().get());
    if (kind != "none" && kind != "zset")
      return Error{errc::invalid_argument, "Redis " + db->address.shown + ": " + db->index_key + " is a " + std::string(kind) +
                                               ", not this store's index: the name belongs to something else"};
    db->pool.put_back(std::move(conn).value());
    return RedisBackend(std::move(db));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists, with a view of the
  /// reply valid during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    return db_->read(*lease->conn, key, std::forward<F>(fn));
  }

  Result<void> put(std::string_view key, std::string_view value) {
    const std::pair<std::string_view, std::optional<std::string_view>> one[] = {{key, value}};
    auto r = apply(one, "cannot write to");
    if (!r) return r.error();
    return success();
  }

  Result<bool> erase(std::string_view key) {
    const std::pair<std::string_view, std::optional<std::string_view>> one[] = {{key, std::nullopt}};
    auto r = apply(one, "cannot delete from");
    if (!r) return r.error();
    return r.value()->element[0]->integer > 0;  // DEL's count
  }

  /// Applies the batch in one MULTI/EXEC, in order.
  Result<void> write(const WriteBatch& batch) {
    if (!db_) return closed();
    if (batch.empty()) return success();
    auto writes = batch | std::views::transform([](const WriteBatch::Operation& op) {
                    return std::pair(std::string_view(op.key), op.kind == WriteBatch::Kind::put ? std::optional(std::string_view(op.value))
                                                                                                 : std::nullopt);
                  });
    auto r = apply(writes, "cannot write to");
    if (!r) return r.error();
    return success();
  }

  /// The entries in `range`, batch by batch (see the class).
  Scan scan(const KeyRange& range) const {
    if (!db_) return Scan(closed());
    auto lease = db_->lease();
    if (!lease) return Scan(lease.error());
    detail::redis_backend::Conn* conn = lease->conn.get();
    return Scan(db_, std::move(lease).value(), conn, range);
  }

  /// The number of keys in `range` (its limit applies): ZLEXCOUNT of the index (see count_keys).
  Result<std::uint64_t> count(const KeyRange& range) const {
    if (!db_) return closed();
    if (range.is_empty()) return 0;
    auto lease = db_->lease();
    if (!lease) return lease.error();
    const std::string lower = "[" + std::string(range.lower()), upper = range.upper() ? "(" + *range.upper() : "+";
    auto r = db_->command(*lease->conn, {"ZLEXCOUNT", db_->index_key, lower, upper}, "cannot count in");
    if (!r) return r.error();
    return std::min<std::uint64_t>(static_cast<std::uint64_t>(r.value()->integer), range.max_count());
  }

  /// Runs `fn(transaction&) -> Result<R>` optimistically and commits its writes with
  /// MULTI/EXEC if nothing it read changed meanwhile; else runs it again. Returns fn's result
  /// (its error too, once what it read is known to be consistent), or the commit's error.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    detail::redis_backend::Conn& conn = *lease->conn;
    struct UnwatchIfThrown {  // a connection goes back to the pool watching nothing
      detail::redis_backend::Conn& conn;
      bool done = false;
      ~UnwatchIfThrown() {
        if (done || conn.broken()) return;
        detail::redis_backend::SigpipeBlocked quiet;
        freeReplyObject(redisCommand(conn.ctx.get(), "UNWATCH"));
      }
    } guard{conn};
    for (unsigned attempt = 0;; ++attempt) {
      transaction tx{Reader(db_, &conn)};
      auto result = std::invoke(fn, tx);
      guard.done = true;  // EXEC below ends every WATCH
      if (conn.broken()) {
        if (!result) return result;
        return db_->fail(conn, nullptr, "cannot commit to");
      }
      // MULTI, the writes (none if fn failed: then EXEC only checks that what it read held), EXEC.
      std::vector<std::vector<std::string_view>> commands{{"MULTI"}};
      std::string names;
      if (result && !tx.writes().empty()) db_->add_writes(tx.writes(), commands, names);
      commands.push_back({"EXEC"});
      auto replies = db_->pipeline(conn, commands, "cannot commit to");
      if (!replies) return replies.error();
      const redisReply* exec = replies->back().get();
      if (exec->type != REDIS_REPLY_NIL) {
        if (const redisReply* failed = detail::redis_backend::exec_error(exec)) return db_->fail(conn, failed, "cannot commit to");
        return result;
      }
      if (attempt >= db_->options.max_retries)
        return Error{errc::busy, "Redis " + db_->address.shown + " store " + db_->options.name + ": a transaction conflicted " +
                                     std::to_string(attempt + 1) + " times in a row"};
      guard.done = false;
      detail::back_off(attempt);
    }
  }

 private:
  explicit RedisBackend(std::shared_ptr<Db> db) : db_(std::move(db)) {}
  static Error closed() { return {errc::closed, "RedisBackend was moved from"}; }

  // MULTI, the writes, EXEC in one round trip; EXEC's reply.
  template <class Writes>
  Result<Reply> apply(const Writes& writes, std::string_view what) {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    std::vector<std::vector<std::string_view>> commands{{"MULTI"}};
    std::string names;
    db_->add_writes(writes, commands, names);
    commands.push_back({"EXEC"});
    auto replies = db_->pipeline(*lease->conn, commands, what);
    if (!replies) return replies.error();
    Reply& exec = replies->back();
    if (exec->type == REDIS_REPLY_NIL) return Error{errc::io_error, "Redis " + db_->address.shown + ": EXEC without WATCH aborted"};
    if (const redisReply* failed = detail::redis_backend::exec_error(exec.get())) return db_->fail(*lease->conn, failed, what);
    return std::move(exec);
  }


  std::shared_ptr<Db> db_;
};

static_assert(check_backend<RedisBackend>());

}  // namespace kvstack
