// kvstack::Mst — replication without a log or a leader: every replica accepts writes, each value
// is a last-writer-wins register stamped by a hybrid logical clock, and replicas converge by
// anti-entropy over Merkle Search Trees, exchanging only the subtrees whose digests differ. A
// deterministic core: time comes in as an argument, messages as values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>
#include <kvstack/shard/mst/hybrid_clock.hpp>
#include <kvstack/shard/mst/reader.hpp>
#include <kvstack/shard/mst/record.hpp>
#include <kvstack/shard/mst/tree.hpp>
#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0 {

/// The members of an Mst shard and its tuning. Time is in the units of the clock the runner
/// gives (milliseconds for a real one, ticks in the simulator).
struct MstConfig {
  std::uint64_t id = 0;                  ///< this replica (non-zero, unique)
  std::vector<std::uint64_t> members{};  ///< every replica's id, this one included
  std::uint64_t sync_ticks = 4;          ///< start an anti-entropy round with the next peer this often
  /// A tombstone is collected once it has been here this long and every peer is known to hold
  /// it (a peer that finished a pull from this replica since). A peer that is away holds
  /// collection back: take a replica gone for good out of `members`.
  std::uint64_t tombstone_horizon = 24ull * 3600 * 1000;
  std::uint64_t purge_ticks = 64;                       ///< look for tombstones to collect this often
  /// A pull that has had no answer for this long is given up (the peer's next round restarts it).
  std::uint64_t pull_timeout_ticks = 32;
  std::size_t max_message_bytes = std::size_t{1} << 20;  ///< what one message carries, at least one item
  /// Writes note their keys, and the tree takes them in later, many at once: at each tick and
  /// message, when `root()` is asked for, and once this many writes are waiting.
  std::size_t tree_batch = 1024;
  /// Whether the App's commits are durable as they return (the engines' default). If not (LMDB
  /// with sync = false, say), a crash may lose this replica's last writes; Mst then syncs the App
  /// every `app_sync_ticks` ticks and before telling a peer a pull is done, so that a peer
  /// collects a tombstone only once every replica holds it on disk.
  bool app_commits_durable = true;
  std::uint64_t app_sync_ticks = 16;  ///< how often the App is synced then, in ticks
};

/// The Mst policy: the core of `Shard<NoLog, App, Mst<Fanout>>` (shard/mst/shard.hpp), which
/// calls it with the App (or a transaction of it) and the time. Consistency is eventual: a
/// write returns once applied here; once writes stop and the network heals, every replica
/// holds the same records (the last writer's, by stamp) and the same root digest.
///
/// A round: replica A sends its root digest to B (mst_root, with A's time). Unless B holds A's
/// root, B asks for A's nodes from the root down (mst_get_nodes), following only subtrees it does
/// not hold, and for the records whose digests differ (mst_get_records). Once it has them, B
/// tells A (mst_pulled, with A's time: A may collect the tombstones it had by then) and sends
/// its own root, for A to pull in turn. Records merge by stamp: commutative, associative and
/// idempotent.
///
/// A write stores its record and a pending mark for its key in one App transaction; the tree
/// takes in the pending keys later, many in one transaction (`update_tree`), before anything
/// reads it. The mark makes this crash-safe: a restart finds what the tree has yet to take in.
template <std::size_t Fanout = 4>
class Mst {
 public:
  static constexpr bool needs_log = false;
  static constexpr Consistency consistency = Consistency::eventual;
  using Layout = detail::MstLayout;
  template <class S>
  using Tree = MerkleSearchTree<S, Fanout>;

  explicit Mst(MstConfig config) : config_(std::move(config)), clock_(config_.id) {
    for (auto id : config_.members)
      if (id != config_.id) peers_.push_back(id);
  }

  const MstConfig& config() const noexcept { return config_; }
  /// The last stamp issued or observed.
  const Stamp& last_stamp() const noexcept { return clock_.last(); }

  /// Loads the clock from `app`, starts the next incarnation (stored, and synced if the App's
  /// commits are not durable, before any write of it), and takes in what the tree had yet to.
  template <class App>
  Result<void> start(App& app, std::uint64_t) {
    auto clock = app.get(Layout::clock_key);
    if (!clock) return clock.error();
    Stamp last;
    std::string_view in = clock.value() ? std::string_view(*clock.value()) : std::string_view();
    if (clock.value() && !last.take(in)) return Error{errc::corruption, "Mst: the stored clock is damaged"};
    clock_ = HybridClock(config_.id, last.incarnation + 1, last);
    if (auto w = save_clock(app); !w) return w;
    if (!config_.app_commits_durable)
      if (auto r = detail::sync_app(app); !r) return r;
    pending_ = 1;  // whatever was marked before a restart
    return update_tree(app);
  }

  /// Writes `value` (nullopt: a delete) for `key` in `tx`, a transaction of the App, stamped
  /// now. Returns the record written.
  template <class Tx>
  Result<MstRecord> write(Tx& tx, std::string_view key, std::optional<std::string_view> value, std::uint64_t now) {
    MstRecord r{clock_.now(now), value ? std::optional<std::string>(*value) : std::nullopt};
    if (auto w = store(tx, key, r, now); !w) return w.error();
    if (auto w = save_clock(tx); !w) return w.error();
    return r;
  }

  /// Whether enough writes wait for the tree that a writer should call update_tree.
  bool tree_due() const noexcept { return pending_ >= std::max<std::size_t>(config_.tree_batch, 1); }

  /// Takes the keys written since the last call into the tree, in transactions of up to
  /// tree_batch keys.
  template <class App>
  Result<void> update_tree(App& app) {
    const std::size_t batch = std::max<std::size_t>(config_.tree_batch, 1);
    for (std::size_t taken = batch; pending_ > 0 && taken == batch;) {
      std::vector<std::string> keys;
      {
        static constexpr char prefix = Layout::pending;
        auto marks = app.scan(KeyRange::prefix({&prefix, 1}).limit(batch));
        for (auto&& [k, v] : marks) keys.emplace_back(k.substr(1));
        if (auto st = marks.status(); !st) return st;
      }
      taken = keys.size();
      auto r = app.transact([&](auto& tx) -> Result<void> {
        Tree<std::remove_reference_t<decltype(tx)>> tree(tx, std::string(Layout::tree));
        for (const auto& key : keys) {
          auto record = tx.get(Layout::data_key(key));
          if (!record) return record.error();
          if (record.value()) {
            if (auto w = tree.put(key, Digest::of(*record.value())); !w) return w;
          } else if (auto w = tree.erase(key); !w) {
            return w.error();
          }
          if (auto w = tx.erase(Layout::pending_key(key)); !w) return w.error();
        }
        return success();
      });
      if (!r) return r;
    }
    pending_ = 0;
    return success();
  }

  /// The root digest of the tree, up to date.
  template <class App>
  Result<Digest> root(App& app) {
    if (auto r = update_tree(app); !r) return r.error();
    return Tree<const App>(app, std::string(Layout::tree)).root();
  }

  /// A message from a peer.
  template <class App>
  Result<void> step(App& app, const Message& m, std::uint64_t now) {
    if (m.to != config_.id || std::find(peers_.begin(), peers_.end(), m.from) == peers_.end()) return success();
    if (auto r = update_tree(app); !r) return r;
    switch (m.type) {
      case MessageType::mst_root: return on_root(app, m, now);
      case MessageType::mst_get_nodes: return on_get_nodes(app, m);
      case MessageType::mst_nodes: return on_nodes(app, m, now);
      case MessageType::mst_get_records: return on_get_records(app, m);
      case MessageType::mst_records: return on_records(app, m, now);
      case MessageType::mst_pulled:
        peer_has_[m.from] = std::max(peer_has_[m.from], m.index);
        return success();
      default: return success();
    }
  }

  /// One unit of time: starts a round with the next peer every sync_ticks, collects tombstones
  /// every purge_ticks.
  template <class App>
  Result<void> tick(App& app, std::uint64_t now) {
    ++ticks_;
    if (ticks_ % std::max<std::uint64_t>(config_.purge_ticks, 1) == 0)
      if (auto r = purge(app, now); !r) return r;
    if (auto r = update_tree(app); !r) return r;
    if (!config_.app_commits_durable && ticks_ % std::max<std::uint64_t>(config_.app_sync_ticks, 1) == 0)
      if (auto r = detail::sync_app(app); !r) return r;
    if (peers_.empty() || ticks_ % std::max<std::uint64_t>(config_.sync_ticks, 1) != 0) return success();
    return start_round(app, peers_[next_peer_++ % peers_.size()], now);
  }

  /// Starts a round with `peer` now: sends it this replica's root digest (and the time it was
  /// taken), so that each pulls what the other has.
  template <class App>
  Result<void> start_round(App& app, std::uint64_t peer, std::uint64_t now) {
    auto mine = root(app);
    if (!mine) return mine.error();
    send(peer, MessageType::mst_root, std::string(mine.value().view()), false, now);
    return success();
  }

  /// The messages to send since the last call.
  std::vector<Message> take_messages() { return std::exchange(outbox_, {}); }

  /// Its id, role (Role::replica) and peers; no log, so no index.
  ShardStatus status() const {
    ShardStatus s{.id = config_.id, .role = Role::replica};
    for (auto id : peers_) s.peers.push_back({.id = id});
    return s;
  }
  /// When this replica last finished a pull or found itself in sync with a peer (in the runner's
  /// time; 0: never since it started).
  std::uint64_t last_synced() const noexcept { return synced_; }

  /// Records merged from peers and items peers sent that were not asked for or did not decode.
  struct Counters {
    std::uint64_t merged = 0, ignored = 0, rejected = 0, purged = 0;
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  // ---- storage ----

  /// Stores record `r` for `key`, stored here at `now`: the record, its pending mark for the
  /// tree and, for a tombstone, an entry in the index of tombstones by when they came (the
  /// entry of one overwritten since is dropped when the index is next read).
  template <class Tx>
  Result<void> store(Tx& tx, std::string_view key, const MstRecord& r, std::uint64_t now) {
    if (auto w = tx.put(Layout::data_key(key), r.encode()); !w) return w;
    if (auto w = mark_pending(tx, key); !w) return w;
    if (r.value) return success();
    std::string stamp;
    r.stamp.encode(stamp);
    return tx.put(Layout::time_key(Layout::tombstones, now, key), stamp);
  }
  /// Keeps a collected tombstone's stamp aside as of `now`: 'g' ++ key holds the time (8 bytes)
  /// and the stamp; a 'y' entry at that time, holding the time, comes due a horizon later.
  template <class Tx>
  Result<void> set_aside(Tx& tx, std::string_view key, std::string_view stamp, std::uint64_t now) {
    const std::string entry = Layout::time_key(Layout::collected_at, now, key);
    const std::string_view at = std::string_view(entry).substr(1, 8);
    if (auto w = tx.put(Layout::collected_key(key), std::string(at).append(stamp)); !w) return w;
    return tx.put(entry, at);
  }
  template <class Tx>
  Result<void> mark_pending(Tx& tx, std::string_view key) {
    ++pending_;  // may count a key twice: what matters is whether it is 0
    return tx.put(Layout::pending_key(key), "");
  }
  template <class Tx>
  Result<void> save_clock(Tx& tx) {
    std::string s;
    clock_.last().encode(s);
    return tx.put(Layout::clock_key, s);
  }
  /// The pull from `peer` is done: this replica holds, on disk, everything the peer held when it
  /// took the root pulled. Tells the peer (which may then collect the tombstones it had by then),
  /// and offers it this replica's root if the round was the peer's to start.
  template <class App>
  Result<void> finish_pull(App& app, std::uint64_t peer, std::uint64_t now) {
    if (!config_.app_commits_durable)  // what the peer is told this replica holds is on disk
      if (auto r = detail::sync_app(app); !r) return r;
    Pull& pull = pulls_[peer];
    synced_ = std::max(synced_, now);
    Message m{.type = MessageType::mst_pulled, .from = config_.id, .to = peer, .index = pull.their_time, .done = true};
    outbox_.push_back(std::move(m));
    if (!std::exchange(pull.offer_root, false)) return success();
    auto mine = root(app);
    if (!mine) return mine.error();
    send(peer, MessageType::mst_root, std::string(mine.value().view()), true, now);
    return success();
  }
  /// Collects the tombstones that came more than the horizon ago and before every peer last
  /// finished a pull from this replica (so every peer holds them, or a later record). A collected
  /// tombstone leaves the data and the tree, but its stamp stays aside until a horizon has
  /// passed in which no copy of it came (see on_records): copies still arriving from peers that
  /// have yet to collect it, and what it deleted, are refused meanwhile.
  template <class App>
  Result<void> purge(App& app, std::uint64_t now) {
    const std::uint64_t horizon_ago = now - std::min(now, config_.tombstone_horizon);
    std::uint64_t before = horizon_ago;
    for (auto peer : peers_) {
      auto it = peer_has_.find(peer);
      before = std::min(before, it == peer_has_.end() ? 0 : it->second);
    }
    std::vector<std::pair<std::string, std::string>> due, forgotten;  // index entry, the stamp
    auto read_index = [&](char kind, std::uint64_t until, auto& out) -> Result<void> {
      auto index = app.scan(KeyRange::between(Layout::time_key(kind, 0, ""), Layout::time_key(kind, until, "")));
      for (auto&& [k, v] : index) out.emplace_back(std::string(k), std::string(v));
      return index.status();
    };
    if (auto r = read_index(Layout::tombstones, before, due); !r) return r;
    if (auto r = read_index(Layout::collected_at, horizon_ago, forgotten); !r) return r;
    if (due.empty() && forgotten.empty()) return success();
    std::uint64_t purged = 0;
    auto r = app.transact([&](auto& tx) -> Result<void> {
      purged = 0;
      for (const auto& [entry, stamp] : due) {
        const std::string_view key = std::string_view(entry).substr(9);
        auto cur = detail::read_record(tx, key);
        if (!cur) return cur.error();
        std::string current;
        if (cur.value() && !cur.value()->value) cur.value()->stamp.encode(current);
        if (current == stamp) {  // still that tombstone (not overwritten since)
          if (auto w = tx.erase(Layout::data_key(key)); !w) return w.error();
          if (auto w = mark_pending(tx, key); !w) return w;
          if (auto w = set_aside(tx, key, stamp, now); !w) return w;
          ++purged;
        }
        if (auto w = tx.erase(entry); !w) return w.error();
      }
      for (const auto& [entry, at] : forgotten) {
        const std::string key = Layout::collected_key(std::string_view(entry).substr(9));
        auto cur = tx.get(key);
        if (!cur) return cur.error();
        if (cur.value() && cur.value()->starts_with(at))  // no copy came since
          if (auto w = tx.erase(key); !w) return w.error();
        if (auto w = tx.erase(entry); !w) return w.error();
      }
      return success();
    });
    if (r) counters_.purged += purged;
    return r;
  }

  // ---- protocol ----

  void send(std::uint64_t to, MessageType type, std::string data, bool answer, std::uint64_t index = 0) {
    Message m{.type = type, .from = config_.id, .to = to, .index = index, .done = answer};
    m.data = std::move(data);
    outbox_.push_back(std::move(m));
  }
  /// Sends `items` (each already framed) to `to` in messages of at most max_message_bytes.
  void send_framed(std::uint64_t to, MessageType type, const std::vector<std::string>& items) {
    std::string data;
    for (const auto& item : items) {
      if (!data.empty() && data.size() + item.size() > config_.max_message_bytes) send(to, type, std::exchange(data, {}), true);
      data += item;
    }
    if (!data.empty()) send(to, type, std::move(data), true);
  }
  /// Tells `to` that some of what it asked for is gone (an answer of `type` with `reject`).
  void send_gone(std::uint64_t to, MessageType type) {
    Message m{.type = type, .from = config_.id, .to = to, .reject = true, .done = true};
    outbox_.push_back(std::move(m));
  }
  static std::string framed(std::string_view bytes) {
    std::string out;
    detail::put_varint(bytes.size(), out);
    out.append(bytes);
    return out;
  }

  struct Pull {  // what this replica asked a peer for and awaits
    std::set<Digest> nodes;
    std::set<std::string, std::less<>> records;
    std::uint64_t answered_at = 0;  // the tick it started or last had an answer
    std::uint64_t their_time = 0;   // the peer's time when it took the root being pulled
    bool offer_root = false;        // when done, send the peer this replica's root (its turn to pull)
    bool active() const noexcept { return !nodes.empty() || !records.empty(); }
  };

  template <class App>
  Result<void> on_root(App& app, const Message& m, std::uint64_t now) {
    if (m.data.size() != Digest::size) return reject();
    const Digest theirs = Digest::from(m.data);
    Tree<const App> tree(app, std::string(Layout::tree));
    auto mine = tree.root();
    if (!mine) return mine.error();
    Pull& pull = pulls_[m.from];
    if (pull.active() && ticks_ - pull.answered_at < config_.pull_timeout_ticks) return success();  // one pull at a time
    pull = {};
    pull.answered_at = ticks_;
    pull.their_time = m.index;
    pull.offer_root = !m.done;
    if (theirs == mine.value() || !theirs) return finish_pull(app, m.from, now);
    auto held = tree.has(theirs);
    if (!held) return held.error();
    if (held.value()) return finish_pull(app, m.from, now);  // it holds nothing this replica lacks
    pull.nodes.insert(theirs);
    send(m.from, MessageType::mst_get_nodes, std::string(theirs.view()), true);
    return success();
  }

  template <class App>
  Result<void> on_get_nodes(App& app, const Message& m) {
    if (m.data.size() % Digest::size != 0) return reject();
    Tree<const App> tree(app, std::string(Layout::tree));
    std::vector<std::string> nodes;
    bool gone = false;
    for (std::size_t at = 0; at < m.data.size(); at += Digest::size) {
      auto n = tree.node(Digest::from(std::string_view(m.data).substr(at, Digest::size)));
      if (!n) return n.error();
      if (n.value()) nodes.push_back(framed(n.value()->encode()));
      else gone = true;
    }
    send_framed(m.from, MessageType::mst_nodes, nodes);
    if (gone) send_gone(m.from, MessageType::mst_nodes);
    return success();
  }

  template <class App>
  Result<void> on_nodes(App& app, const Message& m, std::uint64_t now) {
    auto it = pulls_.find(m.from);
    if (it == pulls_.end()) return success();
    if (m.reject) return drop_pull(m.from);
    Pull& pull = it->second;
    pull.answered_at = ticks_;
    Tree<const App> tree(app, std::string(Layout::tree));
    MstDiff diff;
    std::string_view in = m.data;
    while (!in.empty()) {
      std::string_view bytes;
      if (!detail::take_bytes(in, bytes)) return reject();
      const Digest d = Digest::of(bytes);
      if (!pull.nodes.erase(d)) {  // not asked for (a duplicate, or a lie)
        ++counters_.ignored;
        continue;
      }
      auto n = MstNode::decode(bytes);
      if (!n) {
        ++counters_.rejected;
        continue;
      }
      if (auto r = tree.diff(n.value(), diff); !r) return r;
    }
    std::vector<std::string> fetch, keys;
    for (const auto& d : diff.fetch)
      if (pull.nodes.insert(d).second) fetch.push_back(std::string(d.view()));
    for (auto& k : diff.keys)
      if (pull.records.insert(k).second) keys.push_back(framed(k));
    send_framed(m.from, MessageType::mst_get_nodes, fetch);
    send_framed(m.from, MessageType::mst_get_records, keys);
    if (!pull.active()) return finish_pull(app, m.from, now);
    return success();
  }

  template <class App>
  Result<void> on_get_records(App& app, const Message& m) {
    std::vector<std::string> records;
    bool gone = false;
    std::string_view in = m.data;
    while (!in.empty()) {
      std::string_view key;
      if (!detail::take_bytes(in, key)) return reject();
      auto raw = app.get(Layout::data_key(key));
      if (!raw) return raw.error();
      if (raw.value()) records.push_back(framed(key) + framed(*raw.value()));
      else gone = true;
    }
    send_framed(m.from, MessageType::mst_records, records);
    if (gone) send_gone(m.from, MessageType::mst_records);
    return success();
  }

  /// Merges records a peer sent: each replaces this replica's record of its key if its stamp is
  /// later (and than a delete of it collected here).
  template <class App>
  Result<void> on_records(App& app, const Message& m, std::uint64_t now) {
    if (m.reject) return drop_pull(m.from);
    std::vector<std::pair<std::string_view, MstRecord>> in_records;
    std::string_view in = m.data;
    while (!in.empty()) {
      std::string_view key, bytes;
      if (!detail::take_bytes(in, key) || !detail::take_bytes(in, bytes)) return reject();
      auto r = MstRecord::decode(bytes);
      if (!r) {
        ++counters_.rejected;
        continue;
      }
      in_records.emplace_back(key, r.value().owned());
    }
    auto it = pulls_.find(m.from);
    std::uint64_t merged = 0;
    auto wrote = app.transact([&](auto& tx) -> Result<void> {
      merged = 0;
      for (const auto& [key, r] : in_records) {
        auto cur = detail::read_record(tx, key);
        if (!cur) return cur.error();
        if (cur.value() && !(cur.value()->stamp < r.stamp)) continue;
        if (!cur.value()) {  // a delete collected here outranks its own copies and what it deleted
          auto collected = tx.get(Layout::collected_key(key));
          if (!collected) return collected.error();
          Stamp gone;
          std::string_view in = collected.value() ? std::string_view(*collected.value()) : std::string_view();
          if (in.size() > 8 && (in.remove_prefix(8), gone.take(in)) && !(gone < r.stamp)) {
            std::string stamp;
            gone.encode(stamp);
            if (auto w = set_aside(tx, key, stamp, now); !w) return w;  // a peer still has it: wait longer
            continue;
          }
        }
        if (auto w = store(tx, key, r, now); !w) return w;
        clock_.observe(r.stamp, now);
        ++merged;
      }
      return merged ? save_clock(tx) : success();
    });
    if (!wrote) return wrote;
    counters_.merged += merged;
    if (it == pulls_.end()) return success();
    it->second.answered_at = ticks_;
    for (const auto& [key, r] : in_records)
      if (auto k = it->second.records.find(key); k != it->second.records.end()) it->second.records.erase(k);
    if (!it->second.active()) return finish_pull(app, m.from, now);
    return success();
  }

  /// The peer no longer holds something a pull asked for (its data changed): the pull ends, and
  /// the next round starts afresh.
  Result<void> drop_pull(std::uint64_t peer) {
    pulls_.erase(peer);
    return success();
  }
  Result<void> reject() {
    ++counters_.rejected;  // a malformed message from a peer: dropped, the next round retries
    return success();
  }

  MstConfig config_;
  HybridClock clock_;
  std::vector<std::uint64_t> peers_;
  std::size_t next_peer_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t synced_ = 0;  // when this replica last finished a pull (or found itself in sync)
  std::map<std::uint64_t, std::uint64_t> peer_has_;  // peer: this replica's time it holds everything of
  std::size_t pending_ = 0;   // marks written since the tree last took them in (0: none)
  std::map<std::uint64_t, Pull> pulls_;
  std::vector<Message> outbox_;
  Counters counters_;
};

}  // namespace kvstack
