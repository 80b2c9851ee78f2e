// kvstack::SqliteBackend — a durable engine on SQLite (Debian `libsqlite3-dev`; link with
// -lsqlite3): one WITHOUT ROWID table of BLOB keys and values, in WAL mode.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/connection_pool.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/detail/store_dir.hpp>

namespace kvstack::inline v0 {

struct SqliteOptions {
  /// SQLite's `synchronous` setting. full (default): a commit is on disk when it returns.
  /// normal: a crash of the process loses nothing, a crash of the OS or a power cut may lose the
  /// last commits (never consistency: the store is in WAL mode).
  enum class Sync { normal, full };
  Sync sync = Sync::full;
  /// How long an operation waits for another process holding the database's lock before it
  /// fails with errc::locked, in milliseconds.
  int busy_timeout_ms = 5000;
  /// Idle read connections kept for gets and scans (more are opened while more run at once).
  unsigned max_idle_readers = 8;
  /// The table holding the data, created if missing; one database may hold several stores.
  std::string table = "kvstack";
};

namespace detail {
// For open(Config): the sync parameter's value, and the forms it takes.
inline bool parse_param(std::string_view text, SqliteOptions::Sync& out) {
  using S = SqliteOptions::Sync;
  if (text == "full" || text == "FULL" || text == "true" || text == "1" || text == "on") return out = S::full, true;
  if (text == "normal" || text == "NORMAL" || text == "false" || text == "0" || text == "off") return out = S::normal, true;
  return false;
}
inline std::string_view forms_of(const SqliteOptions::Sync&) { return "full or normal (or true/false)"; }
}  // namespace detail

namespace detail::sqlite {

inline errc code_of(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: return errc::locked;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: return errc::corruption;
    case SQLITE_FULL: return errc::full;
    case SQLITE_TOOBIG: case SQLITE_MISMATCH: case SQLITE_RANGE: return errc::invalid_argument;
    default: return errc::io_error;
  }
}

inline Error error(int rc, sqlite3* db, std::string_view what, const std::filesystem::path& path) {
  const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = "SQLite " + std::string(what) + " " + path.string() + ": " + message;
  if (code_of(rc) == errc::locked) text += " (another connection holds its lock longer than busy_timeout_ms)";
  return {code_of(rc), std::move(text)};
}

// Binds a byte string as a BLOB (never NULL: an empty one is a zero-length BLOB).
// SQLITE_STATIC (the default): the bytes outlive the statement's run.
inline int bind_blob(sqlite3_stmt* stmt, int index, std::string_view bytes, sqlite3_destructor_type keep = SQLITE_STATIC) noexcept {
  return sqlite3_bind_blob64(stmt, index, bytes.empty() ? "" : bytes.data(), bytes.size(), keep);
}
inline std::string_view column(sqlite3_stmt* stmt, int index) noexcept {
  const void* data = sqlite3_column_blob(stmt, index);  // before column_bytes, as SQLite asks
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, index));
  return data ? std::string_view(static_cast<const char*>(data), size) : std::string_view();
}

// The statements a connection prepares once and reuses; the scans: forward or reverse, with an
// upper bound or without; the counts: with an upper bound or without, with a limit or without.
enum Statement {
  select_value, upsert, delete_key, begin_immediate, commit_tx, rollback_tx,
  select_range, count_range = select_range + 4, statement_count = count_range + 4
};

inline std::string sql_of(Statement s, const std::string& t) {
  switch (s) {
    case select_value: return "SELECT value FROM " + t + " WHERE key = ?1";
    case upsert: return "INSERT OR REPLACE INTO " + t + " (key, value) VALUES (?1, ?2)";
    case delete_key: return "DELETE FROM " + t + " WHERE key = ?1";
    case begin_immediate: return "BEGIN IMMEDIATE";
    case commit_tx: return "COMMIT";
    case rollback_tx: return "ROLLBACK";
    default: break;
  }
  if (s >= count_range) {  // + 1: an upper bound; + 2: a limit
    const int variant = s - count_range;
    const std::string where = " FROM " + t + " WHERE key >= ?1" + (variant & 1 ? " AND key < ?2" : "");
    return variant & 2 ? "SELECT count(*) FROM (SELECT 1" + where + " LIMIT ?3)" : "SELECT count(*)" + where;
  }
  const int variant = s - select_range;  // + 1: reverse; + 2: an upper bound
  return "SELECT key, value FROM " + t + " WHERE key >= ?1" + (variant & 2 ? " AND key < ?2" : "") + " ORDER BY key" +
         (variant & 1 ? " DESC" : "") + " LIMIT ?3";
}

// One connection and its prepared statements. A statement in use (a scan open, a get whose
// callback runs) is lent out; asking for it again meanwhile prepares a private copy.
struct Conn {
  sqlite3* db = nullptr;
  std::array<sqlite3_stmt*, statement_count> cached{};
  std::array<bool, statement_count> lent{};

  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    for (sqlite3_stmt* s : cached) sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
  bool broken() const noexcept { return false; }  // a file, not a link
  bool reusable() const noexcept { return true; }
};

// A statement borrowed from a connection: reset, unbound and given back (or finalized, if it was
// a private copy) when it goes.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Conn* conn, Statement kind, sqlite3_stmt* stmt) : conn_(conn), kind_(kind), stmt_(stmt) {}
  Stmt(Stmt&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)), kind_(o.kind_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    if (this != &o) {
      release();
      conn_ = std::exchange(o.conn_, nullptr);
      kind_ = o.kind_;
      stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
  }
  ~Stmt() { release(); }
  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  void release() noexcept {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (conn_->cached[kind_] == stmt_) conn_->lent[kind_] = false;
    else sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  Conn* conn_ = nullptr;
  Statement kind_ = select_value;
  sqlite3_stmt* stmt_ = nullptr;
};

// The open database: one writer connection, behind a mutex, and a pool of reader connections.
// Scans share it, so it closes after the last of them.
struct Db {
  std::filesystem::path file;
  SqliteOptions options;
  std::string table;  // quoted
  mutable std::mutex writer_mutex;
  std::unique_ptr<Conn> writer;
  ConnectionPool<Conn> readers;

  explicit Db(const SqliteOptions& o) : options(o), readers(o.max_idle_readers) {}

  Error fail(int rc, const Conn& conn, std::string_view what) const { return error(rc, conn.db, what, file); }

  Result<std::unique_ptr<Conn>> connect() const {
    auto conn = std::make_unique<Conn>();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (int rc = sqlite3_open_v2(file.c_str(), &conn->db, flags, nullptr)) return fail(rc, *conn, "cannot open");
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_timeout(conn->db, options.busy_timeout_ms);
    const bool full = options.sync == SqliteOptions::Sync::full;
    if (auto set = exec(*conn, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", "cannot open"); !set)
      return set.error();
    return conn;
  }

  Result<void> exec(Conn& conn, const std::string& sql, std::string_view what) const {
    if (int rc = sqlite3_exec(conn.db, sql.c_str(), nullptr, nullptr, nullptr)) return fail(rc, conn, what);
    return success();
  }

  Result<Stmt> statement(Conn& conn, Statement kind) const {
    sqlite3_stmt*& cached = conn.cached[kind];
    if (!cached || conn.lent[kind]) {
      sqlite3_stmt* stmt = nullptr;
      if (int rc = sqlite3_prepare_v3(conn.db, sql_of(kind, table).c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr))
        return fail(rc, conn, "cannot prepare a statement for");
      if (cached) return Stmt(&conn, kind, stmt);
      cached = stmt;
    }
    conn.lent[kind] = true;
    return Stmt(&conn, kind, cached);
  }

  // Runs a statement that returns no rows.
  Result<void> run(const Stmt& stmt, const Conn& conn, std::string_view what) const {
    if (int rc = sqlite3_step(stmt.get()); rc != SQLITE_DONE) return fail(rc, conn, what);
    return success();
  }

  // Reads `key` on `conn`: fn(view) if present.
  template <class F>
  Result<bool> read(Conn& conn, std::string_view key, F&& fn) const {
    auto stmt = statement(conn, select_value);
    if (!stmt) return stmt.error();
    bind_blob(stmt->get(), 1, key);
    const int rc = sqlite3_step(stmt->get());
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return fail(rc, conn, "cannot read from");
    std::invoke(std::forward<F>(fn), column(stmt->get(), 0));
    return true;
  }

  using Lease = ConnectionPool<Conn>::Lease;
  Result<Lease> reader() const { return readers.lease([this] { return connect(); }); }

  // BEGIN IMMEDIATE on the writer connection; the guard rolls back unless committed.
  struct Begun {
    const Db* db;
    bool committed = false;
    ~Begun() {
      if (committed) return;
      if (auto stmt = db->statement(*db->writer, rollback_tx)) sqlite3_step(stmt->get());
    }
  };
  Result<void> begin_writes() const {
    auto stmt = statement(*writer, begin_immediate);
    if (!stmt) return stmt.error();
    return run(*stmt, *writer, "cannot begin a transaction on");
  }

  // Applies a transaction's writes or a batch's (an iterable of {key, optional value}) after
  // begin_writes, and commits them; the caller holds the writer.
  template <class Writes>
  Result<void> commit_writes(Begun& begun, const Writes& writes) const {
    Conn& w = *writer;
    for (const auto& [key, value] : writes) {
      auto stmt = statement(w, value ? upsert : delete_key);
      if (!stmt) return stmt.error();
      bind_blob(stmt->get(), 1, key);
      if (value) bind_blob(stmt->get(), 2, *value);
      if (auto ran = run(*stmt, w, "cannot write to"); !ran) return ran;
    }
    auto commit_stmt = statement(w, commit_tx);
    if (!commit_stmt) return commit_stmt.error();
    if (auto ran = run(*commit_stmt, w, "cannot commit to"); !ran) return ran;
    begun.committed = true;
    return success();
  }

};

// A table name as an SQL identifier, in double quotes.
inline std::string quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// What a scan returns: each row copied into blocks that live as long as the scan (unless it
// streams), so views stay valid while it lives.
class RowArena {
 public:
  std::string_view keep(std::string_view bytes) {
    if (bytes.empty()) return {};
    if (blocks_.empty() || used_ + bytes.size() > size_) {
      size_ = std::max<std::size_t>(bytes.size(), std::size_t{64} << 10);
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(size_));
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    std::copy(bytes.begin(), bytes.end(), at);
    used_ += bytes.size();
    return {at, bytes.size()};
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t size_ = 0, used_ = 0;
};

}  // namespace detail::sqlite

/// A durable Backend on SQLite: one `WITHOUT ROWID` table (key BLOB PRIMARY KEY, value BLOB) in
/// the file `data.sqlite` of the store's directory, in WAL mode.
///
/// - SQLite orders BLOBs by memcmp, then length: byte order. Ranges are `key >= ? AND key < ?`
///   (a prefix's upper bound is its successor), never LIKE, so no byte of a prefix is a wildcard.
/// - Gets and scans run on a pool of reader connections, in parallel with each other and with
///   the writer. A scan is one SELECT, which reads one snapshot (WAL) from its first step,
///   taken when the scan opens. Its rows are copied as it reads them, so its views stay valid
///   while it lives; `KeyRange::streaming()` hands out SQLite's own buffers instead (valid
///   until the next step).
/// - Writes go through one writer connection, one at a time. `write` and `transact` run in
///   `BEGIN IMMEDIATE ... COMMIT`. `transact` holds the writer for its whole run, reads the
///   committed state (which cannot change meanwhile: other processes wait for the lock)
///   with its buffered writes over it, and commits them together: it never conflicts and never
///   retries. `fn` must not call this backend's own write functions (use the transaction).
/// - Another process may use the same file. One that holds the lock longer than
///   `busy_timeout_ms` makes an operation fail with errc::locked; a file that is not an SQLite
///   database, or a damaged one, is errc::corruption; both with SQLite's message and the path.
class SqliteBackend {
  using Db = detail::sqlite::Db;

 public:
  /// A scan: one SELECT on a reader connection of its own, or on the writer within a
  /// transaction.
  class Scan : public detail::ScanBase<Scan> {
   public:
    Scan(Scan&&) = default;  // only before begin()
    Scan& operator=(Scan&&) = default;

   private:
    friend class SqliteBackend;
    friend struct detail::ScanIterator<Scan>;

    Scan(std::shared_ptr<const Db> db, Db::Lease lease, detail::sqlite::Conn* conn, const KeyRange& range)
        : db_(std::move(db)), lease_(std::move(lease)), conn_(conn), streaming_(range.is_streaming()) {
      if (range.is_empty()) return;
      const int variant = (range.is_reverse() ? 1 : 0) | (range.upper() ? 2 : 0);
      auto stmt = db_->statement(*conn_, static_cast<detail::sqlite::Statement>(detail::sqlite::select_range + variant));
      if (!stmt) {
        error_ = stmt.error();
        return;
      }
      stmt_ = std::move(stmt).value();
      detail::sqlite::bind_blob(stmt_.get(), 1, range.lower(), SQLITE_TRANSIENT);  // the range may go
      if (range.upper()) detail::sqlite::bind_blob(stmt_.get(), 2, *range.upper(), SQLITE_TRANSIENT);
      const std::size_t limit = range.max_count();
      sqlite3_bind_int64(stmt_.get(), 3, limit > std::size_t{INT64_MAX} ? -1 : static_cast<sqlite3_int64>(limit));
      advance();
    }
    explicit Scan(Error e) { error_ = std::move(e); }

    KeyValue current() const { return current_; }
    void advance() {
      has_current_ = false;
      if (!stmt_.get()) return;
      const int rc = sqlite3_step(stmt_.get());
      if (rc == SQLITE_ROW) {
        has_current_ = true;
        current_ = {detail::sqlite::column(stmt_.get(), 0), detail::sqlite::column(stmt_.get(), 1)};
        if (!streaming_) current_ = {arena_.keep(current_.key), arena_.keep(current_.value)};
        return;
      }
      if (rc != SQLITE_DONE) error_ = db_->fail(rc, *conn_, "cannot scan");
      stmt_ = {};  // ends the read: the connection goes back to the pool with the lease
      lease_.give_back();
    }
    bool done() const { return !has_current_; }

    std::shared_ptr<const Db> db_;  // destroyed last
    Db::Lease lease_;
    detail::sqlite::Conn* conn_ = nullptr;
    detail::sqlite::Stmt stmt_;  // destroyed before the lease gives the connection back
    bool streaming_ = false;
    detail::sqlite::RowArena arena_;
    KeyValue current_;
    bool has_current_ = false;
  };

  /// Reads the committed state on the writer connection, within a transaction.
  class Reader {
   public:
    explicit Reader(std::shared_ptr<const Db> db) : db_(std::move(db)) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return db_->read(*db_->writer, key, std::forward<F>(fn));
    }
    static constexpr bool remember_reads = true;  // a read is a statement
    Scan scan(const KeyRange& range) const { return Scan(db_, {}, db_->writer.get(), range); }

   private:
    std::shared_ptr<const Db> db_;
  };
  using transaction = detail::BufferedTransaction<Reader>;

  /// Opens (creating if needed) the store in directory `path`: its database file is
  /// `path/data.sqlite`. A table of that name with other columns is errc::invalid_argument.
  static Result<SqliteBackend> open(const std::filesystem::path& path, const SqliteOptions& options = {}) {
    if (auto dir = detail::create_store_dir("SQLite", path); !dir) return dir.error();
    if (options.table.empty()) return Error{errc::invalid_argument, "SQLite: the table name is empty"};
    auto db = std::make_shared<Db>(options);
    db->file = path / "data.sqlite";
    db->table = detail::sqlite::quote(options.table);
    auto writer = db->connect();
    if (!writer) return writer.error();
    db->writer = std::move(writer).value();
    if (auto wal = db->exec(*db->writer, "PRAGMA journal_mode = WAL", "cannot open"); !wal) return wal.error();
    auto created = db->exec(*db->writer,
                            "CREATE TABLE IF NOT EXISTS " + db->table +
                                " (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
                            "cannot create the table in");
    if (!created) return created.error();
    if (auto schema = check_schema(*db); !schema) return schema.error();
    return SqliteBackend(std::move(db));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists, with a view of SQLite's
  /// row valid during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!db_) return closed();
    auto lease = db_->reader();
    if (!lease) return lease.error();
    return db_->read(*lease->conn, key, std::forward<F>(fn));
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if (!db_) return closed();
    std::lock_guard lock(db_->writer_mutex);
    auto stmt = db_->statement(*db_->writer, detail::sqlite::upsert);
    if (!stmt) return stmt.error();
    detail::sqlite::bind_blob(stmt->get(), 1, key);
    detail::sqlite::bind_blob(stmt->get(), 2, value);
    return db_->run(*stmt, *db_->writer, "cannot write to");
  }

  Result<bool> erase(std::string_view key) {
    if (!db_) return closed();
    std::lock_guard lock(db_->writer_mutex);
    auto stmt = db_->statement(*db_->writer, detail::sqlite::delete_key);
    if (!stmt) return stmt.error();
    detail::sqlite::bind_blob(stmt->get(), 1, key);
    if (auto ran = db_->run(*stmt, *db_->writer, "cannot delete from"); !ran) return ran.error();
    return sqlite3_changes(db_->writer->db) > 0;
  }

  /// Applies every operation of the batch, in order, in one transaction.
  Result<void> write(const WriteBatch& batch) {
    if (!db_) return closed();
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> writes;
    writes.reserve(batch.size());
    for (const auto& op : batch)
      writes.emplace_back(op.key, op.kind == WriteBatch::Kind::put ? std::optional<std::string_view>(op.value) : std::nullopt);
    std::lock_guard lock(db_->writer_mutex);
    if (auto begun = db_->begin_writes(); !begun) return begun;
    Db::Begun guard{db_.get()};
    return db_->commit_writes(guard, writes);
  }

  /// The entries in `range`, as of now.
  Scan scan(const KeyRange& range) const {
    if (!db_) return Scan(closed());
    auto lease = db_->reader();
    if (!lease) return Scan(lease.error());
    detail::sqlite::Conn* conn = lease->conn.get();
    return Scan(db_, std::move(lease).value(), conn, range);
  }

  /// The number of keys in `range` (its limit applies), counted by SQLite (see count_keys).
  Result<std::uint64_t> count(const KeyRange& range) const {
    if (!db_) return closed();
    if (range.is_empty()) return 0;
    auto lease = db_->reader();
    if (!lease) return lease.error();
    detail::sqlite::Conn& conn = *lease->conn;
    const std::size_t limit = range.max_count();
    const bool limited = limit != KeyRange::unlimited;
    auto stmt = db_->statement(conn, static_cast<detail::sqlite::Statement>(detail::sqlite::count_range + (range.upper() ? 1 : 0) +
                                                                            (limited ? 2 : 0)));
    if (!stmt) return stmt.error();
    detail::sqlite::bind_blob(stmt->get(), 1, range.lower());
    if (range.upper()) detail::sqlite::bind_blob(stmt->get(), 2, *range.upper());
    if (limited) sqlite3_bind_int64(stmt->get(), 3, limit > std::size_t{INT64_MAX} ? -1 : static_cast<sqlite3_int64>(limit));
    if (int rc = sqlite3_step(stmt->get()); rc != SQLITE_ROW) return db_->fail(rc, conn, "cannot count in");
    return static_cast<std::uint64_t>(sqlite3_column_int64(stmt->get(), 0));
  }

  /// Runs `fn(transaction&) -> Result<R>` holding the writer (in BEGIN IMMEDIATE) and commits its
  /// writes if it succeeds; returns fn's result unchanged (its error, or its value after the
  /// commit), or the commit's error.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if (!db_) return closed();
    std::lock_guard lock(db_->writer_mutex);
    if (auto begun = db_->begin_writes(); !begun) return begun.error();
    Db::Begun guard{db_.get()};
    transaction tx{Reader(db_)};
    auto result = std::invoke(fn, tx);
    if (!result) return result;
    if (auto committed = db_->commit_writes(guard, tx.writes()); !committed) return committed.error();
    return result;
  }

  /// Writes an openable copy of the store as it is now to `dir` (which must not exist or be
  /// empty) with `VACUUM INTO`, from one snapshot; writes may continue meanwhile.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    if (!db_) return closed();
    if (auto ready = detail::prepare_checkpoint_dir(dir); !ready) return ready;
    auto lease = db_->reader();
    if (!lease) return lease.error();
    sqlite3_stmt* raw = nullptr;
    const std::string target = (dir / "data.sqlite").string();
    int rc = sqlite3_prepare_v2(lease->conn->db, "VACUUM INTO ?1", -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    if (rc == SQLITE_OK) rc = sqlite3_bind_text(raw, 1, target.c_str(), -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK) rc = sqlite3_step(raw);
    if (rc != SQLITE_DONE) return detail::sqlite::error(rc, lease->conn->db, "cannot copy " + db_->file.string() + " to", dir);
    return success();
  }

  /// The database file.
  const std::filesystem::path& file() const noexcept { return db_->file; }

 private:
  explicit SqliteBackend(std::shared_ptr<Db> db) : db_(std::move(db)) {}
  static Error closed() { return {errc::closed, "SqliteBackend was moved from"}; }

  // The table must have exactly a BLOB primary key `key` and a BLOB `value`.
  static Result<void> check_schema(const Db& db) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db.writer->db, "SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid", -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    if (rc) return db.fail(rc, *db.writer, "cannot read the schema of");
    sqlite3_bind_text(raw, 1, db.options.table.c_str(), -1, SQLITE_TRANSIENT);
    std::string found;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      if (!found.empty()) found += ", ";
      found += std::string(detail::sqlite::column(raw, 0)) + " " + std::string(detail::sqlite::column(raw, 1)) +
               (sqlite3_column_int(raw, 2) ? " PRIMARY KEY" : "");
    }
    if (rc != SQLITE_DONE) return db.fail(rc, *db.writer, "cannot read the schema of");
    if (found != "key BLOB PRIMARY KEY, value BLOB")
      return Error{errc::invalid_argument, "SQLite " + db.file.string() + ": table " + db.table + " has columns (" + found +
                                               "), not (key BLOB PRIMARY KEY, value BLOB): it belongs to something else"};
    return success();
  }

  std::shared_ptr<Db> db_;
};

static_assert(check_backend<SqliteBackend>() && Checkpointable<SqliteBackend>);

}  // namespace kvstack
