// detail::CowBTree — the ordered map under MemoryBackend: a B+tree whose nodes are reference
// counted and copied on write only while shared, so a snapshot costs one increment and writes
// mutate in place when no snapshot is open; beside it a hash index of the newest version for
// point lookups.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace kvstack::inline v0::detail {

/// Not thread-safe by itself: the owner serializes writers against readers (MemoryBackend holds
/// a shared_mutex). A Snapshot, once taken, may be read from any thread without a lock: nodes it
/// reaches are never modified again, because a writer copies any node whose count exceeds one.
/// The same holds for an Entry (a key and its value) once pinned.
class CowBTree {
 public:
  /// A key and its value in one allocation, reference counted: shared by every version of the
  /// tree that holds it, and by a reader between its lookup and its use.
  class Entry {
   public:
    std::string_view key() const noexcept { return {bytes(), key_size_}; }
    std::string_view value() const noexcept { return {bytes() + key_size_, value_size_}; }

   private:
    friend class CowBTree;
    Entry(std::string_view key, std::string_view value)
        : key_size_(static_cast<std::uint32_t>(key.size())), value_size_(value.size()) {
      std::memcpy(bytes(), key.data(), key.size());
      if (!value.empty()) std::memcpy(bytes() + key.size(), value.data(), value.size());
    }
    static Entry* make(std::string_view key, std::string_view value) {
      return new (::operator new(sizeof(Entry) + key.size() + value.size())) Entry(key, value);
    }
    char* bytes() const noexcept { return const_cast<char*>(reinterpret_cast<const char*>(this + 1)); }

    mutable std::atomic<std::uint32_t> refs_{1};
    std::uint32_t key_size_;
    std::size_t value_size_;
  };
  static void retain(const Entry* e) noexcept { e->refs_.fetch_add(1, std::memory_order_relaxed); }
  static void release(const Entry* e) noexcept {
    if (e->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    e->~Entry();
    ::operator delete(const_cast<Entry*>(e));
  }

  /// Keeps an entry alive (and unchanged) after the lock it was found under is let go.
  class Pin {
   public:
    explicit Pin(const Entry* e) noexcept : e_(e) { if (e_) retain(e_); }
    Pin(Pin&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
    Pin& operator=(Pin&&) = delete;
    ~Pin() { if (e_) release(e_); }
    const Entry* operator->() const noexcept { return e_; }
    explicit operator bool() const noexcept { return e_ != nullptr; }

   private:
    const Entry* e_;
  };

 private:
  static constexpr int cap = 32;       // entries per leaf, children per inner node
  static constexpr int min_fill = 8;   // a non-root node below this is merged or refilled
  static constexpr int max_depth = 24; // cap^24 entries: never reached

  struct Node {
    explicit Node(bool is_leaf) : leaf(is_leaf) {}
    std::atomic<std::uint32_t> refs{1};
    int count = 0;
    const bool leaf;
  };
  // keys[i] pairs with slots[i]: the value (leaf) or the child (inner). In an inner node keys[i]
  // for i >= 1 is the smallest key under slots[i]; keys[0] is unused.
  // A key held in the node itself when it is at most 40 bytes (most are), so that a binary
  // search reads the node's memory instead of chasing a pointer per comparison.
  class NodeKey {
   public:
    NodeKey() noexcept {}
    NodeKey(const NodeKey& o) { init(o); }
    NodeKey(NodeKey&& o) noexcept { take(o); }
    NodeKey& operator=(const NodeKey& o) { return *this = std::string_view(o); }
    NodeKey& operator=(NodeKey&& o) noexcept {
      if (this != &o) {
        free();
        take(o);
      }
      return *this;
    }
    NodeKey& operator=(std::string_view k) {
      if (k.size() <= local && k.size() > 0 && !on_heap()) {  // may overlap: memmove
        std::memmove(local_, k.data(), k.size());
        size_ = static_cast<std::uint32_t>(k.size());
        return *this;
      }
      NodeKey fresh;
      fresh.init(k);
      return *this = std::move(fresh);
    }
    ~NodeKey() { free(); }
    operator std::string_view() const noexcept { return {on_heap() ? heap_ : local_, size_}; }

   private:
    static constexpr std::uint32_t local = 40;
    bool on_heap() const noexcept { return size_ > local; }
    void init(std::string_view k) {
      size_ = static_cast<std::uint32_t>(k.size());
      char* d = on_heap() ? (heap_ = new char[k.size()]) : local_;
      if (!k.empty()) std::memcpy(d, k.data(), k.size());
    }
    void take(NodeKey& o) noexcept {
      size_ = o.size_;
      if (on_heap()) heap_ = o.heap_;
      else std::memcpy(local_, o.local_, size_);
      o.size_ = 0;
    }
    void free() noexcept {
      if (on_heap()) delete[] heap_;
      size_ = 0;
    }
    union {
      char* heap_ = nullptr;
      char local_[local];
    };
    std::uint32_t size_ = 0;
  };

  template <class Slot>
  struct NodeOf : Node {
    explicit NodeOf(bool is_leaf) : Node(is_leaf) {}
    NodeKey keys[cap];
    Slot slots[cap];
  };
  using Leaf = NodeOf<Entry*>;
  using Inner = NodeOf<Node*>;

  static Leaf* as_leaf(Node* n) { return static_cast<Leaf*>(n); }
  static const Leaf* as_leaf(const Node* n) { return static_cast<const Leaf*>(n); }
  static Inner* as_inner(Node* n) { return static_cast<Inner*>(n); }
  static const Inner* as_inner(const Node* n) { return static_cast<const Inner*>(n); }

  static void retain(Node* n) noexcept { n->refs.fetch_add(1, std::memory_order_relaxed); }
  static void release(Node* n) noexcept {
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (n->leaf) {
      Leaf* l = as_leaf(n);
      for (int i = 0; i < l->count; ++i) release(l->slots[i]);
      delete l;
    } else {
      Inner* in = as_inner(n);
      for (int i = 0; i < in->count; ++i) release(in->slots[i]);
      delete in;
    }
  }

  // First index in [from, n->count) whose key is >= key.
  template <class N>
  static int lower_bound(const N* n, std::string_view key, int from = 0) {
    int lo = from, hi = n->count;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (std::string_view(n->keys[mid]) < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  // The child of an inner node whose subtree may hold key.
  static int child_index(const Inner* n, std::string_view key) {
    int lo = 1, hi = n->count;  // first i >= 1 with keys[i] > key, minus one
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (std::string_view(n->keys[mid]) <= key) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  // The newest version's entries by key: open addressing with linear probing, removal by
  // shifting back (no tombstones), at most 3/4 full.
  class Index {
   public:
    static std::size_t hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }
    const Entry* find(std::string_view key, std::size_t h) const noexcept {
      return slots_ ? slots_[probe(key, h)].entry : nullptr;
    }
    void reserve_one() {
      if ((size_ + 1) * 4 > (mask_ + 1) * 3) grow();
    }
    // Points key (absent or present) at e; reserve_one() first.
    void set(Entry* e, std::size_t h) noexcept {
      Slot& s = slots_[probe(e->key(), h)];
      if (!s.entry) ++size_;
      s = {h, e};
    }
    void erase(std::string_view key, std::size_t h) noexcept {
      std::size_t i = probe(key, h);
      for (std::size_t j = (i + 1) & mask_; slots_[j].entry; j = (j + 1) & mask_) {
        std::size_t home = slots_[j].hash & mask_;
        // Slot j may fill the hole at i unless its home lies cyclically in (i, j].
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
          slots_[i] = slots_[j];
          i = j;
        }
      }
      slots_[i] = {};
      --size_;
    }

   private:
    struct Slot {
      std::size_t hash = 0;
      Entry* entry = nullptr;  // null: empty
    };
    // The slot holding key, or the empty slot where it would go.
    std::size_t probe(std::string_view key, std::size_t h) const noexcept {
      std::size_t i = h & mask_;
      while (slots_[i].entry && (slots_[i].hash != h || slots_[i].entry->key() != key)) i = (i + 1) & mask_;
      return i;
    }
    void grow() {
      std::size_t old_capacity = slots_ ? mask_ + 1 : 0;
      std::size_t capacity = old_capacity ? old_capacity * 2 : 16;
      auto old = std::exchange(slots_, std::make_unique<Slot[]>(capacity));
      mask_ = capacity - 1;
      for (std::size_t i = 0; i < old_capacity; ++i) {
        if (!old[i].entry) continue;
        std::size_t j = old[i].hash & mask_;
        while (slots_[j].entry) j = (j + 1) & mask_;
        slots_[j] = old[i];
      }
    }
    std::unique_ptr<Slot[]> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
  };

 public:
  /// A reference-counted root: a frozen version of the tree.
  class Snapshot {
   public:
    Snapshot() = default;
    explicit Snapshot(Node* root) noexcept : root_(root) { retain(root_); }
    Snapshot(const Snapshot& o) noexcept : root_(o.root_) { if (root_) retain(root_); }
    Snapshot(Snapshot&& o) noexcept : root_(std::exchange(o.root_, nullptr)) {}
    Snapshot& operator=(Snapshot o) noexcept { std::swap(root_, o.root_); return *this; }
    ~Snapshot() { if (root_) release(root_); }
    const Node* root() const noexcept { return root_; }

   private:
    Node* root_ = nullptr;
  };

  /// A position in a snapshot; moves forward and backward in key order.
  class Cursor {
   public:
    explicit Cursor(const Node* root) : root_(root) {}

    bool valid() const noexcept { return leaf_ != nullptr; }
    std::string_view key() const { return leaf_->keys[idx_]; }
    std::string_view value() const { return leaf_->slots[idx_]->value(); }
    /// Identifies the leaf the cursor is on, and its first and last keys: a scan checks its
    /// bound once per leaf instead of once per entry.
    const void* leaf_id() const noexcept { return leaf_; }
    std::string_view leaf_front() const { return leaf_->keys[0]; }
    std::string_view leaf_back() const { return leaf_->keys[leaf_->count - 1]; }

    /// First key >= key.
    void seek(std::string_view key) {
      const Node* n = root_;
      depth_ = 0;
      while (!n->leaf) {
        int i = child_index(as_inner(n), key);
        path_[depth_++] = {as_inner(n), i};
        n = as_inner(n)->slots[i];
      }
      leaf_ = as_leaf(n);
      idx_ = lower_bound(leaf_, key);
      if (idx_ == leaf_->count) next_leaf();
    }
    /// Last key < bound.
    void seek_before(std::string_view bound) {
      seek(bound);
      if (valid()) prev(); else seek_last();
    }
    void seek_last() { descend(root_, 0, true); }

    void next() {
      if (++idx_ == leaf_->count) next_leaf();
    }
    void prev() {
      if (idx_ > 0) {
        --idx_;
        return;
      }
      for (int d = depth_ - 1; d >= 0; --d) {
        if (path_[d].idx > 0) {
          --path_[d].idx;
          descend(path_[d].node->slots[path_[d].idx], d + 1, true);
          return;
        }
      }
      leaf_ = nullptr;
    }

   private:
    struct Frame {
      const Inner* node;
      int idx;
    };
    // Place the cursor on the first (or last) entry under n, which sits at depth d.
    void descend(const Node* n, int d, bool last) {
      while (!n->leaf) {
        assert(d < max_depth);
        int i = last ? n->count - 1 : 0;
        path_[d++] = {as_inner(n), i};
        n = as_inner(n)->slots[i];
      }
      depth_ = d;
      leaf_ = n->count > 0 ? as_leaf(n) : nullptr;
      idx_ = last ? n->count - 1 : 0;
    }
    void next_leaf() {
      for (int d = depth_ - 1; d >= 0; --d) {
        if (path_[d].idx + 1 < path_[d].node->count) {
          ++path_[d].idx;
          descend(path_[d].node->slots[path_[d].idx], d + 1, false);
          return;
        }
      }
      leaf_ = nullptr;
    }

    const Node* root_;
    const Leaf* leaf_ = nullptr;  // null when the cursor is past either end
    int idx_ = 0;
    int depth_ = 0;               // inner levels above leaf_
    Frame path_[max_depth];
  };

  CowBTree() : root_(new Leaf(true)) {}
  CowBTree(const CowBTree&) = delete;
  CowBTree& operator=(const CowBTree&) = delete;
  ~CowBTree() { release(root_); }

  Snapshot snapshot() const noexcept { return Snapshot(root_); }

  /// The entry stored under key, or nullptr: valid until the next write unless pinned.
  const Entry* find(std::string_view key) const noexcept { return index_.find(key, Index::hash(key)); }

  /// Inserts or overwrites; true if the key was new.
  bool assign(std::string_view key, std::string_view value) {
    index_.reserve_one();
    Split split;
    bool inserted = assign_in(root_, key, value, split);
    if (split.right) {
      auto* root = new Inner(false);
      root->slots[0] = root_;
      root->keys[1] = std::move(split.key);
      root->slots[1] = split.right;
      root->count = 2;
      root_ = root;
    }
    return inserted;
  }

  /// Removes key; true if it was present.
  bool erase(std::string_view key) {
    std::size_t h = Index::hash(key);
    if (!index_.find(key, h)) return false;  // no copy-on-write for a key that is not there
    index_.erase(key, h);
    erase_in(root_, key);
    if (!root_->leaf && root_->count == 1) {  // collapse a root with a single child
      Node* child = as_inner(root_)->slots[0];
      retain(child);
      release(root_);
      root_ = child;
    }
    return true;
  }

 private:
  struct Split {
    Node* right = nullptr;
    std::string key;  // smallest key under right
  };

  // Makes the node in slot exclusively ours, copying it if a snapshot shares it.
  template <class N>
  static N* own(Node*& slot) {
    if (slot->refs.load(std::memory_order_acquire) == 1) return static_cast<N*>(slot);
    const N* old = static_cast<const N*>(slot);
    auto* copy = new N(old->leaf);
    copy->count = old->count;
    for (int i = 0; i < old->count; ++i) {
      copy->keys[i] = old->keys[i];
      copy->slots[i] = old->slots[i];
      retain(copy->slots[i]);
    }
    release(slot);
    slot = copy;
    return copy;
  }

  // Moves entries [from, from + n) of src to position at of dst (dst has room, gap opened).
  template <class N>
  static void move_entries(N* src, int from, int n, N* dst, int at) {
    std::move(src->keys + from, src->keys + from + n, dst->keys + at);
    std::move(src->slots + from, src->slots + from + n, dst->slots + at);
  }
  template <class N>
  static void open_gap(N* n, int at, int width) {
    std::move_backward(n->keys + at, n->keys + n->count, n->keys + n->count + width);
    std::move_backward(n->slots + at, n->slots + n->count, n->slots + n->count + width);
    n->count += width;
  }
  template <class N>
  static void close_gap(N* n, int at, int width) {
    std::move(n->keys + at + width, n->keys + n->count, n->keys + at);
    std::move(n->slots + at + width, n->slots + n->count, n->slots + at);
    n->count -= width;
  }

  // Inserts (key, slot) at index at of a node; splits it when full, reporting the new right half.
  template <class N, class K, class S>
  static void insert_at(N* n, int at, K&& key, S&& slot, Split& split) {
    if (n->count < cap) {
      open_gap(n, at, 1);
      n->keys[at] = std::forward<K>(key);
      n->slots[at] = std::forward<S>(slot);
      return;
    }
    auto* right = new N(n->leaf);
    // Appending past the end (ascending inserts) keeps the left node full instead of half empty.
    int keep = at == cap ? cap : cap / 2;
    move_entries(n, keep, cap - keep, right, 0);
    right->count = cap - keep;
    n->count = keep;
    N* dst = at == cap || at > keep ? right : n;
    int pos = dst == n ? at : at - keep;
    open_gap(dst, pos, 1);
    dst->keys[pos] = std::forward<K>(key);
    dst->slots[pos] = std::forward<S>(slot);
    split.right = right;
    // The smallest key under the right half goes up; an inner node's keys[0] is unused after.
    split.key = std::string_view(right->keys[0]);
    if constexpr (std::is_same_v<N, Inner>) right->keys[0] = std::string_view();
  }

  bool assign_in(Node*& slot, std::string_view key, std::string_view value, Split& split) {
    if (slot->leaf) {
      Leaf* l = own<Leaf>(slot);
      int i = lower_bound(l, key);
      bool present = i < l->count && std::string_view(l->keys[i]) == key;
      if (present) {
        Entry*& old = l->slots[i];
        // Nobody else holds the entry (no snapshot, no pin): overwrite a value of the same size.
        if (old->refs_.load(std::memory_order_acquire) == 1 && old->value_size_ == value.size()) {
          if (!value.empty()) std::memcpy(old->bytes() + old->key_size_, value.data(), value.size());
          return false;
        }
      }
      Entry* e = Entry::make(key, value);
      if (!present) insert_at(l, i, key, e, split);
      index_.set(e, Index::hash(key));  // cannot throw: assign made room
      if (present) release(std::exchange(l->slots[i], e));  // after set, which reads the old key
      return !present;
    }
    Inner* in = own<Inner>(slot);
    int i = child_index(in, key);
    Split child;
    bool inserted = assign_in(in->slots[i], key, value, child);
    if (child.right) insert_at(in, i + 1, std::move(child.key), child.right, split);
    return inserted;
  }

  static void erase_in(Node*& slot, std::string_view key) {
    if (slot->leaf) {
      Leaf* l = own<Leaf>(slot);
      int i = lower_bound(l, key);
      release(l->slots[i]);
      close_gap(l, i, 1);
      return;
    }
    Inner* in = own<Inner>(slot);
    int i = child_index(in, key);
    erase_in(in->slots[i], key);
    if (in->slots[i]->count < min_fill && in->count > 1) {
      if (i + 1 < in->count) rebalance(in, i); else rebalance(in, i - 1);
    }
  }

  // Children i and i + 1 of parent: merge them when they fit in one node, else even them out.
  static void rebalance(Inner* parent, int i) {
    if (parent->slots[i]->leaf) rebalance_pair<Leaf>(parent, i); else rebalance_pair<Inner>(parent, i);
  }
  template <class N>
  static void rebalance_pair(Inner* parent, int i) {
    N* a = own<N>(parent->slots[i]);
    N* b = own<N>(parent->slots[i + 1]);
    constexpr bool inner = std::is_same_v<N, Inner>;
    if constexpr (inner) b->keys[0] = std::move(parent->keys[i + 1]);  // pull the separator down
    int total = a->count + b->count;
    if (total <= cap) {
      move_entries(b, 0, b->count, a, a->count);
      a->count = total;
      b->count = 0;  // b's children now belong to a; release b alone
      release(b);
      close_gap(parent, i + 1, 1);
      return;
    }
    int want = total / 2;
    if (a->count < want) {
      int n = want - a->count;
      move_entries(b, 0, n, a, a->count);
      a->count += n;
      close_gap(b, 0, n);
    } else {
      int n = a->count - want;
      open_gap(b, 0, n);
      move_entries(a, want, n, b, 0);
      a->count = want;
    }
    if constexpr (inner) parent->keys[i + 1] = std::move(b->keys[0]); else parent->keys[i + 1] = b->keys[0];
  }

  Node* root_;
  Index index_;
};

}  // namespace kvstack::detail
