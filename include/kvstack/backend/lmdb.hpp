// kvstack::LmdbBackend — a durable engine on LMDB (Debian `liblmdb-dev`; link with -llmdb).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <list>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <lmdb.h>
#include <sys/stat.h>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/detail/store_dir.hpp>
#include <kvstack/detail/varint.hpp>

namespace kvstack::inline v0 {

struct LmdbOptions {
  /// Writes past this many bytes of data file fail with errc::full; deleting makes room again.
  /// The whole size is reserved as address space at open (no memory or disk is used until
  /// written): the file grows by itself as data arrives, and the map never has to be remapped,
  /// which would invalidate open scans and zero-copy views. Where the address space cannot
  /// hold that much (ulimit -v, sanitizers), the largest half, quarter, ... that fits, down to
  /// 1 GiB, is reserved instead; a full map's error gives the size in force.
  std::size_t max_map_size = std::size_t{1} << 40;
  /// true (default): a commit is on disk when it returns. false (MDB_NOSYNC): commits reach the
  /// OS only; a crash of the process loses nothing, a crash of the OS or a power cut may lose
  /// the last commits (the store stays consistent on file systems that keep write order).
  bool sync = true;
  /// Read transactions (gets, scans) open at once, across processes.
  unsigned max_readers = 126;
};

namespace detail::lmdb {

inline MDB_val val(std::string_view s) noexcept { return {s.size(), const_cast<char*>(s.data())}; }
inline std::string_view view(const MDB_val& v) noexcept { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

inline Error error(int rc, std::string_view what, const std::filesystem::path& path) {
  errc code = errc::io_error;
  switch (rc) {
    case MDB_MAP_FULL: case MDB_TXN_FULL: case ENOSPC: code = errc::full; break;
    case MDB_READERS_FULL: case MDB_MAP_RESIZED: code = errc::busy; break;
    case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID: case MDB_VERSION_MISMATCH:
      code = errc::corruption; break;
    case MDB_BAD_VALSIZE: code = errc::invalid_argument; break;
    case EAGAIN: case EBUSY: code = errc::locked; break;
    default: break;
  }
  return {code, "LMDB " + std::string(what) + " " + path.string() + ": " + mdb_strerror(rc)};
}

// Keys of `max_key` bytes or more are kept in one record per `max_key`-byte prefix: a "group"
// holding the key equal to the prefix (if present) and the longer ones by suffix, in order.
// Groups sort where their keys do, so scans stay in byte order. LMDB cannot store the empty
// key: its value lives in the group of the all-zero prefix, in a field of its own. Layout: a
// version byte (1), flags (1: the prefix itself is present, 2: the empty key is), their values,
// then (suffix, value) pairs; each part LEB128-length-prefixed.
struct Group {
  std::optional<std::string_view> own;    // the key equal to the prefix
  std::optional<std::string_view> empty;  // the empty key (in the all-zero prefix's group only)
  std::vector<std::pair<std::string_view, std::string_view>> longer;  // by suffix

  template <class V>
  static auto position(V& entries, std::string_view suffix) {
    return std::lower_bound(entries.begin(), entries.end(), suffix, [](auto& e, std::string_view s) { return e.first < s; });
  }

  static Result<Group> decode(std::string_view in) {
    auto bad = [] { return Error{errc::corruption, "LMDB: malformed long-key group record"}; };
    auto take = [&](std::string_view& out) { return take_bytes(in, out); };
    if (in.size() < 2 || in[0] != 1 || (in[1] & ~3) != 0) return bad();
    Group g;
    const int flags = in[1];
    in.remove_prefix(2);
    if ((flags & 1) && !take(g.own.emplace())) return bad();
    if ((flags & 2) && !take(g.empty.emplace())) return bad();
    while (!in.empty()) {
      auto& [suffix, value] = g.longer.emplace_back();
      if (!take(suffix) || !take(value) || suffix.empty()) return bad();
      if (g.longer.size() > 1 && g.longer.end()[-2].first >= suffix) return bad();
    }
    return g;
  }
  std::optional<std::string_view> find(std::string_view suffix) const {
    if (suffix.empty()) return own;
    auto it = position(longer, suffix);
    if (it != longer.end() && it->first == suffix) return it->second;
    return std::nullopt;
  }
  // Sets (a value) or removes (nullopt) the entry for `suffix`; true if it existed.
  bool assign(std::string_view suffix, std::optional<std::string_view> value) {
    if (suffix.empty()) return std::exchange(own, value).has_value();
    auto it = position(longer, suffix);
    bool existed = it != longer.end() && it->first == suffix;
    if (value && existed) it->second = *value;
    else if (value) longer.insert(it, {suffix, *value});
    else if (existed) longer.erase(it);
    return existed;
  }
  std::string encode() const {
    std::string out{char(1), char((own ? 1 : 0) | (empty ? 2 : 0))};
    auto put = [&](std::string_view s) {
      put_varint(s.size(), out);
      out.append(s);
    };
    if (own) put(*own);
    if (empty) put(*empty);
    for (auto& [suffix, value] : longer) put(suffix), put(value);
    return out;
  }
  bool holds_nothing() const { return !own && !empty && longer.empty(); }
};

struct TxnAbort {
  bool own = true;  // false: a transaction's write transaction, borrowed
  void operator()(MDB_txn* txn) const {
    if (own) mdb_txn_abort(txn);
  }
};
/// An LMDB transaction aborted when it goes out of scope uncommitted, an exception included
/// (a write transaction left open would hold the writer lock forever, a read one its slot).
using Txn = std::unique_ptr<MDB_txn, TxnAbort>;
struct CursorClose {
  void operator()(MDB_cursor* cursor) const { mdb_cursor_close(cursor); }
};

// The open environment. Scans share it, so it closes after the last of them.
struct Env {
  MDB_env* env = nullptr;
  MDB_dbi data = 0;  // LMDB's main database
  std::size_t max_key = 0;
  std::string zero_prefix;  // max_key zero bytes: the group that also holds the empty key
  std::filesystem::path path;
  std::size_t max_map_size = 0;
  std::pair<dev_t, ino_t> id{};

  // LMDB forbids opening one environment twice in a process (closing either breaks the other's
  // locks): the directories open here.
  static std::set<std::pair<dev_t, ino_t>>& open_here(std::unique_lock<std::mutex>& lock) {
    static std::mutex mu;
    static std::set<std::pair<dev_t, ino_t>> ids;
    lock = std::unique_lock(mu);
    return ids;
  }

  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env() {
    if (env) mdb_env_close(env);
    std::unique_lock<std::mutex> lock;
    if (id != std::pair<dev_t, ino_t>{}) open_here(lock).erase(id);
  }

  Error fail(int rc, std::string_view what) const {
    Error e = error(rc, what, path);
    if (rc != MDB_MAP_FULL) return e;
    return {e.code(), e.context() + " (max_map_size is " + std::to_string(max_map_size) + " bytes)"};
  }

  // Begins a transaction; a full reader table is first cleared of dead processes' slots.
  Result<Txn> begin(unsigned flags) const {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env, nullptr, flags, &txn);
    if (rc == MDB_READERS_FULL) {
      int dead = 0;
      mdb_reader_check(env, &dead);
      rc = mdb_txn_begin(env, nullptr, flags, &txn);
    }
    if (rc) return fail(rc, "cannot begin a transaction at");
    return Txn(txn);
  }
  // Commits `txn` (which LMDB frees, committed or not).
  Result<void> commit(Txn txn) const {
    if (int rc = mdb_txn_commit(txn.release())) return fail(rc, "cannot commit to");
    return success();
  }

  // Reads `key` in `txn`: fn(view) if present.
  template <class F>
  Result<bool> read(MDB_txn* txn, std::string_view key, F&& fn) const {
    const bool grouped = key.empty() || key.size() >= max_key;
    MDB_val k = val(key.empty() ? std::string_view(zero_prefix) : key.substr(0, max_key)), v;
    int rc = mdb_get(txn, data, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    if (rc) return fail(rc, "cannot read from");
    if (!grouped) {
      std::invoke(std::forward<F>(fn), view(v));
      return true;
    }
    auto group = Group::decode(view(v));
    if (!group) return group.error();
    const auto found = key.empty() ? group.value().empty : group.value().find(key.substr(max_key));
    if (!found) return false;
    std::invoke(std::forward<F>(fn), *found);
    return true;
  }

  using Cursor = std::unique_ptr<MDB_cursor, CursorClose>;
  // A cursor for the `store`s of a write transaction: a write near the one before it (writes in
  // key order) finds its page without a search from the root.
  Result<Cursor> write_cursor(MDB_txn* txn) const {
    MDB_cursor* cursor = nullptr;
    if (int rc = mdb_cursor_open(txn, data, &cursor)) return fail(rc, "cannot open a cursor on");
    return Cursor(cursor);
  }

  // Writes (a value) or erases (nullopt) `key` in the write transaction `txn` (through `cursor`,
  // one of txn's, if given); true if it existed.
  Result<bool> store(MDB_txn* txn, std::string_view key, std::optional<std::string_view> value,
                     MDB_cursor* cursor = nullptr) const {
    if (!key.empty() && key.size() < max_key) {
      MDB_val k = val(key);
      if (value) {
        MDB_val v = val(*value);
        if (int rc = cursor ? mdb_cursor_put(cursor, &k, &v, 0) : mdb_put(txn, data, &k, &v, 0))
          return fail(rc, "cannot write to");
        return true;
      }
      MDB_val found;
      int rc = cursor ? mdb_cursor_get(cursor, &k, &found, MDB_SET) : mdb_del(txn, data, &k, nullptr);
      if (cursor && rc == 0) rc = mdb_cursor_del(cursor, 0);
      if (rc && rc != MDB_NOTFOUND) return fail(rc, "cannot delete from");
      return rc == 0;
    }
    // A key that lives in a group: read the group, change it, write it back.
    MDB_val k = val(key.empty() ? std::string_view(zero_prefix) : key.substr(0, max_key)), old;
    Group group;
    int rc = mdb_get(txn, data, &k, &old);
    if (rc && rc != MDB_NOTFOUND) return fail(rc, "cannot read from");
    if (rc == 0) {
      auto decoded = Group::decode(view(old));
      if (!decoded) return decoded.error();
      group = std::move(decoded).value();
    }
    const bool existed = key.empty() ? std::exchange(group.empty, value).has_value()
                                     : group.assign(key.substr(max_key), value);
    if (group.holds_nothing()) {
      if (rc == 0 && (rc = mdb_del(txn, data, &k, nullptr))) return fail(rc, "cannot delete from");
      return existed;
    }
    std::string record = group.encode();  // before the put, which may overwrite `old`
    MDB_val v = val(record);
    if ((rc = mdb_put(txn, data, &k, &v, 0))) return fail(rc, "cannot write to");
    return existed;
  }
};

}  // namespace detail::lmdb

/// A durable Backend on LMDB: a memory-mapped B+tree with one writer at a time and readers that
/// never block, shared safely between processes.
///
/// - Any byte string is a key: LMDB's own limits (1 to 511 bytes) are lifted by keeping keys of
///   511 bytes or more grouped under their first 511 bytes, and the empty key in the group of
///   511 zero bytes (see detail::lmdb::Group); order is unchanged. Data lives in LMDB's main
///   (unnamed) database.
/// - `get(key, fn)` hands `fn` a view into the map. A scan runs in its own read transaction:
///   it sees the store as it was when it opened, its views stay valid while it lives, and the
///   same thread may write meanwhile. A scan may outlive the backend it came from.
/// - `write` and `transact` are one LMDB write transaction each. `transact` buffers its writes
///   (reads see them first) while holding LMDB's writer lock, and applies them at commit: it
///   never conflicts and never retries. `fn` must not call this backend's own write functions
///   (use the transaction it is given), and scans from the transaction live only within `fn`.
/// - One environment may be open once per process (LMDB's rule); a second open of the same
///   directory in this process is errc::locked. Other processes may open it at the same time.
///   Reader slots left by dead processes are reclaimed at open and whenever the table is full.
class LmdbBackend {
  using Env = detail::lmdb::Env;

 public:
  /// A scan in a read transaction of its own, or within a transaction's write transaction.
  class Scan : public detail::ScanBase<Scan> {
   public:
    Scan(Scan&&) = default;  // only before begin(): iterators point at the range
    Scan& operator=(Scan&&) = default;

   private:
    friend class LmdbBackend;
    friend struct detail::ScanIterator<Scan>;
    Scan(std::shared_ptr<const Env> env, detail::lmdb::Txn txn, KeyRange range)
        : env_(std::move(env)), txn_(std::move(txn)), range_(std::move(range)), remaining_(range_.max_count()) {
      if (range_.is_empty()) return;
      MDB_cursor* cursor = nullptr;
      if (int rc = mdb_cursor_open(txn_.get(), env_->data, &cursor)) {
        fail(env_->fail(rc, "cannot scan"));
        return;
      }
      cursor_.reset(cursor);
      if (range_.contains("")) {  // the empty key, first forward and last in reverse
        auto found = env_->read(txn_.get(), "", [&](std::string_view v) { empty_value_ = v; });
        if (!found) {
          fail(found.error());
          return;
        }
        empty_pending_ = found.value();
      }
      fetch();
    }
    explicit Scan(Error e) : remaining_(0) { error_ = std::move(e); }

    KeyValue current() const { return current_; }
    bool done() const { return !has_current_; }

    void fail(Error e) {
      error_ = std::move(e);
      has_current_ = false;
    }
    void emit(KeyValue kv) {
      current_ = kv;
      has_current_ = true;
      --remaining_;
    }

    // Moves to the next entry in scan order.
    void advance() {
      if (fast_) {  // the common case, kept short
        MDB_val k, v;
        int rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_NEXT);
        std::string_view key = detail::lmdb::view(k);
        if (rc == 0 && key.size() < max_key_ && range_.below_upper(key)) {
          current_ = {key, detail::lmdb::view(v)};
          return;
        }
        has_current_ = false;
        if (take(rc, k, v)) return;
      }
      fetch();
    }
    void fetch() {
      has_current_ = false;
      while (remaining_ != 0) {
        if (next_in_group_ < group_.size()) {
          fast_ = plain_forward_ && next_in_group_ + 1 == group_.size();  // back to plain records after it
          return emit(group_[next_in_group_++]);
        }
        if (empty_pending_ && (!reverse_ || cursor_done_)) {
          empty_pending_ = false;
          return emit({"", empty_value_});
        }
        if (cursor_done_) return;
        MDB_val k, v;
        if (take(step(k, v), k, v)) return;
      }
    }
    // Handles the record the cursor reached with result `rc`: true if that made an entry
    // current or ended the scan with an error; false to go on.
    bool take(int rc, const MDB_val& k, const MDB_val& v) {
      if (rc == MDB_NOTFOUND) {
        cursor_done_ = true;
        return false;
      }
      if (rc) {
        fail(env_->fail(rc, "cannot scan"));
        return true;
      }
      std::string_view key = detail::lmdb::view(k);
      if (reverse_ ? key < range_.lower().substr(0, max_key_) : !range_.below_upper(key)) {
        cursor_done_ = true;
        return false;
      }
      // A plain record past the stop test is inside the range: the seek and the stop test
      // bound it on both sides.
      if (key.size() < max_key_) {
        emit({key, detail::lmdb::view(v)});
        return true;
      }
      if (auto expanded = expand(key, detail::lmdb::view(v)); !expanded) {
        fail(expanded.error());
        return true;
      }
      return false;
    }

    // Moves the cursor to the next record; the first step seeks.
    int step(MDB_val& k, MDB_val& v) {
      auto go = [&](MDB_cursor_op op) { return mdb_cursor_get(cursor_.get(), &k, &v, op); };
      if (positioned_) return go(reverse_ ? MDB_PREV : MDB_NEXT);
      positioned_ = true;
      fast_ = plain_forward_;
      if (!reverse_) {
        if (range_.lower().empty()) return go(MDB_FIRST);
        k = detail::lmdb::val(range_.lower().substr(0, max_key_));
        return go(MDB_SET_RANGE);
      }
      if (!range_.upper()) return go(MDB_LAST);
      const std::string_view seek = std::string_view(*range_.upper()).substr(0, max_key_);
      k = detail::lmdb::val(seek);
      int rc = go(MDB_SET_RANGE);
      if (rc == MDB_NOTFOUND) return go(MDB_LAST);
      // The group of upper's own prefix may hold keys below upper; any other record is >= upper.
      if (rc || (detail::lmdb::view(k) == seek && seek.size() == max_key_)) return rc;
      return go(MDB_PREV);
    }

    // Lays out a group record's entries that fall in the range, in scan order.
    Result<void> expand(std::string_view prefix, std::string_view record) {
      auto group = detail::lmdb::Group::decode(record);
      if (!group) return group.error();
      group_.clear();
      next_in_group_ = 0;
      if (group.value().own && range_.contains(prefix)) group_.push_back({prefix, *group.value().own});
      for (auto& [suffix, value] : group.value().longer) {
        std::string& key = long_keys_.emplace_back(prefix);
        key += suffix;
        if (range_.contains(key)) group_.push_back({key, value});
        else long_keys_.pop_back();
      }
      if (reverse_) std::reverse(group_.begin(), group_.end());
      if (!group_.empty()) fast_ = false;
      return success();
    }

    std::shared_ptr<const Env> env_;  // destroyed last: the transaction and cursor need it
    detail::lmdb::Txn txn_;
    std::unique_ptr<MDB_cursor, detail::lmdb::CursorClose> cursor_;
    KeyRange range_;
    bool reverse_ = range_.is_reverse();
    bool plain_forward_ = !reverse_ && range_.max_count() == KeyRange::unlimited;
    bool fast_ = false;  // plain_forward_, positioned, and no group entries pending
    std::size_t max_key_ = env_ ? env_->max_key : 0;
    std::size_t remaining_;
    bool positioned_ = false, cursor_done_ = false;
    bool empty_pending_ = false;
    std::string_view empty_value_;
    std::vector<KeyValue> group_;
    std::size_t next_in_group_ = 0;
    std::list<std::string> long_keys_;  // keys rebuilt from groups, alive as long as the scan
    KeyValue current_;
    bool has_current_ = false;
  };

  /// Reads the committed state within a transaction's LMDB write transaction.
  class Reader {
   public:
    Reader(std::shared_ptr<const Env> env, MDB_txn* txn) : env_(std::move(env)), txn_(txn) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return env_->read(txn_, key, std::forward<F>(fn));
    }
    Scan scan(KeyRange range) const { return Scan(env_, detail::lmdb::Txn(txn_, {false}), std::move(range)); }

   private:
    std::shared_ptr<const Env> env_;
    MDB_txn* txn_;
  };
  using transaction = detail::BufferedTransaction<Reader>;

  /// Opens (creating if needed) the store in directory `path`.
  static Result<LmdbBackend> open(const std::filesystem::path& path, const LmdbOptions& options = {}) {
    auto env = std::make_shared<Env>();
    env->path = path;
    env->max_map_size = options.max_map_size;
    if (auto dir = detail::create_store_dir("LMDB", path); !dir) return dir.error();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return env->fail(errno, "cannot open");
    {
      std::unique_lock<std::mutex> lock;
      if (!Env::open_here(lock).insert({st.st_dev, st.st_ino}).second)
        return Error{errc::locked, "LMDB: already open in this process: " + path.string()};
      env->id = {st.st_dev, st.st_ino};
    }
    const unsigned flags = MDB_NOTLS | (options.sync ? 0u : MDB_NOSYNC);
    int rc = 0;
    for (std::size_t size = options.max_map_size;; size /= 2) {  // halved while address space is short
      if (env->env) mdb_env_close(std::exchange(env->env, nullptr));
      if ((rc = mdb_env_create(&env->env))) return env->fail(rc, "cannot create an environment for");
      mdb_env_set_maxreaders(env->env, options.max_readers);
      if ((rc = mdb_env_set_mapsize(env->env, size))) return env->fail(rc, "cannot size the map of");
      env->max_map_size = size;
      rc = mdb_env_open(env->env, path.c_str(), flags, 0644);
      if (rc != ENOMEM || size / 2 < (std::size_t{1} << 30)) break;
    }
    if (rc) return env->fail(rc, "cannot open");
    int dead = 0;
    mdb_reader_check(env->env, &dead);
    env->max_key = static_cast<std::size_t>(mdb_env_get_maxkeysize(env->env));
    env->zero_prefix.assign(env->max_key, '\0');
    if (auto opened = open_tables(*env); !opened) return opened.error();
    return LmdbBackend(std::move(env));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists, with a view into the
  /// map valid during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!env_) return closed();
    auto txn = env_->begin(MDB_RDONLY);
    if (!txn) return txn.error();
    return env_->read(txn.value().get(), key, std::forward<F>(fn));
  }

  Result<void> put(std::string_view key, std::string_view value) {
    return commit([&](MDB_txn* txn) -> Result<void> {
      if (auto stored = env_->store(txn, key, value); !stored) return stored.error();
      return success();
    });
  }

  Result<bool> erase(std::string_view key) {
    bool existed = false;
    auto done = commit([&](MDB_txn* txn) -> Result<void> {
      auto erased = env_->store(txn, key, std::nullopt);
      if (!erased) return erased.error();
      existed = erased.value();
      return success();
    });
    if (!done) return done.error();
    return existed;
  }

  /// Applies every operation of the batch, in order, in one write transaction.
  Result<void> write(const WriteBatch& batch) {
    return commit([&](MDB_txn* txn) -> Result<void> {
      auto cursor = env_->write_cursor(txn);
      if (!cursor) return cursor.error();
      for (const auto& op : batch) {
        std::optional<std::string_view> value;
        if (op.kind == WriteBatch::Kind::put) value = op.value;
        if (auto stored = env_->store(txn, op.key, value, cursor.value().get()); !stored) return stored.error();
      }
      return success();
    });
  }

  /// The entries in `range`, in a read transaction opened now.
  Scan scan(KeyRange range) const {
    if (!env_) return Scan(closed());
    auto txn = env_->begin(MDB_RDONLY);
    if (!txn) return Scan(txn.error());
    return Scan(env_, std::move(txn).value(), std::move(range));
  }

  /// Runs `fn(transaction&) -> Result<R>` holding LMDB's writer lock and commits its writes in
  /// one write transaction if it succeeds; returns fn's result unchanged (its error, or its
  /// value after the commit), or the commit's error.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    using R = std::invoke_result_t<F&, transaction&>;
    std::optional<R> result;
    auto done = commit([&](MDB_txn* txn) -> Result<void> {
      transaction tx(Reader(env_, txn));
      result.emplace(std::invoke(fn, tx));
      if (!*result) return result->error();
      auto cursor = env_->write_cursor(txn);
      if (!cursor) return cursor.error();
      for (auto& [key, value] : tx.writes())  // in key order
        if (auto stored = env_->store(txn, key, value, cursor.value().get()); !stored) return stored.error();
      return success();
    });
    if (!done && (!result || *result)) return done.error();  // closed, or begin/commit failed
    return std::move(*result);
  }

  /// Writes a compacted copy of the store as it is now to `dir` (which must not exist or be
  /// empty), while writes continue; `LmdbBackend::open(dir)` opens it.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    if (!env_) return closed();
    if (auto ready = detail::prepare_checkpoint_dir(dir); !ready) return ready;
    if (int rc = mdb_env_copy2(env_->env, dir.c_str(), MDB_CP_COMPACT))
      return detail::lmdb::error(rc, "cannot copy " + env_->path.string() + " to", dir);
    return success();
  }

  /// Makes every commit that returned durable (for a store opened with sync=false).
  Result<void> sync() const {
    if (!env_) return closed();
    if (int rc = mdb_env_sync(env_->env, 1)) return detail::lmdb::error(rc, "cannot sync", env_->path);
    return success();
  }

 private:
  explicit LmdbBackend(std::shared_ptr<Env> env) : env_(std::move(env)) {}

  static Error closed() { return {errc::closed, "LmdbBackend was moved from"}; }

  static Result<void> open_tables(Env& env) {
    auto txn = env.begin(0);
    if (!txn) return txn.error();
    if (int rc = mdb_dbi_open(txn.value().get(), nullptr, 0, &env.data)) return env.fail(rc, "cannot open the database of");
    return env.commit(std::move(txn).value());
  }

  // Runs `body(txn)` in a write transaction, committing if it succeeds.
  template <class Body>
  Result<void> commit(Body&& body) {
    if (!env_) return closed();
    auto txn = env_->begin(0);
    if (!txn) return txn.error();
    if (auto done = body(txn.value().get()); !done) return done;
    return env_->commit(std::move(txn).value());
  }

  std::shared_ptr<Env> env_;
};

static_assert(check_backend<LmdbBackend>() && Checkpointable<LmdbBackend>);

}  // namespace kvstack
