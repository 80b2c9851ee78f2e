// kvstack::sim::Disk<B> — a node's storage in a simulation: a Backend handle that copies share
// (so what a crashed node wrote is there when it restarts), whose commits since the last sync
// are lost, or the last of them torn, at a simulated crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/sim/rng.hpp>

namespace kvstack::inline v0::sim {

struct DiskOptions {
  /// Every commit is durable when it returns (an engine that syncs on commit). Otherwise
  /// commits wait for `sync()`, and `crash()` may lose them.
  bool sync_on_commit = true;
  /// At a crash, the last commit kept may be cut short (a prefix of its writes kept): an engine
  /// without atomic commits.
  bool tear = false;
};

/// A shared handle to one B: a simulation keeps one per node and hands a copy to each
/// incarnation of the node's shard. Writers are serialized by the disk.
template <class B>
class Disk {
  static_assert(check_backend<B>());

  struct Undo {  // a key and what it held before a write
    std::string key;
    std::optional<std::string> before;
  };
  struct State {
    explicit State(B b, DiskOptions o) : backend(std::move(b)), options(o) {}
    B backend;
    DiskOptions options;
    std::mutex writer;
    std::vector<std::vector<Undo>> unsynced;  // one list per commit, oldest first
    std::uint64_t commits = 0;                // every commit so far, lost ones included
  };
  class Reader {
   public:
    explicit Reader(const B* b) : b_(b) {}
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return b_->get(key, std::forward<F>(fn));
    }
    auto scan(const KeyRange& range) const { return b_->scan(range); }

   private:
    const B* b_;
  };

 public:
  using transaction = detail::BufferedTransaction<Reader>;

  explicit Disk(B backend, DiskOptions options = {}) : s_(std::make_shared<State>(std::move(backend), options)) {}

  Result<std::optional<std::string>> get(std::string_view key) const { return s_->backend.get(key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return s_->backend.get(key, std::forward<F>(fn));
  }
  auto scan(const KeyRange& range) const { return s_->backend.scan(range); }

  Result<void> put(std::string_view key, std::string_view value) { return write(WriteBatch{}.put(key, value)); }
  Result<bool> erase(std::string_view key) {
    std::lock_guard lock(s_->writer);
    auto existed = s_->backend.get(key, [](std::string_view) {});
    if (!existed || !existed.value()) return existed;
    if (auto r = commit(WriteBatch{}.erase(key)); !r) return r.error();
    return true;
  }
  Result<void> write(const WriteBatch& batch) {
    std::lock_guard lock(s_->writer);
    return commit(batch);
  }
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    std::lock_guard lock(s_->writer);
    transaction tx(Reader(&s_->backend));
    auto result = std::invoke(fn, tx);
    if (!result || tx.writes().empty()) return result;
    WriteBatch batch;
    for (const auto& [key, value] : tx.writes()) {
      if (value) batch.put(key, *value);
      else batch.erase(key);
    }
    if (auto r = commit(batch); !r) return r.error();
    return result;
  }

  /// How many commits were made so far (lost ones included), and how many of those were made
  /// before the last unsynced one: a commit numbered above `durable_commits()` may be lost.
  std::uint64_t commits() const {
    std::lock_guard lock(s_->writer);
    return s_->commits;
  }
  std::uint64_t durable_commits() const {
    std::lock_guard lock(s_->writer);
    return s_->commits - s_->unsynced.size();
  }

  /// Makes every commit so far durable.
  void sync() {
    std::lock_guard lock(s_->writer);
    s_->unsynced.clear();
  }
  /// A crash: a random number of the commits since the last sync are lost, newest first (with
  /// `tear`, the newest one kept may lose a suffix of its writes). Returns how many were touched.
  std::size_t crash(Rng& rng) {
    std::lock_guard lock(s_->writer);
    auto& commits = s_->unsynced;
    const std::size_t keep = static_cast<std::size_t>(rng.below(commits.size() + 1));
    std::size_t touched = commits.size() - keep;
    for (std::size_t i = commits.size(); i > keep; --i) undo(commits[i - 1], 0);
    if (s_->options.tear && keep > 0 && commits[keep - 1].size() > 1) {
      undo(commits[keep - 1], static_cast<std::size_t>(rng.between(1, commits[keep - 1].size() - 1)));
      ++touched;
    }
    commits.clear();
    return touched;
  }

  B& backend() noexcept { return s_->backend; }

 private:
  Result<void> commit(const WriteBatch& batch) {
    std::vector<Undo> undos;
    if (!s_->options.sync_on_commit) {
      std::map<std::string_view, std::optional<std::string>> now;  // the batch's own earlier writes
      for (const auto& op : batch) {
        auto it = now.find(op.key);
        if (it == now.end()) {
          auto stored = s_->backend.get(op.key);
          if (!stored) return stored.error();
          it = now.emplace(op.key, std::move(stored).value()).first;
        }
        undos.push_back({op.key, it->second});
        if (op.kind == WriteBatch::Kind::put) it->second = op.value;
        else it->second.reset();
      }
    }
    if (auto r = s_->backend.write(batch); !r) return r;
    ++s_->commits;
    if (!s_->options.sync_on_commit) s_->unsynced.push_back(std::move(undos));
    return success();
  }
  /// Undoes the writes of one commit from the `from`-th on, newest first.
  void undo(const std::vector<Undo>& undos, std::size_t from) {
    WriteBatch back;
    for (std::size_t i = undos.size(); i > from; --i) {
      const Undo& u = undos[i - 1];
      if (u.before) back.put(u.key, *u.before);
      else back.erase(u.key);
    }
    (void)s_->backend.write(back);
  }

  std::shared_ptr<State> s_;
};

}  // namespace kvstack::sim
