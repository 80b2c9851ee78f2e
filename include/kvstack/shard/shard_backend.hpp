// kvstack::Shard<Log, App, Policy> — a Backend whose writes travel through a replication policy:
// reads go to App, writes become commands the policy orders and the shard applies exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
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

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/detail/snapshot_file.hpp>
#include <kvstack/detail/stripped_scan.hpp>
#include <kvstack/shard/apply.hpp>
#include <kvstack/shard/log.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/snapshot_stream.hpp>

namespace kvstack::inline v0 {

namespace detail {
/// The user's data in a replicated shard's App, as a transaction reader: keys behind
/// AppLayout::data.
template <class App>
class ShardReader {
 public:
  explicit ShardReader(const App* app) : app_(app) {}
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    std::string buf;
    return app_->get(AppLayout::data_key(key, buf), std::forward<F>(fn));
  }
  auto scan(const KeyRange& range, std::optional<Error> failed = std::nullopt) const {
    static constexpr char prefix = AppLayout::data;
    const KeyRange data = range.within({&prefix, 1});
    return StrippedScan(app_->scan(failed ? data.limit(0) : data), 1, std::move(failed));
  }

 private:
  const App* app_;
};

/// A write proposed and not yet applied: its value (empty: an erase) and its entry.
struct PendingWrite {
  std::optional<std::string> value;
  std::uint64_t index = 0, term = 0;
};
/// The latest pending write of each user key.
using PendingWrites = std::map<std::string, PendingWrite, std::less<>>;
/// The newest pending entry a transaction read from.
struct ReadFrom {
  std::uint64_t index = 0, term = 0;
  void saw(const PendingWrite& w) {
    if (w.index > index) index = w.index, term = w.term;
  }
};

/// What a replicated shard's transactions read: the App as applied, with the writes proposed on
/// top (a transaction's command follows them in the log, so it must see them).
template <class App>
class PendingReader {
 public:
  PendingReader(const App* app, const PendingWrites* pending, ReadFrom* read_from)
      : app_(app), pending_(pending), read_from_(read_from) {}
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if (auto it = pending_->find(key); it != pending_->end()) {
      read_from_->saw(it->second);
      if (!it->second.value) return false;
      std::invoke(std::forward<F>(fn), std::string_view(*it->second.value));
      return true;
    }
    return ShardReader<App>(app_).get(key, std::forward<F>(fn));
  }
  auto scan(const KeyRange& range) const {
    auto overlay = overlay_in(*pending_, range, [&](const PendingWrite& w) {
      read_from_->saw(w);
      return w.value;
    });
    auto base = ShardReader<App>(app_).scan(base_range(range, overlay));  // before overlay moves
    return MergedScan(std::move(base), range, std::move(overlay));
  }

 private:
  const App* app_;
  const PendingWrites* pending_;
  ReadFrom* read_from_;
};

template <class Policy>
concept AppliesDirectly = requires {
  requires Policy::applies_directly;
};
}  // namespace detail

/// Tuning of a replicated shard.
struct ShardOptions {
  /// How long a write waits for its policy to apply it before it fails with errc::timeout (its
  /// outcome is then unknown: it may still apply); also how long a read waits for its barrier.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  /// The largest snapshot chunk sent to a peer, in bytes.
  std::size_t max_chunk_bytes = std::size_t{1} << 20;
  /// Ticks without an answer after which a snapshot chunk is sent again.
  std::uint64_t snapshot_retry_ticks = 4;
  /// Serve reads from this replica's App without a read barrier, for a linearizable policy
  /// (Raft): reads then work on followers too, and may be stale. Transactions still pass one.
  bool stale_reads = false;
  /// Whether App's commits are durable as they return (an engine opened with sync, the
  /// default). false (an engine opened with sync=false, for a policy that keeps a log): the
  /// shard syncs App every `app_sync_ticks` ticks and before the log drops entries, and the log
  /// keeps what App has not synced — a commit then costs the log's sync only.
  bool app_commits_durable = true;
  std::uint64_t app_sync_ticks = 1;  ///< how often App is synced then, in ticks
};

/// A write or read started without waiting (`start_put`, `start_transact`, `start_read`), to
/// `poll` or `wait` for.
struct ShardTicket {
  enum class Kind : unsigned char {
    done,   ///< nothing to wait for
    entry,  ///< the log entry (index, term) must apply
    read,   ///< read barrier `id` must pass
  };
  Kind kind = Kind::done;
  std::uint64_t index = 0, term = 0, id = 0;
  /// An entry: one a read-only transaction read from (not its own); if another leader's entry
  /// replaces it, the transaction should run again.
  bool read_from = false;
};

/// A shard: the application data `App` (any Backend), the replication log `Log` (a LogStorage,
/// or NoLog) and the policy that orders writes. It is itself a Backend: reads go to App, writes
/// (put, erase, write, and the writes of a transaction) become one command each, which the
/// policy replicates and the shard applies to App together with the applied index, so that a
/// crash never applies an entry twice or skips one. A write returns once its own entry applied
/// here; if another leader's entry took its place, it fails with errc::not_leader.
///
/// With a linearizable policy (Raft), reads pass a read barrier first (unless
/// ShardOptions::stale_reads), and a transaction reads after one, over the App and the writes
/// proposed before it; what it read is what its command applies over, so it never conflicts.
///
/// `Shard<NoLog, App, NoReplication>` writes to App directly and stores App's keys unchanged.
/// Any other shard stores user data under a one-byte prefix next to its applied mark (see
/// detail::AppLayout); its runner moves messages: `step(message)` for each one received,
/// `tick()` on its clock, `take_messages()` for those to send.
///
/// Thread-safe: reads run in parallel and never wait for the policy; writes and the runner's
/// calls are serialized, and writes that queue up meanwhile commit together (group commit).
template <class Log, Backend App, class Policy>
class Shard {
  static_assert(check_replication_policy<Policy, std::conditional_t<LogStorage<Log>, Log, detail::LogProbe>>());
  static_assert(!Policy::needs_log || LogStorage<Log>,
                "kvstack::Shard: this replication policy needs a log: give it a LogStorage such as BackendLog<B>, not NoLog");
  static constexpr bool direct = detail::AppliesDirectly<Policy>;
  static constexpr bool runnable = !Policy::needs_log || LogStorage<Log>;
  static constexpr bool has_barrier = requires(Policy& p, Log& l, std::uint64_t id) {
    { p.read(l, id) } -> std::same_as<Result<void>>;
  };

 public:
  /// Scans read the App: a snapshot when its scans are.
  static constexpr bool snapshot_scans = snapshot_scans_v<App>;

  using transaction =
      std::conditional_t<direct, typename App::transaction, detail::BufferedTransaction<detail::PendingReader<App>>>;
  using Ticket = ShardTicket;

  /// Takes its parts; a replicated shard reads App's applied index and starts the policy from
  /// it (re-applying what its log holds beyond it). Throws std::system_error if that fails; use
  /// `open` to get the error as a value.
  Shard(Log log, App app, Policy policy, ShardOptions options = {})
      : Shard(Unstarted{}, std::move(log), std::move(app), std::move(policy), options) {
    if constexpr (!direct && runnable) start().value();
  }

  /// As the constructor, with a failed recovery as an error.
  static Result<Shard> open(Log log, App app, Policy policy, ShardOptions options = {}) {
    Shard s(Unstarted{}, std::move(log), std::move(app), std::move(policy), options);
    if constexpr (!direct && runnable)
      if (auto r = s.start(); !r) return r.error();
    return s;
  }

  Log& log() noexcept { return log_; }
  const Log& log() const noexcept { return log_; }
  App& app() noexcept { return app_; }
  const App& app() const noexcept { return app_; }
  Policy& policy() noexcept { return policy_; }
  const Policy& policy() const noexcept { return policy_; }

  /// Role, term, leader, commit and applied index, and each peer's lag.
  ShardStatus status() const {
    if constexpr (direct) {
      return policy_.status();
    } else {
      std::lock_guard lock(sync_->mu);
      return policy_.status();
    }
  }

  /// Waits until `n` peers have acknowledged `index` or `timeout` passes; returns how many have
  /// (Redis's WAIT). For policies that count acknowledgements (AsyncPrimaryBackup).
  std::size_t wait_replicated(std::uint64_t index, std::size_t n, std::chrono::milliseconds timeout) const
    requires requires(const Policy& p) { p.acknowledged(index); }
  {
    std::unique_lock lock(sync_->mu);
    sync_->progress.wait_for(lock, timeout, [&] { return policy_.acknowledged(index) >= n; });
    return policy_.acknowledged(index);
  }

  /// Makes this replica the primary or leader, for policies with a manual failover
  /// (AsyncPrimaryBackup::promote).
  Result<void> promote()
    requires requires(Policy& p, Log& l) { p.promote(l); }
  {
    return with_policy([](Policy& p, Log& l) { return p.promote(l); });
  }

  Result<std::optional<std::string>> get(std::string_view key) const {
    if constexpr (direct) return app_.get(key);
    else return detail::copy_get(*this, key);
  }
  /// Zero-copy read: `fn(std::string_view)` runs if the key exists; `fn` may write to the shard.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    if constexpr (direct) {
      return app_.get(key, std::forward<F>(fn));
    } else {
      if (auto b = barrier(); !b) return b.error();
      return reader().get(key, std::forward<F>(fn));
    }
  }
  /// The entries in `range`, over a snapshot of App taken now (after a read barrier; if it
  /// fails, the scan yields nothing and status() says why).
  auto scan(const KeyRange& range) const {
    if constexpr (direct) {
      return app_.scan(range);
    } else {
      auto b = barrier();
      return reader().scan(range, b ? std::nullopt : std::optional<Error>(b.error()));
    }
  }
  /// Reads this replica's App without a read barrier: possibly stale, on any replica.
  Result<std::optional<std::string>> get_local(std::string_view key) const requires(!direct) {
    return detail::copy_get(reader(), key);
  }

  Result<void> put(std::string_view key, std::string_view value) {
    if constexpr (direct) {
      return app_.put(key, value);
    } else {
      detail::CommandWriter w;
      w.put(key, value);
      return submit(std::move(w).take());
    }
  }
  Result<bool> erase(std::string_view key) {
    if constexpr (direct) return app_.erase(key);
    else return transact([&](transaction& tx) { return tx.erase(key); });
  }
  /// Applies the batch as one command: all of it or none.
  Result<void> write(const WriteBatch& batch) {
    if constexpr (direct) return app_.write(batch);
    else return submit(command_of(batch));
  }
  /// Runs `fn(transaction&) -> Result<R>`; its writes become one command. It reads the App with
  /// the writes proposed before it, and writers are held off meanwhile, so what fn read is what
  /// the command applies over. With a linearizable policy it reads after a read barrier, or at
  /// once on a leader that is up to date (see try_start_transact).
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    if constexpr (direct) {
      return app_.transact(std::forward<F>(fn));
    } else {
      for (;;) {
        auto attempt = try_start_transact(fn);
        const bool confirmed = !attempt;  // a barrier passed before fn read
        if (!attempt) {
          if (auto b = barrier(Barrier::always); !b) return b.error();
          attempt.emplace(start_transact(fn));
        }
        auto& [result, ticket] = *attempt;
        if (!result) return std::move(result);
        if (!confirmed && !writes(ticket))
          if (auto b = barrier(Barrier::always); !b) return b.error();
        auto done = wait(ticket);
        if (done) return std::move(result);
        if (!(ticket.read_from && done.error().code() == errc::not_leader)) return done.error();
        // What it read was replaced by another leader's entries: run it again.
      }
    }
  }

  /// Starts `put` without waiting: the ticket to poll or wait for (then the put has applied).
  Result<Ticket> start_put(std::string_view key, std::string_view value) requires(!direct) {
    detail::CommandWriter w;
    w.put(key, value);
    return start_command(std::move(w).take());
  }
  /// Starts `write` without waiting.
  Result<Ticket> start_write(const WriteBatch& batch) requires(!direct) { return start_command(command_of(batch)); }
  /// Starts a read barrier without waiting; once its ticket is done, reads of this replica's
  /// App (`get_local`) are linearizable. Errors: errc::not_leader on a follower.
  Result<Ticket> start_read() requires(!direct) {
    if constexpr (!has_barrier) {
      return Ticket{};
    } else {
      std::lock_guard lock(sync_->mu);
      const std::uint64_t id = ++reads_started_;
      {
        std::lock_guard queue(sync_->queue_mu);
        sync_->reads[id];
      }
      if (auto r = policy_.read(log_, id); !r) {
        std::lock_guard queue(sync_->queue_mu);
        sync_->reads.erase(id);
        return r.error();
      }
      if (auto r = process(); !r) return r.error();
      return Ticket{.kind = Ticket::Kind::read, .id = id};
    }
  }
  /// Runs `fn` as `transact` does, without a barrier of its own (start one with `start_read`
  /// and wait for it first) and without waiting: returns fn's result and the ticket its command
  /// (or, if it wrote nothing, the pending writes it read) must apply at.
  template <class F>
  auto start_transact(F&& fn) -> std::pair<std::invoke_result_t<F&, transaction&>, Ticket> requires(!direct) {
    std::unique_lock lock(sync_->mu);
    return start_transact_locked(fn);
  }
  /// As start_transact, but without a barrier, on a leader that is up to date: one whose log is
  /// all applied but for its own proposals (the policy's `leads_up_to_date`); nullopt, without
  /// running fn, on any other replica (then pass a barrier and call start_transact). What fn read
  /// is the state its command applies over, and the command commits only if the leadership held.
  /// If fn wrote nothing (`!writes(ticket)`), what it read may be returned only after a barrier
  /// started once it returned (start_read) has passed, and its ticket is done.
  template <class F>
  auto try_start_transact(F&& fn) -> std::optional<std::pair<std::invoke_result_t<F&, transaction&>, Ticket>> requires(!direct) {
    if constexpr (requires { policy_.leads_up_to_date(); }) {
      std::unique_lock lock(sync_->mu);
      if (policy_.leads_up_to_date()) return start_transact_locked(fn);
    }
    return std::nullopt;
  }
  /// Whether the ticket of a transaction is its own command (it wrote), not what it read from.
  static bool writes(const Ticket& ticket) noexcept { return ticket.kind == Ticket::Kind::entry && !ticket.read_from; }

  /// Whether `ticket` is done: nullopt while it is not; its outcome once it is.
  std::optional<Result<void>> poll(const Ticket& ticket) requires(!direct) {
    std::lock_guard queue(sync_->queue_mu);
    return outcome(ticket);
  }
  /// Waits for `ticket` (up to the write timeout).
  Result<void> wait(const Ticket& ticket) requires(!direct) {
    std::unique_lock queue(sync_->queue_mu);
    std::optional<Result<void>> done;
    if (sync_->queue_changed.wait_for(queue, options_.write_timeout, [&] { return (done = outcome(ticket)).has_value(); }))
      return *done;
    if (ticket.kind == Ticket::Kind::read) sync_->reads.erase(ticket.id);
    return Error{errc::timeout, ticket.kind == Ticket::Kind::read
                                    ? "shard: the read barrier did not pass within " + std::to_string(options_.write_timeout.count()) + " ms"
                                    : "shard: entry " + std::to_string(ticket.index) + " was not applied within " +
                                          std::to_string(options_.write_timeout.count()) + " ms; its outcome is unknown (it may still apply)"};
  }

  /// Writes a snapshot of the shard (its data and the index it has applied) to `dir`, which must
  /// not exist or be empty: App's checkpoint when App is Checkpointable (hard links on RocksDB,
  /// a compacting copy on LMDB, the snapshot file on MemoryBackend), else the snapshot file of a
  /// scan. Returns the index and term it covers.
  Result<SnapshotMeta> create_snapshot(const std::filesystem::path& dir) const requires(!direct) {
    std::lock_guard lock(sync_->mu);  // no entry applies meanwhile: the mark matches the data
    auto mark = detail::read_mark(app_);
    if (!mark) return mark.error();
    if (mark.value().restoring) return Error{errc::busy, "shard: cannot snapshot while restoring a snapshot"};
    Result<void> wrote = success();
    if constexpr (Checkpointable<App>) {
      wrote = app_.checkpoint(dir);
    } else {
      auto all = app_.scan(KeyRange::all());
      wrote = detail::write_scan_snapshot(dir, all);
    }
    if (!wrote) return wrote.error();
    return SnapshotMeta{mark.value().index, mark.value().term, membership_at(mark.value().index)};
  }

  /// Replaces App's contents with the snapshot in `dir` (from create_snapshot: the snapshot
  /// file, or a checkpoint of App's engine, opened with `App::open(dir)`), in one transaction
  /// (the snapshot is read into memory first), and starts the policy again from the snapshot's
  /// applied index. Returns that index and term.
  Result<SnapshotMeta> restore_from_snapshot(const std::filesystem::path& dir) requires(!direct) {
    std::lock_guard lock(sync_->mu);
    std::vector<std::pair<std::string, std::string>> entries;
    if (std::filesystem::exists(dir / detail::snapshot_name)) {
      auto read = detail::read_snapshot(dir, [&](std::string_view k, std::string_view v) { entries.emplace_back(k, v); });
      if (!read) return read.error();
    } else if constexpr (requires { { App::open(dir) } -> std::same_as<Result<App>>; }) {
      auto source = App::open(dir);
      if (!source) return source.error();
      auto all = source.value().scan(KeyRange::all());
      for (auto&& [k, v] : all) entries.emplace_back(k, v);
      if (auto st = all.status(); !st) return st.error();
    } else {
      return Error{errc::invalid_argument, "shard: " + dir.string() + " holds no snapshot this App can read"};
    }
    auto replaced = app_.transact([&](auto& tx) -> Result<void> {
      std::vector<std::string> old;
      {
        auto all = tx.scan(KeyRange::all());
        for (auto&& [k, v] : all) old.emplace_back(k);
        if (auto st = all.status(); !st) return st;
      }
      for (const auto& k : old)
        if (auto r = tx.erase(k); !r) return r.error();
      for (const auto& [k, v] : entries)
        if (auto r = tx.put(k, v); !r) return r;
      return success();
    });
    if (!replaced) return replaced.error();
    auto mark = detail::read_mark(app_);
    if (!mark) return mark.error();
    const SnapshotMeta meta{mark.value().index, mark.value().term, {}};
    if (auto r = install_in_log(meta); !r) return r.error();
    receiver_.abandon();
    if (auto r = start_locked(); !r) return r.error();
    return meta;
  }

  /// Runner: a message from a peer.
  Result<void> step(Message message) requires(!direct) {
    std::unique_lock lock(sync_->mu);
    if (message.type == MessageType::snapshot_chunk) return receive_chunk(std::move(message));
    if (message.type == MessageType::snapshot_response) return chunk_answered(message);
    if (auto r = policy_.step(log_, std::move(message)); !r) return r;
    auto r = process();
    sync_->progress.notify_all();
    return r;
  }
  /// Runner: one unit of time has passed.
  Result<void> tick() requires(!direct) {
    std::unique_lock lock(sync_->mu);
    if (++ticks_ % std::max<std::uint64_t>(options_.app_sync_ticks, 1) == 0)
      if (auto r = sync_app(); !r) return r;
    if (auto r = policy_.tick(log_); !r) return r;
    for (auto& [peer, sender] : senders_)
      if (++sender.idle_ticks >= options_.snapshot_retry_ticks) {
        sender.idle_ticks = 0;
        sync_->outbox.push_back(sender.chunk);  // the last chunk again: it or its answer was lost
      }
    return process();
  }
  /// Runner: the messages to send since the last call.
  std::vector<Message> take_messages() requires(!direct) {
    std::lock_guard lock(sync_->mu);
    return std::exchange(sync_->outbox, {});
  }
  /// Sets what the shard calls when it has queued messages to send: a runner's way to be woken
  /// at once, instead of at its next poll, when a writer or a read barrier has something to send
  /// (ReplicaRunner sets it). `wake` runs with the shard locked, and must not call the shard.
  void on_outbox(std::function<void()> wake) requires(!direct) {
    std::lock_guard lock(sync_->mu);
    sync_->wake = std::move(wake);
  }
  /// Calls `fn(policy&, log&)` with the writers held off, then acts on what the policy asks
  /// (as after a step): for a policy's own operations, such as AsyncPrimaryBackup::promote or
  /// Raft::transfer_leadership.
  template <class F>
  auto with_policy(F&& fn) -> Result<void> requires(!direct) {
    std::unique_lock lock(sync_->mu);
    if (Result<void> r = std::invoke(fn, policy_, log_); !r) return r;
    return process();
  }

 private:
  /// A write waiting in the queue: the entry its command got once proposed, or why it failed.
  struct Proposal {
    std::optional<Result<std::uint64_t>> index;
    std::uint64_t term = 0;
  };
  /// A read barrier asked of the policy: its answer, once given.
  struct ReadWait {
    bool answered = false;
    ReadState state{};
  };
  struct Sync {
    mutable std::mutex mu;  // the policy, the log, App's writes, the pending writes and the outbox
    std::condition_variable progress;
    std::vector<Message> outbox;
    // Writers queue here, never waiting for mu while another writer commits (lock order: mu,
    // then queue_mu).
    std::mutex queue_mu;
    std::condition_variable queue_changed;
    std::vector<std::string> queued;
    std::vector<Proposal*> proposals;  // one per queued command, in the same order
    bool leading = false;              // a writer is proposing a batch
    std::uint64_t applied = 0;         // the shard's applied index, as writers see it
    // The terms of the entries applied lately (from index recent_first on), so that a writer
    // tells its entry from another leader's at the same index.
    std::deque<std::uint64_t> recent_terms;
    std::uint64_t recent_first = 1;
    std::map<std::uint64_t, ReadWait> reads;  // read barriers in progress, by id
    std::atomic<std::thread::id> transacting{};  // the thread running a transaction's function
    std::function<void()> wake;                  // tells the runner that the outbox has messages
  };
  static constexpr std::size_t max_recent_terms = std::size_t{1} << 16;
  struct Unstarted {};
  Shard(Unstarted, Log log, App app, Policy policy, ShardOptions options)
      : log_(std::move(log)), app_(std::move(app)), policy_(std::move(policy)), options_(options),
        sync_(direct ? nullptr : std::make_unique<Sync>()) {}

  detail::ShardReader<App> reader() const { return detail::ShardReader<App>(&app_); }
  static std::string command_of(const WriteBatch& batch) {
    detail::CommandWriter w;
    for (const auto& op : batch) {
      if (op.kind == WriteBatch::Kind::put) w.put(op.key, op.value);
      else w.erase(op.key);
    }
    return std::move(w).take();
  }

  enum class Barrier : bool { unless_stale_reads, always };
  /// A read barrier, for a linearizable policy (a transaction's, even if reads may be stale).
  Result<void> barrier(Barrier when = Barrier::unless_stale_reads) const {
    if constexpr (has_barrier) {
      // A read of the shard inside its own transaction (which passed a barrier) reads the App.
      if ((options_.stale_reads && when == Barrier::unless_stale_reads) || sync_->transacting.load() == std::this_thread::get_id())
        return success();
      auto self = const_cast<Shard*>(this);  // the policy's read state is guarded by mu, as any write
      auto ticket = self->start_read();
      if (!ticket) return ticket.error();
      return self->wait(ticket.value());
    } else {
      return success();
    }
  }

  /// start_transact's work, with mu held.
  template <class F>
  auto start_transact_locked(F& fn) -> std::pair<std::invoke_result_t<F&, transaction&>, Ticket> {
    if (auto r = forget_replaced_writes(); !r) return {r.error(), Ticket{}};
    detail::ReadFrom read_from;
    transaction tx(detail::PendingReader<App>(&app_, &pending_, &read_from));
    struct Running {  // marks this thread as running a transaction's function, even if it throws
      std::atomic<std::thread::id>& who;
      explicit Running(std::atomic<std::thread::id>& w) : who(w) { who = std::this_thread::get_id(); }
      ~Running() { who = std::thread::id{}; }
    };
    auto result = [&] {
      Running running(sync_->transacting);
      return std::invoke(fn, tx);
    }();
    if (!result) return {std::move(result), Ticket{}};
    if (tx.writes().empty()) {
      if (read_from.index <= applied_) return {std::move(result), Ticket{}};
      return {std::move(result), Ticket{.kind = Ticket::Kind::entry, .index = read_from.index, .term = read_from.term, .read_from = true}};
    }
    detail::CommandWriter w;
    for (const auto& [key, value] : tx.writes()) {
      if (value) w.put(key, *value);
      else w.erase(key);
    }
    auto ticket = propose_now(std::move(w).take());
    if (!ticket) return {ticket.error(), Ticket{}};
    return {std::move(result), ticket.value()};
  }

  Result<void> start() {
    std::lock_guard lock(sync_->mu);
    return start_locked();
  }
  Result<void> start_locked() {
    auto mark = detail::read_mark(app_);
    if (!mark) return mark.error();
    if (mark.value().restoring) {  // a snapshot was cut short: start empty
      if (auto r = detail::reset_app(app_); !r) return r;
      mark.value() = {};
    }
    applied_ = mark.value().index;
    applied_jumped();
    if (auto r = policy_.start(log_, applied_, mark.value().term); !r) return r;
    if (!options_.app_commits_durable) {
      if constexpr (!requires { policy_.durable(applied_); })
        return Error{errc::invalid_argument, "shard: this policy needs an App whose commits are durable"};
      synced_ = ~applied_;
      if (auto r = sync_app(); !r) return r;
    }
    return process();
  }

  /// For an App whose commits are not durable as they return: syncs what it applied, and tells
  /// the policy the log may drop entries up to there.
  Result<void> sync_app() {
    if (options_.app_commits_durable || synced_ == applied_) return success();
    if (auto r = detail::sync_app(app_); !r) return r;
    synced_ = applied_;
    if constexpr (requires { policy_.durable(applied_); }) policy_.durable(applied_);
    return success();
  }

  /// Group commit: a writer queues its command; if no other writer is proposing, it proposes
  /// everything queued by then as one batch (one log append, one App transaction), else it waits
  /// for the writer that is. Then it waits for its entry to apply.
  Result<void> submit(std::string command) {
    Proposal mine;
    std::unique_lock queue(sync_->queue_mu);
    enqueue(std::move(command), mine);
    while (!mine.index) {
      if (!sync_->leading) lead(queue);
      else sync_->queue_changed.wait(queue);
    }
    queue.unlock();
    if (!*mine.index) return mine.index->error();
    return wait(Ticket{.kind = Ticket::Kind::entry, .index = mine.index->value(), .term = mine.term});
  }
  /// Proposes `command` now, with the writes queued meanwhile after it.
  Result<Ticket> start_command(std::string command) {
    std::lock_guard lock(sync_->mu);
    return propose_now(std::move(command));
  }
  /// With mu held.
  Result<Ticket> propose_now(std::string command) {
    Proposal mine;
    Batch batch;
    {
      std::lock_guard queue(sync_->queue_mu);
      enqueue(std::move(command), mine);
      batch = take_queue();
    }
    propose_batch(std::move(batch));
    if (!*mine.index) return mine.index->error();
    return Ticket{.kind = Ticket::Kind::entry, .index = mine.index->value(), .term = mine.term};
  }
  /// Commands taken from the queue, with their writers.
  struct Batch {
    std::vector<std::string> commands;
    std::vector<Proposal*> proposals;
  };
  /// With queue_mu held.
  void enqueue(std::string command, Proposal& p) {
    sync_->queued.push_back(std::move(command));
    sync_->proposals.push_back(&p);
  }
  /// With queue_mu held.
  Batch take_queue() { return {std::exchange(sync_->queued, {}), std::exchange(sync_->proposals, {})}; }
  /// Proposes the queue as one batch, `queue` (held on entry and on return) released meanwhile.
  void lead(std::unique_lock<std::mutex>& queue) {
    sync_->leading = true;
    Batch batch = take_queue();
    queue.unlock();
    auto done = [&] {
      queue.lock();
      sync_->leading = false;
      sync_->queue_changed.notify_all();
    };
    try {
      std::lock_guard lock(sync_->mu);
      propose_batch(std::move(batch));
    } catch (...) {
      done();
      throw;
    }
    done();
  }
  /// With mu held (queue_mu not): proposes `batch` and tells its writers their entries.
  void propose_batch(Batch batch) {
    if (batch.commands.empty()) return;
    auto answer = [&](const Result<std::uint64_t>& first, std::uint64_t term) {
      std::lock_guard queue(sync_->queue_mu);
      for (std::size_t i = 0; i < batch.proposals.size(); ++i) {
        batch.proposals[i]->index = first ? Result<std::uint64_t>(first.value() + i) : first.error();
        batch.proposals[i]->term = term;
      }
      sync_->queue_changed.notify_all();
    };
    try {
      auto first = propose_locked(std::move(batch.commands));
      answer(first, first ? policy_term() : 0);
    } catch (...) {  // the writers learn that the batch's outcome is unknown
      answer(Error{errc::io_error, "shard: proposing a batch of writes threw; their outcome is unknown"}, 0);
      throw;
    }
  }
  /// With mu held: proposes `commands` and acts on them; returns the index of the first. The
  /// writes not applied by then become pending writes, for transactions to read.
  Result<std::uint64_t> propose_locked(std::vector<std::string> commands) {
    std::vector<std::string> kept;  // only a consensus policy applies a proposal later than at once
    if constexpr (Policy::consistency == Consistency::linearizable) kept = commands;
    auto first = policy_.propose(log_, std::move(commands));
    if (!first) return first;
    if (auto r = process(); !r) return r.error();
    const std::uint64_t term = policy_term();
    for (std::size_t i = 0; i < kept.size(); ++i) {
      const std::uint64_t index = first.value() + i;
      if (index <= applied_) continue;
      auto noted = detail::for_each_write(kept[i], index, [&](std::string_view k, std::optional<std::string_view> v) {
        auto& w = pending_[std::string(k)];
        w.value = v ? std::optional<std::string>(*v) : std::nullopt;
        w.index = index;
        w.term = term;
        return success();
      });
      if (!noted) return noted.error();
    }
    return first;
  }
  /// With mu held: forgets the pending writes whose entries the log no longer holds (another
  /// leader's entries replaced them), so that no transaction reads a write that never applies.
  /// An entry of the member's current term is never replaced: that takes a leader of a later one.
  /// One the log was compacted past is in the App already.
  Result<void> forget_replaced_writes() {
    if constexpr (LogStorage<Log>) {
      const std::uint64_t term = policy_term();
      auto first = log_.first_index();
      if (!first) return first.error();
      auto last = log_.last_index();
      if (!last) return last.error();
      for (auto it = pending_.begin(); it != pending_.end();) {
        const auto& w = it->second;
        bool held = w.term == term;
        if (!held && w.index >= first.value() && w.index <= last.value()) {
          auto t = log_.term(w.index);
          if (!t) return t.error();
          held = t.value() == w.term;
        }
        it = held ? std::next(it) : pending_.erase(it);
      }
    }
    return success();
  }
  std::uint64_t policy_term() const {
    if constexpr (requires { { policy_.term() } -> std::convertible_to<std::uint64_t>; }) return policy_.term();
    else return policy_.status().term;
  }
  std::string membership_at(std::uint64_t index) const {
    if constexpr (requires { { policy_.membership_at(index) } -> std::convertible_to<std::string>; })
      return policy_.membership_at(index);
    else return {};
  }

  /// With queue_mu held: the outcome of `t`, once known.
  std::optional<Result<void>> outcome(const Ticket& t) {
    switch (t.kind) {
      case Ticket::Kind::done: return success();
      case Ticket::Kind::read: {
        auto it = sync_->reads.find(t.id);
        if (it == sync_->reads.end()) return Error{errc::invalid_argument, "shard: no read barrier " + std::to_string(t.id)};
        if (!it->second.answered || (it->second.state.ok && sync_->applied < it->second.state.index)) return std::nullopt;
        const bool ok = it->second.state.ok;
        sync_->reads.erase(it);
        if (ok) return success();
        return Error{errc::not_leader, "shard: this replica lost its leadership before the read barrier passed"};
      }
      case Ticket::Kind::entry: {
        if (sync_->applied < t.index) return std::nullopt;
        const auto& terms = sync_->recent_terms;
        if (t.index < sync_->recent_first || t.index - sync_->recent_first >= terms.size())
          return Error{errc::timeout, "shard: a snapshot replaced entry " + std::to_string(t.index) + "; its outcome is unknown"};
        if (terms[t.index - sync_->recent_first] == t.term) return success();
        return Error{errc::not_leader, "shard: another leader's entry took the place of entry " + std::to_string(t.index) +
                                           (t.read_from ? ", which the transaction read" : "; it did not apply")};
      }
    }
    return std::nullopt;
  }
  /// With mu held: entries applied; wakes whoever waits for them (writers, barriers,
  /// wait_replicated).
  void applied_changed(std::span<const LogEntry> entries) {
    {
      std::lock_guard queue(sync_->queue_mu);
      sync_->applied = applied_;
      auto& terms = sync_->recent_terms;
      for (const auto& e : entries)
        if (e.index == sync_->recent_first + terms.size()) terms.push_back(e.term);
      for (; terms.size() > max_recent_terms; ++sync_->recent_first) terms.pop_front();
    }
    std::erase_if(pending_, [&](const auto& w) { return w.second.index <= applied_; });
    sync_->queue_changed.notify_all();
    sync_->progress.notify_all();
  }
  /// With mu held: the applied index moved by other means than applying entries (a start, a
  /// snapshot).
  void applied_jumped() {
    {
      std::lock_guard queue(sync_->queue_mu);
      sync_->recent_terms.clear();
      sync_->recent_first = applied_ + 1;
    }
    applied_changed({});
  }

  /// Does what the policy asks until it asks nothing: apply, then queue messages and snapshots.
  Result<void> process() {
    for (;;) {
      auto ready = policy_.ready(log_);
      if (!ready) return ready.error();
      if (ready.value().empty()) {
        if (sync_->wake && !sync_->outbox.empty()) sync_->wake();
        return success();
      }
      if (!ready.value().apply.empty()) {
        auto applied = detail::apply_entries(app_, ready.value().apply);
        if (!applied) return applied.error();  // nothing sent: no message claims what did not apply
        applied_ = applied.value().index;
        policy_.applied(applied_, applied.value().term);
        receiver_.abandon();  // entries replaced whatever a snapshot had begun
        applied_changed(ready.value().apply);
      }
      for (auto& m : ready.value().messages) sync_->outbox.push_back(std::move(m));
      for (std::uint64_t peer : ready.value().snapshot_to)
        if (auto r = start_snapshot(peer); !r) return r;
      if (!ready.value().reads.empty()) {
        std::lock_guard queue(sync_->queue_mu);
        for (const auto& r : ready.value().reads)
          if (auto it = sync_->reads.find(r.id); it != sync_->reads.end()) it->second = {true, r};
        sync_->queue_changed.notify_all();
      }
    }
  }
  /// The log's side of a snapshot the App now holds: the policy's, if it keeps its own rules.
  Result<void> install_in_log(const SnapshotMeta& meta) {
    if (!options_.app_commits_durable)  // the App holds the snapshot on disk before the log drops entries
      if (auto r = detail::sync_app(app_); !r) return r;
    if constexpr (requires { { policy_.restore(log_, meta) } -> std::same_as<Result<void>>; })
      return policy_.restore(log_, meta);
    else if constexpr (LogStorage<Log>)
      return log_.install_snapshot(meta);
    else
      return success();
  }

  Result<void> start_snapshot(std::uint64_t peer) {
    auto s = detail::SnapshotSender<App>::open(app_, peer, policy_.status(), ++sessions_, options_.max_chunk_bytes);
    if (!s) return s.error();
    s.value().chunk.snapshot.membership = membership_at(s.value().chunk.snapshot.index);
    senders_.insert_or_assign(peer, std::move(s).value());
    sync_->outbox.push_back(senders_.at(peer).chunk);
    return success();
  }
  Result<void> chunk_answered(const Message& m) {
    auto it = senders_.find(m.from);
    if (it == senders_.end()) return success();
    auto& sender = it->second;
    if (m.reject || m.session != sender.chunk.session) return success();  // another transfer's
    if (m.offset == 0) return start_snapshot(m.from);             // the peer lost the transfer: start over
    // The peer is past this chunk: it holds chunks of this transfer's number and mark from before
    // this replica restarted (numbers start at 1 again). They need not be cut where ours are, so
    // start over under a new number.
    if (m.offset > sender.chunk.offset + 1) return start_snapshot(m.from);
    if (m.offset != sender.chunk.offset + 1) return success();   // a late answer: the chunk is resent on a tick
    if (sender.chunk.done) {
      SnapshotMeta meta = sender.chunk.snapshot;
      senders_.erase(it);
      policy_.snapshot_sent(m.from, meta);
      return process();
    }
    if (auto r = sender.advance(); !r) return r;
    sync_->outbox.push_back(sender.chunk);
    return success();
  }
  Result<void> receive_chunk(Message m) {
    auto answer = receiver_.accept(app_, m, policy_.status().term);
    if (!answer) return answer.error();
    if (answer.value().started) {  // the data is incomplete until the last chunk
      applied_ = 0;
      policy_.applied(0, 0);
      applied_jumped();
    }
    if (answer.value().installed) {
      if (auto r = install_in_log(m.snapshot); !r) return r;
      applied_ = m.snapshot.index;
      policy_.applied(applied_, m.snapshot.term);
      applied_jumped();
    }
    sync_->outbox.push_back(std::move(answer.value().response));
    return process();
  }

  Log log_;
  App app_;
  Policy policy_;
  ShardOptions options_;
  std::unique_ptr<Sync> sync_;
  std::uint64_t applied_ = 0;
  std::uint64_t synced_ = 0;  ///< what App had applied when last synced (app_commits_durable = false)
  std::uint64_t ticks_ = 0;
  std::uint64_t sessions_ = 0;  // snapshot transfers started
  std::uint64_t reads_started_ = 0;
  detail::PendingWrites pending_;  // writes proposed here and not applied yet
  std::map<std::uint64_t, detail::SnapshotSender<App>> senders_;
  detail::SnapshotReceiver receiver_;
};

}  // namespace kvstack
