// kvstack::RocksDbBackend — a durable engine on RocksDB (Debian `librocksdb-dev`; link with
// -lrocksdb).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/detail/store_dir.hpp>

namespace kvstack::inline v0 {

struct RocksDbOptions {
  enum class Compression { none, snappy, lz4, zstd };
  Compression compression = Compression::lz4;
  /// The LRU cache of uncompressed blocks, in bytes.
  std::size_t block_cache_size = std::size_t{64} << 20;
  /// Bloom filter bits per key (10: about 1% false positives); 0 turns the filter off.
  int bloom_bits_per_key = 10;
  /// The memtable size before it is flushed, in bytes.
  std::size_t write_buffer_size = std::size_t{64} << 20;
  /// Files kept open; -1: all.
  int max_open_files = -1;
  /// true (default): a write is synced to the write-ahead log before it returns. false: a
  /// crash of the process loses nothing, a crash of the OS or a power cut may lose the last
  /// writes (never half a batch).
  bool sync = true;
};

/// Parses "none", "snappy", "lz4" or "zstd" (the `compression` parameter of kvstack::open).
inline bool parse_compression(std::string_view text, RocksDbOptions::Compression& out) {
  using C = RocksDbOptions::Compression;
  for (auto [name, value] : {std::pair{"none", C::none}, {"snappy", C::snappy}, {"lz4", C::lz4}, {"zstd", C::zstd}})
    if (text == name) return out = value, true;
  return false;
}

namespace detail {
// For open(Config): the compression parameter's value, and the forms it takes.
inline bool parse_param(std::string_view text, RocksDbOptions::Compression& out) { return parse_compression(text, out); }
inline std::string_view forms_of(const RocksDbOptions::Compression&) { return "none, snappy, lz4 or zstd"; }
}  // namespace detail

namespace detail::rocks {

inline rocksdb::Slice slice(std::string_view s) noexcept { return {s.data(), s.size()}; }
inline std::string_view view(const rocksdb::Slice& s) noexcept { return {s.data(), s.size()}; }

inline Error error(const rocksdb::Status& s, std::string_view what, const std::filesystem::path& path) {
  errc code = errc::io_error;
  const std::string text = s.ToString();
  if (s.IsCorruption()) code = errc::corruption;
  else if (s.IsNoSpace()) code = errc::full;
  else if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) code = errc::busy;
  else if (s.IsInvalidArgument()) code = errc::invalid_argument;
  else if (s.IsNotSupported()) code = errc::unsupported;
  else if (s.IsIOError() && (text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos))
    code = errc::locked;  // another process or handle holds the directory's LOCK file
  return {code, "RocksDB " + std::string(what) + " " + path.string() + ": " + text};
}

// The open database. Scans share it, so it closes after the last of them.
struct Db {
  std::unique_ptr<rocksdb::DB> db;
  std::filesystem::path path;
  rocksdb::ReadOptions read_options;
  rocksdb::WriteOptions write_options;
  // Plain writes hold it shared; erase and transactions exclusively, so that what they read
  // stays true until they commit.
  mutable std::shared_mutex writers;

  Error fail(const rocksdb::Status& s, std::string_view what) const { return error(s, what, path); }

  template <class F>
  Result<bool> read(std::string_view key, F&& fn) const {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db->Get(read_options, db->DefaultColumnFamily(), slice(key), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return fail(s, "cannot read from");
    std::invoke(std::forward<F>(fn), view(value));
    return true;
  }
  Result<void> apply(rocksdb::WriteBatch& batch) const {
    if (rocksdb::Status s = db->Write(write_options, &batch); !s.ok()) return fail(s, "cannot write to");
    return success();
  }
};

}  // namespace detail::rocks

/// A durable Backend on RocksDB: a log-structured merge tree.
///
/// - Gets go through PinnableSlice: `get(key, fn)` hands `fn` a view of the block or memtable
///   entry, without a copy.
/// - A scan is one iterator, bounded with iterate_lower_bound/iterate_upper_bound, over the
///   point in time at which it opened. It pins the blocks it has read (ReadOptions::pin_data,
///   with tables written without key delta encoding) so its views stay valid while it lives;
///   a scan over N bytes thus holds about N bytes until it ends. `KeyRange::streaming()` turns
///   pinning off (views valid until the next step, constant memory); `copy_all` uses it.
/// - `transact` is pessimistic: it holds this backend's writer lock exclusively, reads the
///   committed state (which cannot change meanwhile: RocksDB lets one process open a
///   directory, and every write here takes the lock), buffers its writes, and commits them as
///   one WriteBatch. It never conflicts and never retries; plain puts and batches share the
///   lock and run in parallel otherwise. `fn` must not call this backend's own write functions
///   (use the transaction it is given).
/// - Opening a directory another process or handle holds is errc::locked, with RocksDB's
///   message and the path.
class RocksDbBackend {
  using Db = detail::rocks::Db;

 public:
  /// A scan over one RocksDB iterator.
  class Scan : public detail::ScanBase<Scan> {
   private:
    friend class RocksDbBackend;
    friend struct detail::ScanIterator<Scan>;
    // What the iterator points at stays put when the scan moves.
    struct State {
      std::string lower, upper;
      rocksdb::Slice lower_slice, upper_slice;
      std::unique_ptr<rocksdb::Iterator> it;
    };

    Scan(std::shared_ptr<const Db> db, const KeyRange& range)
        : db_(std::move(db)), reverse_(range.is_reverse()), remaining_(range.max_count()) {
      if (range.is_empty()) return;
      state_ = std::make_unique<State>();
      rocksdb::ReadOptions options = db_->read_options;
      options.pin_data = !range.is_streaming();
      state_->lower = range.lower();
      state_->lower_slice = detail::rocks::slice(state_->lower);
      options.iterate_lower_bound = &state_->lower_slice;
      if (range.upper()) {
        state_->upper = *range.upper();
        state_->upper_slice = detail::rocks::slice(state_->upper);
        options.iterate_upper_bound = &state_->upper_slice;
      }
      state_->it.reset(db_->db->NewIterator(options));
      if (reverse_) state_->it->SeekToLast();  // the last key below the upper bound
      else state_->it->Seek(state_->lower_slice);
      settle();
    }
    explicit Scan(Error e) : remaining_(0) { error_ = std::move(e); }

    KeyValue current() const { return {detail::rocks::view(state_->it->key()), detail::rocks::view(state_->it->value())}; }
    void advance() {
      reverse_ ? state_->it->Prev() : state_->it->Next();
      settle();
    }
    bool done() const { return !has_current_; }

    void settle() {
      has_current_ = remaining_ != 0 && state_->it->Valid();
      if (has_current_) {
        --remaining_;
      } else if (rocksdb::Status s = state_->it->status(); !s.ok()) {
        error_ = db_->fail(s, "cannot scan");
      }
    }

    std::shared_ptr<const Db> db_;  // destroyed last: the iterator needs it
    std::unique_ptr<State> state_;
    bool reverse_ = false;
    std::size_t remaining_;
    bool has_current_ = false;
  };

  /// Reads the committed state for a transaction (which holds the writer lock meanwhile).
  class Reader {
   public:
    explicit Reader(std::shared_ptr<const Db> db) : db_(std::move(db)) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return db_->read(key, std::forward<F>(fn));
    }
    Scan scan(const KeyRange& range) const { return Scan(db_, range); }

   private:
    std::shared_ptr<const Db> db_;
  };
  using transaction = detail::BufferedTransaction<Reader>;

  /// Opens (creating if needed) the store in directory `path`.
  static Result<RocksDbBackend> open(const std::filesystem::path& path, const RocksDbOptions& options = {}) {
    if (auto dir = detail::create_store_dir("RocksDB", path); !dir) return dir.error();
    rocksdb::Options o;
    o.create_if_missing = true;
    using C = RocksDbOptions::Compression;
    switch (options.compression) {
      case C::none: o.compression = rocksdb::kNoCompression; break;
      case C::snappy: o.compression = rocksdb::kSnappyCompression; break;
      case C::lz4: o.compression = rocksdb::kLZ4Compression; break;
      case C::zstd: o.compression = rocksdb::kZSTD; break;
    }
    o.write_buffer_size = options.write_buffer_size;
    o.max_open_files = options.max_open_files;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_size);
    if (options.bloom_bits_per_key > 0)
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
    table.use_delta_encoding = false;  // so that pinned scans keep their keys (pin_data)
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    auto db = std::make_shared<Db>();
    db->path = path;
    db->write_options.sync = options.sync;
    rocksdb::DB* raw = nullptr;
    if (rocksdb::Status s = rocksdb::DB::Open(o, path.string(), &raw); !s.ok()) return db->fail(s, "cannot open");
    db->db.reset(raw);
    return RocksDbBackend(std::move(db));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists, with a view of the
  /// pinned value valid during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!db_) return closed();
    return db_->read(key, std::forward<F>(fn));
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if (!db_) return closed();
    std::shared_lock lock(db_->writers);
    rocksdb::Status s = db_->db->Put(db_->write_options, detail::rocks::slice(key), detail::rocks::slice(value));
    if (!s.ok()) return db_->fail(s, "cannot write to");
    return success();
  }

  Result<bool> erase(std::string_view key) {
    if (!db_) return closed();
    std::unique_lock lock(db_->writers);
    auto existed = db_->read(key, [](std::string_view) {});
    if (!existed || !existed.value()) return existed;
    rocksdb::Status s = db_->db->Delete(db_->write_options, detail::rocks::slice(key));
    if (!s.ok()) return db_->fail(s, "cannot delete from");
    return true;
  }

  /// Applies every operation of the batch, in order, as one atomic WriteBatch.
  Result<void> write(const WriteBatch& batch) {
    if (!db_) return closed();
    rocksdb::WriteBatch b;
    for (const auto& op : batch) {
      if (op.kind == WriteBatch::Kind::put) b.Put(detail::rocks::slice(op.key), detail::rocks::slice(op.value));
      else b.Delete(detail::rocks::slice(op.key));
    }
    std::shared_lock lock(db_->writers);
    return db_->apply(b);
  }

  /// The entries in `range`, as of now.
  Scan scan(const KeyRange& range) const {
    if (!db_) return Scan(closed());
    return Scan(db_, range);
  }

  /// Runs `fn(transaction&) -> Result<R>` holding the writer lock and commits its writes as
  /// one WriteBatch if it succeeds; returns fn's result unchanged (its error, or its value
  /// after the commit), or the commit's error.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if (!db_) return closed();
    std::unique_lock lock(db_->writers);
    transaction tx{Reader(db_)};
    auto result = std::invoke(fn, tx);
    if (!result) return result;
    rocksdb::WriteBatch b;
    for (const auto& [key, value] : tx.writes()) {
      if (value) b.Put(detail::rocks::slice(key), detail::rocks::slice(*value));
      else b.Delete(detail::rocks::slice(key));
    }
    if (auto applied = db_->apply(b); !applied) return applied.error();
    return result;
  }

  /// Writes an openable copy of the store as it is now to `dir` (which must not exist or be
  /// empty) through RocksDB's Checkpoint: table files are hard-linked when `dir` is on the same
  /// file system. Writes may continue meanwhile.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    if (!db_) return closed();
    if (auto ready = detail::prepare_checkpoint_dir(dir); !ready) return ready;
    std::error_code ec;
    std::filesystem::remove(dir, ec);  // Checkpoint creates the directory itself
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_->db.get(), &raw);
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    if (s.ok()) s = cp->CreateCheckpoint(std::filesystem::absolute(dir).string());
    if (!s.ok()) return detail::rocks::error(s, "cannot checkpoint " + db_->path.string() + " to", dir);
    return success();
  }

  /// Makes every write that returned durable: syncs the write-ahead log (for a store opened with
  /// sync=false, whose writes reach the OS but not the disk as they return).
  Result<void> sync() const {
    if (!db_) return closed();
    if (auto s = db_->db->SyncWAL(); !s.ok()) return detail::rocks::error(s, "cannot sync the log of", db_->path);
    return success();
  }

  /// The rocksdb::DB underneath, for what kvstack does not wrap (statistics, compaction).
  rocksdb::DB* db() const noexcept { return db_ ? db_->db.get() : nullptr; }

 private:
  explicit RocksDbBackend(std::shared_ptr<Db> db) : db_(std::move(db)) {}
  static Error closed() { return {errc::closed, "RocksDbBackend was moved from"}; }

  std::shared_ptr<Db> db_;
};

static_assert(check_backend<RocksDbBackend>() && Checkpointable<RocksDbBackend>);

}  // namespace kvstack
