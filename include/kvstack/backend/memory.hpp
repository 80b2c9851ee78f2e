// kvstack::MemoryBackend — the embedded default engine: an ordered in-memory store with
// snapshot scans and serializable transactions.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/cow_btree.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/detail/snapshot_file.hpp>

namespace kvstack::inline v0 {

/// An in-memory Backend ordered by unsigned bytes.
///
/// - Reads run in parallel; writes are serialized. A scan holds a snapshot (one reference-count
///   increment), so it sees the store as it was when it opened, its views stay valid while it
///   lives, and writing meanwhile — from any thread, including the scanning one — is fine: a
///   writer copies only the tree nodes the snapshot still shares.
/// - `transact` runs `fn` holding the writer lock, so it never conflicts and never retries; other
///   writers wait, readers do not. `fn` must not call this backend's own write functions (use
///   the transaction it is given).
/// - `checkpoint(dir)` writes a snapshot to a file (writes continue meanwhile);
///   `MemoryBackend::load(dir)` opens it as an independent store.
/// - Movable; a moved-from backend answers errc::closed.
/// - Out of memory, std::bad_alloc propagates as from any standard container; a batch or commit
///   it interrupts may be partly applied.
class MemoryBackend {
  using Tree = detail::CowBTree;

  struct State {
    mutable std::shared_mutex mu;  // readers shared, a writer applying changes exclusive
    std::mutex writer;             // serializes writers, held for a whole transaction
    Tree tree;
  };

 public:
  /// A scan over a snapshot.
  class Scan : public detail::ScanBase<Scan> {
   public:
    Scan(Tree::Snapshot snap, KeyRange range)
        : snap_(std::move(snap)), cursor_(snap_.root()), range_(std::move(range)), remaining_(range_.max_count()) {
      if (range_.is_empty()) return;
      if (!reverse_) cursor_.seek(range_.lower());
      else if (range_.upper()) cursor_.seek_before(*range_.upper());
      else cursor_.seek_last();
      plain_ = !reverse_ && remaining_ == KeyRange::unlimited;
      settle();
    }
    Scan(Scan&&) = default;  // only before begin(): iterators point at the range
    Scan& operator=(Scan&&) = default;

   private:
    friend class MemoryBackend;
    friend struct detail::ScanIterator<Scan>;
    explicit Scan(Error e) : cursor_(nullptr), remaining_(0) { error_ = std::move(e); }

    KeyValue current() const { return {cursor_.key(), cursor_.value()}; }
    bool done() const { return !has_current_; }

    bool in_range() {
      return cursor_.valid() && ((cursor_.leaf_id() == checked_leaf_ && leaf_inside_) || check_bound());
    }
    // Checks the cursor against the range's far bound, and whether its whole leaf is inside.
    bool check_bound() {
      if (cursor_.leaf_id() != checked_leaf_) {
        checked_leaf_ = cursor_.leaf_id();
        leaf_inside_ = reverse_ ? cursor_.leaf_front() >= range_.lower() : range_.below_upper(cursor_.leaf_back());
        if (leaf_inside_) return true;
      }
      return reverse_ ? cursor_.key() >= range_.lower() : range_.below_upper(cursor_.key());
    }
    // Moves to the next entry in scan order.
    void advance() {
      if (plain_) {  // forward and unlimited: the common case, kept short
        cursor_.next();
        has_current_ = in_range();
        return;
      }
      reverse_ ? cursor_.prev() : cursor_.next();
      settle();
    }
    void settle() {
      has_current_ = remaining_ != 0 && in_range();
      if (has_current_) --remaining_;
    }

    Tree::Snapshot snap_;
    Tree::Cursor cursor_;
    KeyRange range_;
    bool reverse_ = range_.is_reverse();
    bool plain_ = false;
    const void* checked_leaf_ = nullptr;
    bool leaf_inside_ = false;
    std::size_t remaining_;
    bool has_current_ = false;
  };

  /// Reads the committed state for a transaction (which holds the writer lock meanwhile).
  class Reader {
   public:
    explicit Reader(const State* state) : state_(state) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      const Tree::Entry* e = state_->tree.find(key);
      if (e) std::invoke(std::forward<F>(fn), e->value());
      return e != nullptr;
    }
    Scan scan(KeyRange range) const { return Scan(state_->tree.snapshot(), std::move(range)); }

   private:
    const State* state_;
  };
  /// What `transact` hands to `fn`: reads see the transaction's own writes; nothing is visible
  /// to others until `fn` returns success.
  using transaction = detail::BufferedTransaction<Reader>;

  MemoryBackend() : state_(std::make_unique<State>()) {}

  Result<std::optional<std::string>> get(std::string_view key) const {
    if (!state_) return closed();
    std::shared_lock lock(state_->mu);
    if (const Tree::Entry* e = state_->tree.find(key)) return std::optional<std::string>(e->value());
    return std::nullopt;
  }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists; the view is valid
  /// during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!state_) return closed();
    Tree::Pin e = [&] {
      std::shared_lock lock(state_->mu);
      return Tree::Pin(state_->tree.find(key));
    }();
    if (!e) return false;
    std::invoke(std::forward<F>(fn), e->value());
    return true;
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if (!state_) return closed();
    if (key.size() > Tree::max_key_size) return key_too_long(key);
    std::scoped_lock lock(state_->writer, state_->mu);
    state_->tree.assign(key, value);
    return success();
  }

  Result<bool> erase(std::string_view key) {
    if (!state_) return closed();
    std::scoped_lock lock(state_->writer, state_->mu);
    return state_->tree.erase(key);
  }

  /// Applies every operation of the batch, in order, at once: all of them or, if one cannot
  /// (std::bad_alloc, which then propagates), none.
  Result<void> write(const WriteBatch& batch) {
    if (!state_) return closed();
    for (const auto& op : batch)
      if (op.key.size() > Tree::max_key_size) return key_too_long(op.key);
    std::scoped_lock lock(state_->writer, state_->mu);
    state_->tree.apply(batch.size(), [&](Tree::Batch& b) {
      for (const auto& op : batch) {
        if (op.kind == WriteBatch::Kind::put) b.assign(op.key, op.value);
        else b.erase(op.key);
      }
    });
    return success();
  }

  /// The entries in `range`, over a snapshot taken now.
  Scan scan(KeyRange range) const {
    if (!state_) return Scan(closed());
    return Scan(snapshot(), std::move(range));
  }

  /// Runs `fn(transaction&) -> Result<R>` and commits its writes atomically if it succeeds;
  /// returns fn's result unchanged (its error, or its value after the commit).
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if (!state_) return closed();
    std::lock_guard writer(state_->writer);
    transaction tx(Reader(state_.get()));
    auto result = std::invoke(fn, tx);
    if (!result) return result;
    for (auto& [key, value] : tx.writes())
      if (key.size() > Tree::max_key_size) return key_too_long(key);
    std::unique_lock lock(state_->mu);
    state_->tree.apply(tx.writes().size(), [&](Tree::Batch& b) {
      for (auto& [key, value] : tx.writes()) {
        if (value) b.assign(key, *value);
        else b.erase(key);
      }
    });
    return result;
  }

  /// Writes the store as it is now to `dir/memory.snapshot` (atomically: a temporary file,
  /// fsync, rename); `dir` must not exist or be empty. Writes may continue meanwhile.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    if (!state_) return closed();
    Scan all = scan(KeyRange::all());
    return detail::write_scan_snapshot(dir, all);
  }

  /// Opens a checkpoint written by `checkpoint(dir)`: errc::io_error if it cannot be read,
  /// errc::corruption if its bytes do not check out.
  static Result<MemoryBackend> load(const std::filesystem::path& dir) {
    MemoryBackend db;
    auto read = detail::read_snapshot(dir, [&](std::string_view key, std::string_view value) {
      db.state_->tree.assign(key, value);
    });
    if (!read) return read.error();
    return db;
  }

 private:
  static Error closed() { return {errc::closed, "MemoryBackend was moved from"}; }
  static Error key_too_long(std::string_view key) {
    return {errc::invalid_argument, "MemoryBackend: a key of " + std::to_string(key.size()) + " bytes (keys are under 4 GiB)"};
  }
  Tree::Snapshot snapshot() const {
    std::shared_lock lock(state_->mu);
    return state_->tree.snapshot();
  }

  std::unique_ptr<State> state_;
};

static_assert(check_backend<MemoryBackend>() && Checkpointable<MemoryBackend>);

}  // namespace kvstack
