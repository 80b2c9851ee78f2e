// kvstack::MerkleSearchTree — a Merkle Search Tree (Auvolat & Taïani, SRDS 2019) kept in any
// Backend or transaction: a search tree whose shape depends only on its keys (a key's layer is
// the number of leading zero bits of its hash, over log2(Fanout)), so the root digest is a pure
// function of the contents, and two replicas find where they differ by comparing digests.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/shard/mst/digest.hpp>
#include <kvstack/shard/mst/node.hpp>

namespace kvstack::inline v0 {

/// What a replica lacks of another's tree, found by `MerkleSearchTree::diff` one remote node at
/// a time: subtrees to fetch next, and keys whose value differs or is absent here.
struct MstDiff {
  std::vector<Digest> fetch;
  std::vector<std::string> keys;
};

/// A Merkle Search Tree mapping keys to value digests, stored in `S` (a Backend or a
/// transaction: anything with get, put and erase) under `prefix`: each node under prefix + 'n' +
/// its digest, the root's digest under prefix + 'r'. A write rewrites only the nodes on one path
/// (O(log n) of them); on a Backend with `transact`, it does so in one transaction.
///
/// Every node holds at least one key; a node of layer L holds the keys of layer L in its range
/// and, between them, the trees of the keys in each interval. So the same set of keys always
/// makes the same nodes, and no node appears twice (its keys are its own), which lets a replica
/// tell "I have this subtree" from the node's digest alone.
template <class S, std::size_t Fanout = 4>
class MerkleSearchTree {
  static_assert(Fanout >= 2 && std::has_single_bit(Fanout), "MerkleSearchTree: Fanout must be a power of two");

 public:
  static constexpr unsigned bits_per_layer = static_cast<unsigned>(std::countr_zero(Fanout));

  /// The tree kept in `store` under `prefix` (which no other data in `store` may start with).
  MerkleSearchTree(S& store, std::string prefix) : store_(&store), prefix_(std::move(prefix)) {}

  /// A key's layer: the leading zero bits of its SHA-256, over log2(Fanout). Fanout 4 puts one
  /// key in 4 on layer 1 or above, one in 16 on layer 2 or above, and so on.
  static std::uint32_t layer_of(std::string_view key) noexcept {
    const Digest d = Digest::of(key);
    unsigned zeros = 0;
    for (unsigned char b : d.bytes) {
      zeros += static_cast<unsigned>(std::countl_zero(b));
      if (b != 0) break;
    }
    return zeros / bits_per_layer;
  }

  /// The root's digest: a pure function of the keys and value digests (zero when empty).
  Result<Digest> root() const {
    auto r = store_->get(root_key());
    if (!r) return r.error();
    if (!r.value()) return Digest{};
    if (r.value()->size() != Digest::size) return Error{errc::corruption, "MerkleSearchTree: the root record is not a digest"};
    return Digest::from(*r.value());
  }

  /// The node with digest `d`, if this tree holds it.
  Result<std::optional<MstNode>> node(const Digest& d) const {
    auto raw = store_->get(node_key(d));
    if (!raw) return raw.error();
    if (!raw.value()) return std::optional<MstNode>{};
    auto n = MstNode::decode(*raw.value());
    if (!n) return n.error();
    return std::optional<MstNode>(std::move(n).value());
  }
  /// Whether this tree holds the node with digest `d` (and so every key and value under it).
  Result<bool> has(const Digest& d) const {
    return store_->get(node_key(d), [](std::string_view) {});
  }

  /// The value digest held for `key`, if any.
  Result<std::optional<Digest>> get(std::string_view key) const {
    auto at = root();
    if (!at) return at.error();
    for (Digest d = at.value(); d;) {
      auto n = load(d);
      if (!n) return n.error();
      const auto& node = n.value();
      const std::size_t i = node.lower_bound(key);
      if (i < node.entries.size() && node.entries[i].key == key) return std::optional<Digest>(node.entries[i].value);
      d = node.slot(i);
    }
    return std::optional<Digest>{};
  }

  /// Sets `key`'s value digest.
  Result<void> put(std::string_view key, const Digest& value) {
    return atomically([&](auto& tree) -> Result<void> {
      auto at = tree.root();
      if (!at) return at.error();
      auto top = tree.insert(at.value(), key, layer_of(key), value);
      if (!top) return top.error();
      return tree.set_root(top.value());
    });
  }

  /// Removes `key`; false if it was absent.
  Result<bool> erase(std::string_view key) {
    return atomically([&](auto& tree) -> Result<bool> {
      auto at = tree.root();
      if (!at) return at.error();
      auto out = tree.remove(at.value(), key, layer_of(key));
      if (!out) return out.error();
      if (!out.value().second) return false;
      if (auto r = tree.set_root(out.value().first); !r) return r.error();
      return true;
    });
  }

  /// Compares `remote`, a node of another replica's tree, with this tree: adds to `out` its
  /// subtrees this tree does not hold (to fetch and compare next) and its keys whose value
  /// digest differs here or that are absent here. Starting from the other's root and following
  /// `fetch`, only subtrees whose digests differ are ever visited.
  Result<void> diff(const MstNode& remote, MstDiff& out) const {
    for (std::size_t i = 0; i <= remote.entries.size(); ++i) {
      const Digest& sub = remote.slot(i);
      if (!sub) continue;
      auto held = has(sub);
      if (!held) return held.error();
      if (!held.value()) out.fetch.push_back(sub);
    }
    for (const auto& e : remote.entries) {
      auto mine = get(e.key);
      if (!mine) return mine.error();
      if (mine.value() != e.value) out.keys.push_back(e.key);
    }
    return success();
  }

 private:
  template <class, std::size_t>
  friend class MerkleSearchTree;

  std::string root_key() const { return prefix_ + 'r'; }
  std::string node_key(const Digest& d) const {
    std::string k = prefix_ + 'n';
    k.append(d.view());
    return k;
  }

  /// Runs `fn(tree)` over a transaction of S when S has one (so a write is all or nothing),
  /// else over S itself (a transaction already).
  template <class F>
  auto atomically(F&& fn) {
    if constexpr (detail::HasTransact<S>) {
      using R = decltype(fn(*this));
      R out = Error{errc::io_error, "MerkleSearchTree: the transaction did not run"};
      auto r = store_->transact([&](auto& tx) -> Result<void> {
        MerkleSearchTree<std::remove_reference_t<decltype(tx)>, Fanout> tree(tx, prefix_);
        out = fn(tree);
        if (!out) return out.error();
        return success();
      });
      if (!r) return R(r.error());
      return out;
    } else {
      return fn(*this);
    }
  }

  Result<MstNode> load(const Digest& d) const {
    auto n = node(d);
    if (!n) return n.error();
    if (!n.value()) return Error{errc::corruption, "MerkleSearchTree: node " + d.hex() + " is missing"};
    return std::move(*n.value());
  }
  /// Writes `n` and returns its digest.
  Result<Digest> store(const MstNode& n) {
    std::string bytes = n.encode();
    const Digest d = Digest::of(bytes);
    if (auto r = store_->put(node_key(d), bytes); !r) return r.error();
    return d;
  }
  /// Removes node `d` (it is being replaced; no other place holds it).
  Result<void> drop(const Digest& d) {
    auto r = store_->erase(node_key(d));
    if (!r) return r.error();
    return success();
  }
  Result<void> set_root(const Digest& d) {
    if (!d) {
      auto r = store_->erase(root_key());
      if (!r) return r.error();
      return success();
    }
    return store_->put(root_key(), d.view());
  }

  /// The tree `t` with `key` (of layer `layer`) set to `value`.
  Result<Digest> insert(const Digest& t, std::string_view key, std::uint32_t layer, const Digest& value) {
    if (!t) return store(MstNode{layer, {}, {{std::string(key), value, {}}}});
    auto loaded = load(t);
    if (!loaded) return loaded.error();
    MstNode n = std::move(loaded).value();
    if (layer > n.layer) {  // key goes above this node: it splits the tree in two
      auto halves = split(t, key);
      if (!halves) return halves.error();
      return store(MstNode{layer, halves.value().first, {{std::string(key), value, halves.value().second}}});
    }
    if (auto r = drop(t); !r) return r.error();
    const std::size_t i = n.lower_bound(key);
    if (layer == n.layer) {
      if (i < n.entries.size() && n.entries[i].key == key) {
        n.entries[i].value = value;
      } else {  // the subtree around the key's place splits at it
        auto halves = split(n.slot(i), key);
        if (!halves) return halves.error();
        n.slot(i) = halves.value().first;
        n.entries.insert(n.entries.begin() + static_cast<std::ptrdiff_t>(i),
                         MstNode::Entry{std::string(key), value, halves.value().second});
      }
      return store(n);
    }
    auto sub = insert(n.slot(i), key, layer, value);
    if (!sub) return sub.error();
    n.slot(i) = sub.value();
    return store(n);
  }

  /// The tree `t` (which does not hold `key`) cut into the trees of the keys below and above it.
  Result<std::pair<Digest, Digest>> split(const Digest& t, std::string_view key) {
    if (!t) return std::pair<Digest, Digest>{};
    auto loaded = load(t);
    if (!loaded) return loaded.error();
    MstNode n = std::move(loaded).value();
    if (auto r = drop(t); !r) return r.error();
    const std::size_t i = n.lower_bound(key);
    auto halves = split(n.slot(i), key);
    if (!halves) return halves.error();
    MstNode right{n.layer, halves.value().second, {}};
    right.entries.assign(std::make_move_iterator(n.entries.begin() + static_cast<std::ptrdiff_t>(i)),
                         std::make_move_iterator(n.entries.end()));
    n.entries.resize(i);
    n.slot(i) = halves.value().first;
    // A side with no entries is just its subtree: a node always holds a key.
    Digest low = halves.value().first, high = halves.value().second;
    if (!n.entries.empty()) {
      auto d = store(n);
      if (!d) return d.error();
      low = d.value();
    }
    if (!right.entries.empty()) {
      auto d = store(right);
      if (!d) return d.error();
      high = d.value();
    }
    return std::pair{low, high};
  }

  /// The tree `t` without `key` (of layer `layer`), and whether it held it.
  Result<std::pair<Digest, bool>> remove(const Digest& t, std::string_view key, std::uint32_t layer) {
    if (!t) return std::pair{t, false};
    auto loaded = load(t);
    if (!loaded) return loaded.error();
    MstNode n = std::move(loaded).value();
    if (layer > n.layer) return std::pair{t, false};
    const std::size_t i = n.lower_bound(key);
    if (layer == n.layer) {
      if (i == n.entries.size() || n.entries[i].key != key) return std::pair{t, false};
      if (auto r = drop(t); !r) return r.error();
      auto joined = merge(n.slot(i), n.entries[i].right);  // the subtrees on either side join
      if (!joined) return joined.error();
      n.entries.erase(n.entries.begin() + static_cast<std::ptrdiff_t>(i));
      n.slot(i) = joined.value();
      if (n.entries.empty()) return std::pair{n.left, true};
      auto d = store(n);
      if (!d) return d.error();
      return std::pair{d.value(), true};
    }
    auto sub = remove(n.slot(i), key, layer);
    if (!sub) return sub.error();
    if (!sub.value().second) return std::pair{t, false};
    if (auto r = drop(t); !r) return r.error();
    n.slot(i) = sub.value().first;
    auto d = store(n);
    if (!d) return d.error();
    return std::pair{d.value(), true};
  }

  /// One tree of the keys of `a` and of `b`, where every key of `a` is below every key of `b`.
  Result<Digest> merge(const Digest& a, const Digest& b) {
    if (!a) return b;
    if (!b) return a;
    auto la = load(a);
    if (!la) return la.error();
    auto lb = load(b);
    if (!lb) return lb.error();
    MstNode& x = la.value();
    MstNode& y = lb.value();
    if (x.layer >= y.layer)
      if (auto r = drop(a); !r) return r.error();
    if (y.layer >= x.layer)
      if (auto r = drop(b); !r) return r.error();
    if (x.layer > y.layer) {  // b joins a's last subtree
      auto joined = merge(x.entries.back().right, b);
      if (!joined) return joined.error();
      x.entries.back().right = joined.value();
      return store(x);
    }
    if (x.layer < y.layer) {  // a joins b's first subtree
      auto joined = merge(a, y.left);
      if (!joined) return joined.error();
      y.left = joined.value();
      return store(y);
    }
    auto joined = merge(x.entries.back().right, y.left);  // one node: a's entries, then b's
    if (!joined) return joined.error();
    x.entries.back().right = joined.value();
    x.entries.insert(x.entries.end(), std::make_move_iterator(y.entries.begin()), std::make_move_iterator(y.entries.end()));
    return store(x);
  }

  S* store_;
  std::string prefix_;
};

}  // namespace kvstack
