// kvstack::PostgresBackend — an engine on a PostgreSQL server (Debian `libpq-dev`; compile with
// `pkg-config --cflags libpq`, link with -lpq): one table of bytea keys and values, reached
// through a pool of connections.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/back_off.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/connection_pool.hpp>
#include <kvstack/detail/last_writes.hpp>
#include <kvstack/detail/scan_base.hpp>

namespace kvstack::inline v0 {

struct PostgresOptions {
  /// The table holding the data (in the connection's current schema), created if missing; one
  /// database may hold several stores.
  std::string table = "kvstack";
  /// Idle connections kept open (more are opened while more calls run at once).
  unsigned max_idle_connections = 8;
  /// Rows a scan fetches per round trip.
  unsigned fetch_rows = 1000;
  /// true (default): `synchronous_commit = on`, a commit is on the server's disk when it
  /// returns. false: `off`: a crash of the server may lose the last commits, never half of one.
  bool sync = true;
  /// Serialization failures and deadlocks a `transact` or `write` retries before it gives up
  /// with errc::busy.
  unsigned max_retries = 1000;
};

namespace detail::pg {

struct ResultClear {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Res = std::unique_ptr<PGresult, ResultClear>;

inline std::string_view sqlstate(const PGresult* r) noexcept {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}
/// A serialization failure or a deadlock: the transaction may succeed if run again.
inline bool retryable(std::string_view state) noexcept { return state == "40001" || state == "40P01"; }

inline errc code_of(std::string_view state) noexcept {
  if (state.empty() || state.starts_with("08") || state.starts_with("57P")) return errc::io_error;  // connection, shutdown
  if (state == "53100") return errc::full;
  if (state.starts_with("53") || retryable(state)) return errc::busy;  // out of memory, connections
  if (state == "55P03") return errc::locked;
  if (state.starts_with("XX00")) return errc::corruption;
  if (state.starts_with("22") || state == "54000") return errc::invalid_argument;
  return errc::io_error;
}

// The binary form of a bytea[] parameter.
template <class Range>
std::string bytea_array(const Range& items) {
  std::string out;
  auto put32 = [&](std::uint32_t v) {
    v = htonl(v);
    out.append(reinterpret_cast<const char*>(&v), 4);
  };
  const auto n = static_cast<std::uint32_t>(std::ranges::distance(items));
  put32(n ? 1 : 0);  // dimensions
  put32(0);          // no NULLs
  put32(17);         // bytea
  if (n) put32(n), put32(1);
  for (std::string_view item : items) put32(static_cast<std::uint32_t>(item.size())), out.append(item);
  return out;
}

inline std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += digits[c >> 4], out += digits[c & 15];
  return out;
}

// One connection. `pending`: a command was sent whose result nobody waits for (the COMMIT that
// ends a finished scan); it is read before the connection's next use.
struct Conn {
  PGconn* pg = nullptr;
  bool pending = false;
  unsigned cursors = 0;  // for cursor names unique on this connection

  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    if (pg) PQfinish(pg);
  }
  bool broken() const noexcept { return PQstatus(pg) != CONNECTION_OK; }
  // Not left inside a transaction (a COMMIT sent and not yet read is fine).
  bool reusable() const noexcept { return pending || PQtransactionStatus(pg) == PQTRANS_IDLE; }
  void settle() noexcept {
    if (!pending) return;
    while (PGresult* r = PQgetResult(pg)) PQclear(r);
    pending = false;
  }
  // Sends `sql` and reads none of its results now.
  void send_later(const char* sql) noexcept {
    settle();
    pending = PQsendQuery(pg, sql) == 1;
  }
};

inline std::uint64_t big_endian(std::uint64_t v) noexcept {
  return (std::uint64_t{htonl(static_cast<std::uint32_t>(v))} << 32) | htonl(static_cast<std::uint32_t>(v >> 32));
}

// What the statements prepared on every connection are called, and their SQL.
inline constexpr const char* scan_stmts[] = {"kvstack_scan", "kvstack_scan_reverse", "kvstack_scan_below", "kvstack_scan_below_reverse"};
inline constexpr const char* get_stmt = "kvstack_get";
inline constexpr const char* get_many_stmt = "kvstack_get_many";
inline constexpr const char* put_stmt = "kvstack_put";
inline constexpr const char* erase_stmt = "kvstack_erase";
inline constexpr const char* write_stmt = "kvstack_write";

// The open store: where it is, and a pool of connections. Scans share it.
struct Db {
  std::string conninfo;
  std::string where;  // for messages: the connection's parameters, without a password, and the table
  PostgresOptions options;
  std::string table;  // quoted
  ConnectionPool<Conn> pool;

  explicit Db(const PostgresOptions& o) : options(o), pool(o.max_idle_connections) {}

  Error fail(const PGresult* r, const Conn& conn, std::string_view what) const {
    const std::string_view state = sqlstate(r);
    std::string message = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn.pg);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    std::string text = "PostgreSQL " + std::string(what) + " " + where;
    if (!state.empty()) text += " (SQLSTATE " + std::string(state) + ")";
    return {code_of(state), text + ": " + message};
  }

  // A new connection: synchronous_commit set, statements prepared (unless `bare`: before the
  // table exists).
  Result<std::unique_ptr<Conn>> connect(bool bare = false) const {
    auto conn = std::make_unique<Conn>();
    conn->pg = PQconnectdb(conninfo.c_str());
    if (!conn->pg) return Error{errc::io_error, "PostgreSQL: out of memory connecting to " + where};
    if (conn->broken()) return fail(nullptr, *conn, "cannot connect to");
    PQsetNoticeProcessor(conn->pg, [](void*, const char*) {}, nullptr);  // the server's notices are not errors
    const char* sync = options.sync ? "SET synchronous_commit = on" : "SET synchronous_commit = off";
    if (auto set = command(*conn, sync, "cannot set up a connection to"); !set) return set.error();
    if (!bare)
      if (auto prepared = prepare(*conn); !prepared) return prepared.error();
    return conn;
  }

  Result<void> prepare(Conn& conn) const {
    const Oid bytea = 17, bytea_array = 1001;
    const Oid one[] = {bytea}, two[] = {bytea, bytea}, arrays[] = {bytea_array, bytea_array, bytea_array};
    const std::pair<const char*, std::string> statements[] = {
        {get_stmt, "SELECT value FROM " + table + " WHERE key = $1"},
        {get_many_stmt, "SELECT key, value FROM " + table + " WHERE key = ANY($1)"},
        {put_stmt, "INSERT INTO " + table + " (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"},
        {erase_stmt, "DELETE FROM " + table + " WHERE key = $1"},
        // A batch in one statement (so one round trip, atomic in itself): its erases and its puts,
        // each key once.
        {write_stmt, "WITH gone AS (DELETE FROM " + table + " WHERE key = ANY($3)) INSERT INTO " + table +
                         " (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (key) DO UPDATE SET value = "
                         "EXCLUDED.value"}};
    const Oid* types[] = {one, arrays, two, one, arrays};
    const int counts[] = {1, 1, 2, 1, 3};
    for (int i = 0; i < 5; ++i) {
      Res r(PQprepare(conn.pg, statements[i].first, statements[i].second.c_str(), counts[i], types[i]));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(r.get(), conn, "cannot prepare statements on");
    }
    // The scans read in one SELECT: $1 the lower bound, $2 the limit, $3 the upper bound.
    const Oid range[] = {bytea, 20, bytea};  // 20: int8
    for (int variant = 0; variant < 4; ++variant) {
      const std::string sql = "SELECT key, value FROM " + table + " WHERE key >= $1" + (variant & 2 ? " AND key < $3" : "") +
                              " ORDER BY key" + (variant & 1 ? " DESC" : "") + " LIMIT $2";
      Res r(PQprepare(conn.pg, scan_stmts[variant], sql.c_str(), variant & 2 ? 3 : 2, range));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(r.get(), conn, "cannot prepare statements on");
    }
    return success();
  }

  // Runs SQL that returns no rows.
  Result<void> command(Conn& conn, const char* sql, std::string_view what) const {
    conn.settle();
    Res r(PQexec(conn.pg, sql));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(r.get(), conn, what);
    return success();
  }

  // Runs a prepared statement with binary parameters, for binary results.
  template <std::size_t N>
  Res run(Conn& conn, const char* stmt, const std::array<std::string_view, N>& params) const {
    conn.settle();
    const char* values[N];
    int lengths[N], formats[N];
    for (std::size_t i = 0; i < N; ++i) {
      values[i] = params[i].empty() ? "" : params[i].data();
      lengths[i] = static_cast<int>(params[i].size());
      formats[i] = 1;
    }
    return Res(PQexecPrepared(conn.pg, stmt, static_cast<int>(N), values, lengths, formats, 1));
  }

  // Reads `key` on `conn`: fn(view) if present. `conflict` is set on a retryable failure.
  template <class F>
  Result<bool> read(Conn& conn, std::string_view key, F&& fn, bool* conflict = nullptr) const {
    Res r = run<1>(conn, get_stmt, {key});
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      if (conflict && retryable(sqlstate(r.get()))) *conflict = true;
      return fail(r.get(), conn, "cannot read from");
    }
    if (PQntuples(r.get()) == 0) return false;
    std::invoke(std::forward<F>(fn), std::string_view(PQgetvalue(r.get(), 0, 0), static_cast<std::size_t>(PQgetlength(r.get(), 0, 0))));
    return true;
  }

  // Reads `keys` in one statement: fn(i, view) for each keys[i] present.
  template <class F>
  Result<void> read_many(Conn& conn, std::span<const std::string_view> keys, F&& fn, bool* conflict) const {
    Res r = run<1>(conn, get_many_stmt, {bytea_array(keys)});
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      if (conflict && retryable(sqlstate(r.get()))) *conflict = true;
      return fail(r.get(), conn, "cannot read from");
    }
    std::vector<std::size_t> by_key(keys.size());  // positions in keys, ordered by key
    for (std::size_t i = 0; i < keys.size(); ++i) by_key[i] = i;
    std::ranges::sort(by_key, {}, [&](std::size_t i) { return keys[i]; });
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      const std::string_view key(PQgetvalue(r.get(), row, 0), static_cast<std::size_t>(PQgetlength(r.get(), row, 0)));
      const std::string_view value(PQgetvalue(r.get(), row, 1), static_cast<std::size_t>(PQgetlength(r.get(), row, 1)));
      auto same = std::ranges::equal_range(by_key, key, {}, [&](std::size_t i) { return keys[i]; });
      for (std::size_t i : same) std::invoke(fn, i, value);
    }
    return success();
  }

  // Applies writes (an iterable of {key, optional value}, each key once) in one statement.
  template <class Writes>
  Res apply(Conn& conn, const Writes& writes) const {
    std::vector<std::string_view> keys, values, erased;
    for (const auto& [key, value] : writes) {
      if (value) keys.push_back(key), values.push_back(*value);
      else erased.push_back(key);
    }
    const std::string k = bytea_array(keys), v = bytea_array(values), e = bytea_array(erased);
    return run<3>(conn, write_stmt, {k, v, e});
  }

  using Lease = ConnectionPool<Conn>::Lease;
  Result<Lease> lease() const { return pool.lease([this] { return connect(); }); }
};

// Connection parameters for messages: those given, less the password.
inline std::string describe(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    std::string message = error ? error : "malformed connection string";
    PQfreemem(error);
    return "'" + message + "'";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o)
    if (o->val && *o->val && std::string_view(o->keyword) != "password")
      out += (out.empty() ? "" : " ") + std::string(o->keyword) + "=" + o->val;
  PQconninfoFree(options);
  return out.empty() ? "(libpq's defaults)" : out;
}

}  // namespace detail::pg

/// A Backend on a PostgreSQL server: one table (key bytea PRIMARY KEY, value bytea), opened
/// from a libpq connection string.
///
/// - PostgreSQL compares bytea bytewise, so keys keep byte order. Keys and values travel in
///   binary, never escaped. Ranges are `key >= $1 AND key < $2` (a prefix's upper bound is its
///   successor), never LIKE.
/// - Calls run on a pool of connections, in parallel. A scan of up to `fetch_rows` entries is one
///   SELECT; a longer one reads through a cursor in a REPEATABLE READ transaction of its own,
///   `fetch_rows` rows per round trip. Either way it sees one snapshot, taken when it opens. The rows it fetched stay valid while it lives;
///   `KeyRange::streaming()` keeps only the last batch.
/// - `write` is one statement: atomic, one round trip. `transact` runs `fn` in a SERIALIZABLE
///   transaction whose reads go to the server and whose writes are buffered and sent at commit;
///   a serialization failure or deadlock (SQLSTATE 40001, 40P01) rolls back and runs `fn` again,
///   so `fn` must have no effects outside the transaction.
/// - Errors carry the SQLSTATE and the server's message. A lost connection (a server restart,
///   a killed backend) is errc::io_error, nothing of an unfinished transaction applied; the pool
///   is then emptied and the next call connects again.
class PostgresBackend {
  using Db = detail::pg::Db;

 public:
  /// A scan: a cursor on a connection of its own, or within a transaction.
  class Scan : public detail::ScanBase<Scan> {
   public:
    Scan(Scan&&) = default;  // only before begin()
    Scan& operator=(Scan&&) = default;
    ~Scan() {
      if (lease_.conn && open_) lease_.conn->send_later("ROLLBACK");  // given up before its end
    }

   private:
    friend class PostgresBackend;
    friend struct detail::ScanIterator<Scan>;

    // `lease` empty: within the transaction open on `conn`, whose failures set *conflict when
    // retryable.
    Scan(std::shared_ptr<const Db> db, Db::Lease lease, detail::pg::Conn* conn, const KeyRange& range, bool* conflict = nullptr)
        : db_(std::move(db)), lease_(std::move(lease)), conn_(conn), conflict_(conflict), streaming_(range.is_streaming()) {
      if (range.is_empty()) {
        lease_.give_back();
        return;
      }
      if (!read_at_once(range)) through_cursor(range);
    }

    // A range that fits in one fetch is one SELECT (which reads one snapshot): one round trip.
    // False if it holds more: the rows read are dropped and a cursor reads it instead.
    bool read_at_once(const KeyRange& range) {
      const std::size_t fetch = db_->options.fetch_rows;
      const std::uint64_t want = std::min<std::uint64_t>(range.max_count(), fetch + 1);
      const std::uint64_t limit = detail::pg::big_endian(want);
      const std::string_view lower = range.lower(), upper = range.upper() ? std::string_view(*range.upper()) : "";
      const char* values[] = {lower.empty() ? "" : lower.data(), reinterpret_cast<const char*>(&limit), upper.empty() ? "" : upper.data()};
      const int lengths[] = {static_cast<int>(lower.size()), 8, static_cast<int>(upper.size())}, formats[] = {1, 1, 1};
      conn_->settle();
      detail::pg::Res r(PQexecPrepared(conn_->pg, detail::pg::scan_stmts[(range.is_reverse() ? 1 : 0) | (range.upper() ? 2 : 0)],
                                       range.upper() ? 3 : 2, values, lengths, formats, 1));
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        stop(r.get());
        return true;
      }
      if (static_cast<std::uint64_t>(PQntuples(r.get())) == fetch + 1) return false;
      complete_ = true;
      take(std::move(r));
      return true;
    }

    // BEGIN (unless within a transaction), DECLARE and the first FETCH in one round trip.
    void through_cursor(const KeyRange& range) {
      cursor_ = "kvstack_c" + std::to_string(++conn_->cursors);
      std::string sql = lease_.conn ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; " : "";
      sql += "DECLARE " + cursor_ + " BINARY NO SCROLL CURSOR FOR SELECT key, value FROM " + db_->table +
             " WHERE key >= decode('" + detail::pg::hex(range.lower()) + "', 'hex')";
      if (range.upper()) sql += " AND key < decode('" + detail::pg::hex(*range.upper()) + "', 'hex')";
      sql += range.is_reverse() ? " ORDER BY key DESC" : " ORDER BY key";
      if (range.max_count() != KeyRange::unlimited) sql += " LIMIT " + std::to_string(range.max_count());
      sql += "; FETCH " + std::to_string(db_->options.fetch_rows) + " FROM " + cursor_;
      open_ = true;
      conn_->settle();
      if (!PQsendQuery(conn_->pg, sql.c_str())) return stop(nullptr);
      detail::pg::Res failed, last;  // the first failure; the last result (the FETCH's)
      while (PGresult* r = PQgetResult(conn_->pg)) {
        const auto status = PQresultStatus(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !failed) failed.reset(r);
        else last.reset(r);
      }
      if (failed || PQresultStatus(last.get()) != PGRES_TUPLES_OK) return stop(failed ? failed.get() : last.get());
      take(std::move(last));
    }
    explicit Scan(Error e) { error_ = std::move(e); }

    KeyValue current() const { return current_; }
    bool done() const { return !has_current_; }
    void advance() {
      has_current_ = false;
      if (batches_.empty()) return;
      PGresult* batch = batches_.back().get();
      if (++row_ < PQntuples(batch)) return show(batch);
      if (complete_ || PQntuples(batch) < static_cast<int>(db_->options.fetch_rows)) return finish();
      detail::pg::Res next(PQexec(conn_->pg, ("FETCH " + std::to_string(db_->options.fetch_rows) + " FROM " + cursor_).c_str()));
      if (PQresultStatus(next.get()) != PGRES_TUPLES_OK) return stop(next.get());
      take(std::move(next));
    }

    void take(detail::pg::Res batch) {
      if (streaming_) batches_.clear();
      batches_.push_back(std::move(batch));
      row_ = 0;
      if (PQntuples(batches_.back().get()) == 0) return finish();
      show(batches_.back().get());
    }
    void show(PGresult* batch) {
      auto field = [&](int column) {
        return std::string_view(PQgetvalue(batch, row_, column), static_cast<std::size_t>(PQgetlength(batch, row_, column)));
      };
      current_ = {field(0), field(1)};
      has_current_ = true;
    }
    // The end: the scan's own transaction ends (its COMMIT read later) and the connection goes
    // back to the pool; within a transaction the cursor is closed.
    void finish() {
      if (open_) conn_->send_later(lease_.conn ? "COMMIT" : ("CLOSE " + cursor_).c_str());
      open_ = false;
      lease_.give_back();
    }
    void stop(const PGresult* failure) {
      error_ = db_->fail(failure, *conn_, "cannot scan");
      if (conflict_ && detail::pg::retryable(detail::pg::sqlstate(failure))) *conflict_ = true;
      has_current_ = false;
      if (open_ && lease_.conn) lease_.conn->send_later("ROLLBACK");
      open_ = false;
      lease_.give_back();
    }

    std::shared_ptr<const Db> db_;  // destroyed last
    Db::Lease lease_;
    detail::pg::Conn* conn_ = nullptr;
    bool* conflict_ = nullptr;
    bool streaming_ = false;
    bool open_ = false;      // a cursor (and, on a connection of its own, a transaction) is open
    bool complete_ = false;  // the rows read are all of them
    std::string cursor_;
    std::vector<detail::pg::Res> batches_;  // the rows handed out (the last one alone, streaming)
    int row_ = 0;
    KeyValue current_;
    bool has_current_ = false;
  };

  /// Reads within a transaction, on its connection.
  class Reader {
   public:
    Reader(std::shared_ptr<const Db> db, detail::pg::Conn* conn, bool* conflict) : db_(std::move(db)), conn_(conn), conflict_(conflict) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return db_->read(*conn_, key, std::forward<F>(fn), conflict_);
    }
    template <class F>
    Result<void> get_many(std::span<const std::string_view> keys, F&& fn) const {
      return db_->read_many(*conn_, keys, std::forward<F>(fn), conflict_);
    }
    static constexpr bool remember_reads = true;
    Scan scan(const KeyRange& range) const { return Scan(db_, {}, conn_, range, conflict_); }

   private:
    std::shared_ptr<const Db> db_;
    detail::pg::Conn* conn_;
    bool* conflict_;
  };
  using transaction = detail::BufferedTransaction<Reader>;

  /// Connects with libpq connection string `conninfo` ("host=... dbname=... user=..." or a
  /// postgresql:// URI; empty: libpq's defaults and PG* variables) and opens the store in table
  /// `options.table`, created if missing. A table of that name with other columns is
  /// errc::invalid_argument.
  static Result<PostgresBackend> open(const std::string& conninfo, const PostgresOptions& options = {}) {
    auto db = std::make_shared<Db>(options);
    db->conninfo = conninfo;
    db->options.fetch_rows = std::max(1u, options.fetch_rows);
    db->where = detail::pg::describe(conninfo) + " table " + options.table;
    if (options.table.empty()) return Error{errc::invalid_argument, "PostgreSQL: the table name is empty"};
    auto conn = db->connect(true);
    if (!conn) return conn.error();
    char* quoted = PQescapeIdentifier(conn.value()->pg, options.table.c_str(), options.table.size());
    if (!quoted) return db->fail(nullptr, *conn.value(), "cannot quote the table name for");
    db->table = quoted;
    PQfreemem(quoted);
    auto exists = table_exists(*db, *conn.value());
    if (!exists) return exists.error();
    if (!exists.value()) {  // two processes creating it at once: one of them fails, and looks again
      const std::string create = "CREATE TABLE IF NOT EXISTS " + db->table + " (key bytea PRIMARY KEY, value bytea NOT NULL)";
      auto created = db->command(*conn.value(), create.c_str(), "cannot create the table at");
      if (!created && !table_exists(*db, *conn.value()).value_or(false)) return created.error();
    }
    if (auto schema = check_schema(*db, *conn.value()); !schema) return schema.error();
    if (auto prepared = db->prepare(*conn.value()); !prepared) return prepared.error();
    db->pool.put_back(std::move(conn).value());
    return PostgresBackend(std::move(db));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists, with a view of the
  /// received row valid during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    return db_->read(*lease->conn, key, std::forward<F>(fn));
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    detail::pg::Res r = db_->run<2>(*lease->conn, detail::pg::put_stmt, {key, value});
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return db_->fail(r.get(), *lease->conn, "cannot write to");
    return success();
  }

  Result<bool> erase(std::string_view key) {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    detail::pg::Res r = db_->run<1>(*lease->conn, detail::pg::erase_stmt, {key});
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return db_->fail(r.get(), *lease->conn, "cannot delete from");
    return std::string_view(PQcmdTuples(r.get())) != "0";
  }

  /// Applies the batch in one statement: the last operation on each key wins, as in order.
  Result<void> write(const WriteBatch& batch) {
    if (!db_) return closed();
    if (batch.empty()) return success();
    const auto last = detail::last_writes(batch);
    auto lease = db_->lease();
    if (!lease) return lease.error();
    for (unsigned attempt = 0;; ++attempt) {
      detail::pg::Res r = db_->apply(*lease->conn, last);
      if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) return success();
      if (!detail::pg::retryable(detail::pg::sqlstate(r.get())) || attempt >= db_->options.max_retries)
        return db_->fail(r.get(), *lease->conn, "cannot write to");
      detail::back_off(attempt);
    }
  }

  /// The entries in `range`, as of now.
  Scan scan(const KeyRange& range) const {
    if (!db_) return Scan(closed());
    auto lease = db_->lease();
    if (!lease) return Scan(lease.error());
    detail::pg::Conn* conn = lease->conn.get();
    return Scan(db_, std::move(lease).value(), conn, range);
  }

  /// The number of keys in `range` (its limit applies), counted by the server (see count_keys).
  Result<std::uint64_t> count(const KeyRange& range) const {
    if (!db_) return closed();
    if (range.is_empty()) return 0;
    auto lease = db_->lease();
    if (!lease) return lease.error();
    detail::pg::Conn& conn = *lease->conn;
    std::string sql = "SELECT count(*) FROM (SELECT 1 FROM " + db_->table + " WHERE key >= $1";
    if (range.upper()) sql += " AND key < $2";
    if (range.max_count() != KeyRange::unlimited) sql += " LIMIT " + std::to_string(range.max_count());
    sql += ") AS range";
    const std::string_view lower = range.lower(), upper = range.upper() ? std::string_view(*range.upper()) : std::string_view();
    const char* values[] = {lower.empty() ? "" : lower.data(), upper.empty() ? "" : upper.data()};
    const int lengths[] = {static_cast<int>(lower.size()), static_cast<int>(upper.size())}, formats[] = {1, 1};
    conn.settle();
    detail::pg::Res r(PQexecParams(conn.pg, sql.c_str(), range.upper() ? 2 : 1, nullptr, values, lengths, formats, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return db_->fail(r.get(), conn, "cannot count in");
    return std::stoull(PQgetvalue(r.get(), 0, 0));
  }

  /// Runs `fn(transaction&) -> Result<R>` in a SERIALIZABLE transaction and commits its writes
  /// if it succeeds; runs it again after a serialization failure or deadlock. Returns fn's
  /// result unchanged (its error, or its value after the commit), or the commit's error.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if (!db_) return closed();
    auto lease = db_->lease();
    if (!lease) return lease.error();
    detail::pg::Conn& conn = *lease->conn;
    for (unsigned attempt = 0;; ++attempt) {
      if (auto begun = db_->command(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE", "cannot begin a transaction on"); !begun)
        return begun.error();
      struct RollbackUnlessDone {
        detail::pg::Conn& conn;
        bool done = false;
        ~RollbackUnlessDone() {
          if (!done && !conn.broken()) conn.send_later("ROLLBACK");
        }
      } guard{conn};
      bool conflict = false;
      transaction tx{Reader(db_, &conn, &conflict)};
      auto result = std::invoke(fn, tx);
      Error failure{errc::io_error, ""};
      if (!conflict) {
        if (!result) return result;
        detail::pg::Res applied = db_->apply(conn, tx.writes());
        if (PQresultStatus(applied.get()) == PGRES_COMMAND_OK) {
          guard.done = true;
          detail::pg::Res committed(PQexec(conn.pg, "COMMIT"));
          if (PQresultStatus(committed.get()) == PGRES_COMMAND_OK) return result;
          failure = db_->fail(committed.get(), conn, "cannot commit to");
          conflict = detail::pg::retryable(detail::pg::sqlstate(committed.get()));
        } else {
          failure = db_->fail(applied.get(), conn, "cannot write to");
          conflict = detail::pg::retryable(detail::pg::sqlstate(applied.get()));
        }
        if (!conflict) return failure;
      }
      if (attempt >= db_->options.max_retries)
        return Error{errc::busy, "PostgreSQL " + db_->where + ": a transaction failed to serialize " +
                                     std::to_string(attempt + 1) + " times in a row"};
      if (!guard.done) {
        guard.done = true;
        if (auto rolled_back = db_->command(conn, "ROLLBACK", "cannot roll back on"); !rolled_back) return rolled_back.error();
      }
      detail::back_off(attempt);
    }
  }

 private:
  explicit PostgresBackend(std::shared_ptr<Db> db) : db_(std::move(db)) {}
  static Error closed() { return {errc::closed, "PostgresBackend was moved from"}; }


  // The table's name as an SQL string literal, for regclass.
  static std::string table_literal(const Db& db, detail::pg::Conn& conn) {
    char* literal = PQescapeLiteral(conn.pg, db.table.c_str(), db.table.size());
    std::string out = literal ? literal : "''";
    PQfreemem(literal);
    return out;
  }

  static Result<bool> table_exists(const Db& db, detail::pg::Conn& conn) {
    detail::pg::Res r(PQexec(conn.pg, ("SELECT to_regclass(" + table_literal(db, conn) + ") IS NOT NULL").c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return db.fail(r.get(), conn, "cannot look for the table at");
    return std::string_view(PQgetvalue(r.get(), 0, 0)) == "t";
  }

  // The table must have exactly a bytea primary key `key` and a bytea `value`.
  static Result<void> check_schema(const Db& db, detail::pg::Conn& conn) {
    const std::string sql =
        "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN coalesce(i.indisprimary, false) THEN ' "
        "PRIMARY KEY' ELSE '' END FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary AND "
        "a.attnum = ANY(i.indkey) WHERE a.attrelid = " +
        table_literal(db, conn) + "::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
    detail::pg::Res r(PQexec(conn.pg, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return db.fail(r.get(), conn, "cannot read the schema of");
    std::string found;
    for (int i = 0; i < PQntuples(r.get()); ++i) found += (i ? ", " : "") + std::string(PQgetvalue(r.get(), i, 0));
    if (found != "key bytea PRIMARY KEY, value bytea")
      return Error{errc::invalid_argument, "PostgreSQL " + db.where + ": the table has columns (" + found +
                                               "), not (key bytea PRIMARY KEY, value bytea): it belongs to something else"};
    return success();
  }

  std::shared_ptr<Db> db_;
};

static_assert(check_backend<PostgresBackend>());

}  // namespace kvstack
