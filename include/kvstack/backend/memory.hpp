// kvstack::MemoryBackend — the embedded default engine: an ordered in-memory store with
// snapshot scans and serializable transactions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/cow_btree.hpp>
#include <kvstack/detail/snapshot_file.hpp>

namespace kvstack {

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
  using Overlay = std::vector<std::pair<std::string, std::optional<std::string>>>;

  struct State {
    mutable std::shared_mutex mu;  // readers shared, a writer applying changes exclusive
    std::mutex writer;             // serializes writers, held for a whole transaction
    Tree tree;
  };

 public:
  /// A scan over a snapshot; with an overlay (a transaction's own writes) merged in.
  class Scan {
   public:
    Scan(Tree::Snapshot snap, KeyRange range, Overlay overlay = {})
        : snap_(std::move(snap)), cursor_(snap_.root()), range_(std::move(range)),
          overlay_(std::move(overlay)), remaining_(range_.max_count()) {
      if (range_.is_empty()) {
        remaining_ = 0;
        return;
      }
      if (!range_.is_reverse()) cursor_.seek(range_.lower());
      else if (range_.upper()) cursor_.seek_before(*range_.upper());
      else cursor_.seek_last();
      plain_ = !reverse_ && range_.max_count() == KeyRange::unlimited && overlay_.empty();
      settle();
    }
    Scan(Scan&&) = default;  // only before begin(): iterators point at the range
    Scan& operator=(Scan&&) = default;

    struct iterator {
      using value_type = KeyValue;
      using difference_type = std::ptrdiff_t;
      Scan* scan;
      KeyValue operator*() const {
        return scan->from_base_ ? KeyValue{scan->cursor_.key(), scan->cursor_.value()} : scan->overlay_entry_;
      }
      iterator& operator++() {
        scan->fetch();
        return *this;
      }
      void operator++(int) { ++*this; }
      bool operator==(std::default_sentinel_t) const { return !scan->has_current_; }
    };
    iterator begin() { return {this}; }
    std::default_sentinel_t end() const { return {}; }
    /// Success unless the backend was moved from.
    Result<void> status() const {
      if (error_) return *error_;
      return success();
    }

   private:
    friend class MemoryBackend;
    explicit Scan(Error e) : cursor_(nullptr), remaining_(0), error_(std::move(e)) {}

    bool base_in_range() {
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
    // Moves past the current entry, then to the next one in scan order.
    void fetch() {
      if (plain_) {  // forward, unlimited, no overlay: the common case, kept short
        cursor_.next();
        has_current_ = base_in_range();
        return;
      }
      if (from_base_) advance_base();
      settle();
    }
    // Makes the entry under the cursor (or the next overlay entry) current, if one is left.
    void settle() {
      has_current_ = from_base_ = false;
      if (remaining_ == 0) return;
      if (overlay_.empty()) {
        if (!base_in_range()) return;
        from_base_ = true;
      } else if (!settle_merged()) {
        return;
      }
      has_current_ = true;
      --remaining_;
    }
    // The same with a transaction's writes merged in (they win on equal keys).
    bool settle_merged() {
      for (;;) {
        bool base = base_in_range();
        if (next_overlay_ == overlay_.size()) return from_base_ = base;
        auto& [key, value] = overlay_[next_overlay_];
        int order = base ? std::string_view(key).compare(cursor_.key()) : 0;
        if (reverse_) order = -order;
        if (base && order > 0) return from_base_ = true;
        if (base && order == 0) advance_base();
        ++next_overlay_;
        if (value) {  // not erased in the transaction
          overlay_entry_ = {key, *value};
          return true;
        }
      }
    }
    void advance_base() { reverse_ ? cursor_.prev() : cursor_.next(); }

    Tree::Snapshot snap_;
    Tree::Cursor cursor_;
    KeyRange range_;
    bool reverse_ = range_.is_reverse();
    bool plain_ = false;  // forward, unlimited, no overlay
    const void* checked_leaf_ = nullptr;
    bool leaf_inside_ = false;
    Overlay overlay_;
    std::size_t next_overlay_ = 0;
    std::size_t remaining_;
    KeyValue overlay_entry_;  // the current entry when it comes from the overlay
    bool from_base_ = false;  // the current entry is the one under the cursor
    bool has_current_ = false;
    std::optional<Error> error_;
  };

  /// What `transact` hands to `fn`: reads see the transaction's own writes; nothing is visible
  /// to others until `fn` returns success.
  class Transaction {
   public:
    Result<std::optional<std::string>> get(std::string_view key) const {
      if (auto it = writes_.find(key); it != writes_.end()) return it->second;
      if (const std::string* v = state_->tree.find(key)) return std::optional<std::string>(*v);
      return std::nullopt;
    }
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      auto it = writes_.find(key);
      const std::string* v = it == writes_.end() ? state_->tree.find(key) : it->second ? &*it->second : nullptr;
      if (!v) return false;
      std::invoke(std::forward<F>(fn), std::string_view(*v));
      return true;
    }
    Result<void> put(std::string_view key, std::string_view value) {
      writes_.insert_or_assign(std::string(key), std::optional<std::string>(value));
      return success();
    }
    Result<bool> erase(std::string_view key) {
      bool existed = get(key, [](std::string_view) {}).value();
      if (existed) writes_.insert_or_assign(std::string(key), std::nullopt);
      return existed;
    }
    Scan scan(const KeyRange& range) const {
      Overlay overlay;
      for (auto it = writes_.lower_bound(range.lower()); it != writes_.end() && range.contains(it->first); ++it)
        overlay.emplace_back(*it);
      if (range.is_reverse()) std::reverse(overlay.begin(), overlay.end());
      return Scan(state_->tree.snapshot(), range, std::move(overlay));
    }

   private:
    friend class MemoryBackend;
    explicit Transaction(State* state) : state_(state) {}
    State* state_;
    std::map<std::string, std::optional<std::string>, std::less<>> writes_;
  };
  using transaction = Transaction;

  MemoryBackend() : state_(std::make_unique<State>()) {}

  Result<std::optional<std::string>> get(std::string_view key) const {
    if (!state_) return closed();
    std::shared_lock lock(state_->mu);
    if (const std::string* v = state_->tree.find(key)) return std::optional<std::string>(*v);
    return std::nullopt;
  }

  /// Zero-copy read: `fn(std::string_view)` runs only if the key exists; the view is valid
  /// during the call. `fn` may write to this backend.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (!state_) return closed();
    Tree::Snapshot snap = snapshot();
    const std::string* v = Tree::find_in(snap.root(), key);
    if (!v) return false;
    std::invoke(std::forward<F>(fn), std::string_view(*v));
    return true;
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if (!state_) return closed();
    std::scoped_lock lock(state_->writer, state_->mu);
    state_->tree.assign(key, value);
    return success();
  }

  Result<bool> erase(std::string_view key) {
    if (!state_) return closed();
    std::scoped_lock lock(state_->writer, state_->mu);
    return state_->tree.erase(key);
  }

  /// Applies every operation of the batch, in order, at once.
  Result<void> write(const WriteBatch& batch) {
    if (!state_) return closed();
    std::scoped_lock lock(state_->writer, state_->mu);
    for (const auto& op : batch) {
      if (op.kind == WriteBatch::Kind::put) state_->tree.assign(op.key, op.value);
      else state_->tree.erase(op.key);
    }
    return success();
  }

  /// The entries in `range`, over a snapshot taken now.
  Scan scan(KeyRange range) const {
    if (!state_) return Scan(closed());
    return Scan(snapshot(), std::move(range));
  }

  /// Runs `fn(Transaction&) -> Result<R>` and commits its writes atomically if it succeeds;
  /// returns fn's result unchanged (its error, or its value after the commit).
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, Transaction&> {
    if (!state_) return closed();
    std::lock_guard writer(state_->writer);
    Transaction tx(state_.get());
    auto result = std::invoke(fn, tx);
    if (!result) return result;
    std::unique_lock lock(state_->mu);
    for (auto& [key, value] : tx.writes_) {
      if (value) state_->tree.assign(key, *value);
      else state_->tree.erase(key);
    }
    return result;
  }

  /// Writes the store as it is now to `dir/memory.snapshot` (atomically: a temporary file,
  /// fsync, rename); `dir` must not exist or be empty. Writes may continue meanwhile.
  Result<void> checkpoint(const std::filesystem::path& dir) const {
    if (!state_) return closed();
    Scan all = scan(KeyRange::all());
    auto it = all.begin();
    return detail::write_snapshot(dir, [&](std::string_view& key, std::string_view& value) {
      if (it == all.end()) return false;
      KeyValue entry = *it;
      key = entry.key;
      value = entry.value;
      ++it;
      return true;
    });
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
  Tree::Snapshot snapshot() const {
    std::shared_lock lock(state_->mu);
    return state_->tree.snapshot();
  }

  std::unique_ptr<State> state_;
};

static_assert(check_backend<MemoryBackend>() && Checkpointable<MemoryBackend>);

}  // namespace kvstack
