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
  /// Tombstones older than this are collected. A replica that finished no pull for this long
  /// drops its records older than half of it before it syncs again (they may be values whose
  /// deletes were collected meanwhile), and pulls them back from its peers. It must exceed the
  /// time a write takes to reach every replica, plus twice the clocks' skew.
  std::uint64_t tombstone_horizon = 24ull * 3600 * 1000;
  std::uint64_t purge_ticks = 64;                       ///< look for tombstones to collect this often
  /// A pull that has had no answer for this long is given up (the peer's next round restarts it).
  std::uint64_t pull_timeout_ticks = 32;
  std::size_t max_message_bytes = std::size_t{1} << 20;  ///< what one message carries, at least one item
  /// Writes note their keys, and the tree takes them in later, many at once: at each tick and
  /// message, when `root()` is asked for, and once this many writes are waiting.
  std::size_t tree_batch = 1024;
};

/// The Mst policy: the core of `Shard<NoLog, App, Mst<Fanout>>` (shard/mst/shard.hpp), which
/// calls it with the App (or a transaction of it) and the time. Consistency is eventual: a
/// write returns once applied here; once writes stop and the network heals, every replica
/// holds the same records (the last writer's, by stamp) and the same root digest.
///
/// A round: replica A sends its root digest to B (mst_root). B answers with its own (so A pulls
/// too) and, unless it holds A's root, asks for A's nodes from the root down (mst_get_nodes),
/// following only subtrees it does not hold, and asks for the records whose digests differ
/// (mst_get_records). Records merge by stamp: commutative, associative and idempotent.
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

  /// Loads the clock and the last sync from `app`; drops old records if this replica has been
  /// out of touch for longer than the tombstone horizon.
  template <class App>
  Result<void> start(App& app, std::uint64_t now) {
    auto clock = app.get(Layout::clock_key);
    if (!clock) return clock.error();
    if (clock.value()) {
      Stamp s;
      std::string_view in = *clock.value();
      if (!s.take(in)) return Error{errc::corruption, "Mst: the stored clock is damaged"};
      clock_ = HybridClock(config_.id, s);
    }
    auto synced = app.get(Layout::synced_key);
    if (!synced) return synced.error();
    if (synced.value()) {
      std::string_view in = *synced.value();
      if (!detail::take_varint(in, synced_)) return Error{errc::corruption, "Mst: the stored sync time is damaged"};
    } else {
      synced_ = now;  // a new replica: it has nothing old
    }
    pending_ = 1;  // whatever was marked before a restart
    if (auto r = rejoin_if_away(app, now); !r) return r;
    return update_tree(app);
  }

  /// Writes `value` (nullopt: a delete) for `key` in `tx`, a transaction of the App, stamped
  /// now; `old` is the key's record, if any. Returns the record written.
  template <class Tx>
  Result<MstRecord> write(Tx& tx, std::string_view key, std::optional<std::string_view> value,
                          const std::optional<MstRecord::View>& old, std::uint64_t now) {
    MstRecord r{clock_.now(now), value ? std::optional<std::string>(*value) : std::nullopt};
    if (auto w = store(tx, key, r, old); !w) return w.error();
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
      default: return success();
    }
  }

  /// One unit of time: starts a round with the next peer every sync_ticks, collects tombstones
  /// past the horizon every purge_ticks.
  template <class App>
  Result<void> tick(App& app, std::uint64_t now) {
    ++ticks_;
    if (ticks_ % std::max<std::uint64_t>(config_.purge_ticks, 1) == 0) {
      if (auto r = rejoin_if_away(app, now); !r) return r;
      if (auto r = purge(app, now); !r) return r;
    }
    if (auto r = update_tree(app); !r) return r;
    if (peers_.empty() || ticks_ % std::max<std::uint64_t>(config_.sync_ticks, 1) != 0) return success();
    const std::uint64_t peer = peers_[next_peer_++ % peers_.size()];
    auto root = Tree<const App>(app, std::string(Layout::tree)).root();
    if (!root) return root.error();
    send(peer, MessageType::mst_root, std::string(root.value().view()), false);
    return success();
  }

  /// The messages to send since the last call.
  std::vector<Message> take_messages() { return std::exchange(outbox_, {}); }

  ShardStatus status() const {
    ShardStatus s{.id = config_.id, .role = Role::replica, .term = 0, .commit = synced_, .applied = synced_};
    for (auto id : peers_) s.peers.push_back({.id = id});
    return s;
  }

  /// Records merged from peers and items peers sent that were not asked for or did not decode.
  struct Counters {
    std::uint64_t merged = 0, ignored = 0, rejected = 0, purged = 0, dropped_at_rejoin = 0;
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  // ---- storage ----

  /// Stores record `r` for `key` over `old`: the record, its pending mark for the tree and its
  /// tombstone index.
  template <class Tx>
  Result<void> store(Tx& tx, std::string_view key, const MstRecord& r, const std::optional<MstRecord::View>& old) {
    if (auto w = tx.put(Layout::data_key(key), r.encode()); !w) return w;
    if (auto w = mark_pending(tx, key); !w) return w;
    if (old && old->tombstone)
      if (auto w = tx.erase(Layout::tombstone_key(old->stamp.wall, key)); !w) return w.error();
    if (!r.value)
      if (auto w = tx.put(Layout::tombstone_key(r.stamp.wall, key), ""); !w) return w;
    return success();
  }
  /// Removes `key` entirely (a collected tombstone, or a record dropped at a rejoin).
  template <class Tx>
  Result<void> remove(Tx& tx, std::string_view key, const MstRecord::View& old) {
    if (auto w = tx.erase(Layout::data_key(key)); !w) return w.error();
    if (auto w = mark_pending(tx, key); !w) return w;
    if (old.tombstone)
      if (auto w = tx.erase(Layout::tombstone_key(old.stamp.wall, key)); !w) return w.error();
    return success();
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
  template <class App>
  Result<void> mark_synced(App& app, std::uint64_t now) {
    synced_ = std::max(synced_, now);
    std::string v;
    detail::put_varint(synced_, v);
    return app.put(Layout::synced_key, v);
  }

  /// A replica that finished no pull within the horizon may hold values whose deletes were
  /// collected: it drops every record older than half the horizon, to pull back what is live.
  template <class App>
  Result<void> rejoin_if_away(App& app, std::uint64_t now) {
    if (peers_.empty() || now < synced_ || now - synced_ <= config_.tombstone_horizon) return success();
    const std::uint64_t keep_from = now - std::min(now, config_.tombstone_horizon / 2);
    std::vector<std::pair<std::string, MstRecord>> old;
    {
      static constexpr char prefix = Layout::data;
      auto all = app.scan(KeyRange::prefix({&prefix, 1}));
      for (auto&& [k, v] : all) {
        auto r = MstRecord::decode(v);
        if (!r) return r.error();
        if (r.value().stamp.wall < keep_from) old.emplace_back(std::string(k.substr(1)), r.value().owned());
      }
      if (auto st = all.status(); !st) return st;
    }
    auto dropped = app.transact([&](auto& tx) -> Result<void> {
      for (const auto& [k, r] : old)
        if (auto w = remove(tx, k, r.view()); !w) return w;
      return success();
    });
    if (!dropped) return dropped;
    counters_.dropped_at_rejoin += old.size();
    return mark_synced(app, now);
  }

  /// Collects the tombstones older than the horizon.
  template <class App>
  Result<void> purge(App& app, std::uint64_t now) {
    if (now <= config_.tombstone_horizon) return success();
    const std::uint64_t before = now - config_.tombstone_horizon;
    std::vector<std::pair<std::uint64_t, std::string>> due;
    {
      auto index = app.scan(KeyRange::between(Layout::tombstone_key(0, ""), Layout::tombstone_key(before, "")));
      for (auto&& [k, v] : index) {
        std::uint64_t wall = 0;
        for (int i = 1; i <= 8; ++i) wall = (wall << 8) | static_cast<unsigned char>(k[static_cast<std::size_t>(i)]);
        due.emplace_back(wall, std::string(k.substr(9)));
      }
      if (auto st = index.status(); !st) return st;
    }
    if (due.empty()) return success();
    auto r = app.transact([&](auto& tx) -> Result<void> {
      for (const auto& [wall, key] : due) {
        auto cur = detail::read_record(tx, key);
        if (!cur) return cur.error();
        if (!cur.value() || cur.value()->value || cur.value()->stamp.wall != wall) {  // overwritten since: a stale entry
          if (auto w = tx.erase(Layout::tombstone_key(wall, key)); !w) return w.error();
          continue;
        }
        if (auto w = remove(tx, key, cur.value()->view()); !w) return w;
      }
      return success();
    });
    if (r) counters_.purged += due.size();
    return r;
  }

  // ---- protocol ----

  void send(std::uint64_t to, MessageType type, std::string data, bool answer) {
    Message m{.type = type, .from = config_.id, .to = to, .done = answer};
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
    bool active() const noexcept { return !nodes.empty() || !records.empty(); }
  };

  template <class App>
  Result<void> on_root(App& app, const Message& m, std::uint64_t now) {
    if (m.data.size() != Digest::size) return reject();
    const Digest theirs = Digest::from(m.data);
    Tree<const App> tree(app, std::string(Layout::tree));
    auto mine = tree.root();
    if (!mine) return mine.error();
    if (!m.done) send(m.from, MessageType::mst_root, std::string(mine.value().view()), true);  // so it pulls too
    Pull& pull = pulls_[m.from];
    if (pull.active() && ticks_ - pull.answered_at < config_.pull_timeout_ticks) return success();  // one pull at a time
    pull = {};
    pull.answered_at = ticks_;
    if (theirs == mine.value() || !theirs) return mark_synced(app, now);
    auto held = tree.has(theirs);
    if (!held) return held.error();
    if (held.value()) return mark_synced(app, now);  // it holds nothing this replica lacks
    pull.nodes.insert(theirs);
    send(m.from, MessageType::mst_get_nodes, std::string(theirs.view()), true);
    return success();
  }

  template <class App>
  Result<void> on_get_nodes(App& app, const Message& m) {
    if (m.data.size() % Digest::size != 0) return reject();
    Tree<const App> tree(app, std::string(Layout::tree));
    std::vector<std::string> nodes;
    for (std::size_t at = 0; at < m.data.size(); at += Digest::size) {
      auto n = tree.node(Digest::from(std::string_view(m.data).substr(at, Digest::size)));
      if (!n) return n.error();
      if (n.value()) nodes.push_back(framed(n.value()->encode()));  // gone meanwhile: the next round sees
    }
    send_framed(m.from, MessageType::mst_nodes, nodes);
    return success();
  }

  template <class App>
  Result<void> on_nodes(App& app, const Message& m, std::uint64_t now) {
    auto it = pulls_.find(m.from);
    if (it == pulls_.end()) return success();
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
    if (pull.nodes.empty() && pull.records.empty()) return mark_synced(app, now);
    return success();
  }

  template <class App>
  Result<void> on_get_records(App& app, const Message& m) {
    std::vector<std::string> records;
    std::string_view in = m.data;
    while (!in.empty()) {
      std::string_view key;
      if (!detail::take_bytes(in, key)) return reject();
      auto raw = app.get(Layout::data_key(key));
      if (!raw) return raw.error();
      if (raw.value()) records.push_back(framed(key) + framed(*raw.value()));
    }
    send_framed(m.from, MessageType::mst_records, records);
    return success();
  }

  /// Merges records a peer sent: each replaces this replica's record of its key if its stamp is
  /// later (a tombstone already past the horizon removes the key instead of being stored).
  template <class App>
  Result<void> on_records(App& app, const Message& m, std::uint64_t now) {
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
        if (!r.value && r.stamp.wall + config_.tombstone_horizon <= now) {  // a delete past the horizon: nothing is left
          if (cur.value())
            if (auto w = remove(tx, key, cur.value()->view()); !w) return w;
          continue;
        }
        std::optional<MstRecord::View> old;
        if (cur.value()) old = cur.value()->view();
        if (auto w = store(tx, key, r, old); !w) return w;
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
    if (it->second.nodes.empty() && it->second.records.empty()) return mark_synced(app, now);
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
  std::size_t pending_ = 0;   // marks written since the tree last took them in (0: none)
  std::map<std::uint64_t, Pull> pulls_;
  std::vector<Message> outbox_;
  Counters counters_;
};

}  // namespace kvstack
