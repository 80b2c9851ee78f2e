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
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/detail/byte_order.hpp>

namespace kvstack::inline v0::detail {

/// Keys are shorter than 4 GiB (max_key_size). Not thread-safe by itself: the owner serializes writers against readers (MemoryBackend holds
/// a shared_mutex). A Snapshot, once taken, may be read from any thread without a lock: nodes it
/// reaches are never modified again, because a writer copies any node whose count exceeds one.
/// The same holds for an Entry (a key and its value) once pinned.
class CowBTree {
 public:
  /// The longest key the tree holds.
  static constexpr std::size_t max_key_size = 0xffffffffu;

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

  struct EntryRelease {
    void operator()(const Entry* e) const noexcept { release(e); }
  };

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
      char* d = on_heap() ? (heap_ = new char[size_]) : local_;
      if (size_ != 0) std::memcpy(d, k.data(), size_);  // keys are under 4 GiB (MemoryBackend checks)
    }
    void take(NodeKey& o) noexcept {
      std::memcpy(local_, o.local_, local);  // the pointer or the bytes: a fixed size copies fastest
      size_ = std::exchange(o.size_, 0);
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
      if (compare_bytes(n->keys[mid], key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  // The child of an inner node whose subtree may hold key.
  static int child_index(const Inner* n, std::string_view key) {
    int lo = 1, hi = n->count;  // first i >= 1 with keys[i] > key, minus one
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (compare_bytes(n->keys[mid], key) <= 0) lo = mid + 1; else hi = mid;
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
    friend class CowBTree;
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

  /// Inserts or overwrites; true if the key was new. If it throws (std::bad_alloc), the tree is
  /// as it was.
  bool assign(std::string_view key, std::string_view value) {
    index_.reserve_one();
    if (auto inserted = assign_path(key, value, false)) return *inserted;  // no node splits: in place
    const bool inserted = !index_.find(key, Index::hash(key));
    apply(1, [&](Batch& b) { b.assign(key, value); });  // pinned: undone if a split throws
    return inserted;
  }

  /// Removes key; true if it was present. If it throws (std::bad_alloc), the tree is as it was.
  bool erase(std::string_view key) {
    const std::size_t h = Index::hash(key);
    if (!index_.find(key, h)) return false;  // no copy-on-write for a key that is not there
    if (!erase_path(key, h, false)) apply(1, [&](Batch& b) { b.erase(key); });  // nodes merge: pinned
    return true;
  }

  /// The writes of one `apply`.
  class Batch {
   public:
    void assign(std::string_view key, std::string_view value) {
      tree_->index_.reserve_one();
      if (!tree_->changes_ && tree_->write_in_place(key, &value)) return;
      tree_->pin();
      tree_->assign_path(key, value, true);
    }
    void erase(std::string_view key) {
      const std::size_t h = Index::hash(key);
      if (!tree_->index_.find(key, h)) return;
      if (!tree_->changes_ && tree_->write_in_place(key, nullptr)) return;
      tree_->pin();
      tree_->erase_path(key, h, true);
    }

   private:
    friend class CowBTree;
    explicit Batch(CowBTree* tree) : tree_(tree) {}
    CowBTree* tree_;
  };
  /// Runs `fill(Batch&)`, which makes at most `max_writes` assigns and erases, all or nothing: if
  /// it throws (std::bad_alloc, or fill's own exception), the tree is as it was.
  ///
  /// Writes that fit in their leaf are made in place and logged, so that they can be taken back
  /// without allocating. From the first write that splits or merges a node on, the tree as it
  /// then is stays pinned: every node a write touches is copied first, and the index's changes
  /// are logged. Undoing is then: the log, the pinned root, the in-place writes in reverse.
  template <class Fill>
  void apply(std::size_t max_writes, Fill&& fill) {
    std::vector<InPlace> in_place;
    std::vector<IndexChange> log;
    in_place.reserve(max_writes);
    log.reserve(max_writes);
    in_place_ = &in_place;
    log_ = &log;
    Batch batch(this);
    try {
      fill(batch);
    } catch (...) {
      if (changes_) {
        for (auto it = log.rbegin(); it != log.rend(); ++it) {
          if (it->before) index_.set(const_cast<Entry*>(it->before), it->hash);
          else index_.erase(it->after->key(), it->hash);
        }
        release(root_);
        root_ = pinned_;  // its reference passes back to root_
      }
      for (auto it = in_place.rbegin(); it != in_place.rend(); ++it) undo(*it);
      end_apply(false);
      throw;
    }
    end_apply(true);
  }

 private:
  // A node split off during an insert, and the smallest key under it; released if the insert
  // stops (throws) before the node is linked into its parent.
  struct Split {
    Node* right = nullptr;
    NodeKey key;
    Split() = default;
    Split(const Split&) = delete;
    Split& operator=(const Split&) = delete;
    ~Split() {
      if (right) release(right);
    }
  };
  // What an index slot held before a pinned write, for undoing it. Both entries are retained
  // until apply ends: an unwinding insert may release its nodes first.
  struct IndexChange {
    std::size_t hash;
    const Entry* before;  // null: the key was absent
    const Entry* after;   // null: the key was erased
  };
  // A write apply made in place in a leaf, with what undoes it without allocating.
  struct InPlace {
    enum class Kind : std::uint8_t { insert, replace, erase };
    Kind kind;
    Leaf* leaf;
    int at;
    std::size_t hash;
    Entry* entry;  // insert: the new entry; replace and erase: the old one, kept until apply ends
    NodeKey key;   // erase: the key taken out
  };

  // From now until apply ends, writes copy what they touch (see apply).
  void pin() noexcept {
    if (changes_) return;
    pinned_ = root_;
    retain(pinned_);
    changes_ = log_;
  }
  void undo(InPlace& w) noexcept {
    Leaf* l = w.leaf;
    if (w.kind == InPlace::Kind::insert) {
      index_.erase(w.entry->key(), w.hash);
      release(l->slots[w.at]);
      close_gap(l, w.at, 1);
    } else if (w.kind == InPlace::Kind::replace) {
      index_.set(w.entry, w.hash);
      release(std::exchange(l->slots[w.at], w.entry));
      w.entry = nullptr;  // back in the tree
    } else {
      open_gap(l, w.at, 1);
      l->keys[w.at] = std::move(w.key);
      l->slots[w.at] = w.entry;
      index_.set(w.entry, w.hash);
      w.entry = nullptr;
    }
  }
  void end_apply(bool applied) noexcept {
    for (auto& w : *in_place_)
      if (w.kind != InPlace::Kind::insert && w.entry) release(w.entry);
    for (auto& c : *log_) {
      if (c.before) release(c.before);
      if (c.after) release(c.after);
    }
    if (changes_ && applied) release(pinned_);
    in_place_ = nullptr;
    log_ = changes_ = nullptr;
    pinned_ = nullptr;
  }
  // In apply, before anything was pinned: `key` written (`value`) or erased (null) in its leaf,
  // and logged; false, with nothing changed but copies of shared nodes, when the leaf would split
  // or merge.
  bool write_in_place(std::string_view key, const std::string_view* value) {
    Node** slot = &root_;
    int depth = 0;
    for (; !(*slot)->leaf; ++depth) {
      Inner* in = own<Inner>(*slot);
      slot = &in->slots[child_index(in, key)];
    }
    Leaf* l = own<Leaf>(*slot);
    const int i = lower_bound(l, key);
    const bool present = i < l->count && std::string_view(l->keys[i]) == key;
    const std::size_t h = Index::hash(key);
    if (!value) {
      if (depth > 0 && l->count - 1 < min_fill) return false;
      in_place_->push_back({InPlace::Kind::erase, l, i, h, l->slots[i], std::move(l->keys[i])});  // reserved
      index_.erase(key, h);
      close_gap(l, i, 1);
      return true;
    }
    if (!present && l->count == cap) return false;
    std::unique_ptr<Entry, EntryRelease> e(Entry::make(key, *value));  // released if what follows throws
    NodeKey k;
    if (!present) k = key;  // may throw: e is released, nothing changed
    if (present) {
      in_place_->push_back({InPlace::Kind::replace, l, i, h, l->slots[i], {}});
      l->slots[i] = e.get();
    } else {
      Split none;  // the leaf has room: it does not split
      insert_at(l, i, std::move(k), e.get(), none);
      in_place_->push_back({InPlace::Kind::insert, l, i, h, e.get(), {}});
    }
    index_.set(e.release(), h);
    return true;
  }
  // Points the index at e (or, with e null, removes key), logging the change when pinned.
  void index_set(std::string_view key, std::size_t h, Entry* e) noexcept {
    if (changes_) {
      const Entry* before = index_.find(key, h);
      if (before) retain(before);
      if (e) retain(e);
      changes_->push_back({h, before, e});  // reserved by apply: does not allocate
    }
    if (e) index_.set(e, h);  // cannot throw: reserve_one made room
    else index_.erase(key, h);
  }

  // Inserts or overwrites key. Without `restructure`, returns nullopt (having changed nothing but
  // copies of shared nodes) when more than a leaf would split, so that the caller retries pinned:
  // a leaf's split allocates all it needs before it moves anything, and its parent then has room.
  std::optional<bool> assign_path(std::string_view key, std::string_view value, bool restructure) {
    Split split;
    auto inserted = assign_in(root_, key, value, split, restructure, false);
    if (!inserted) return std::nullopt;
    if (split.right) {
      auto* root = new Inner(false);  // throws: split releases the right half (pinned: discarded)
      root->keys[1] = std::move(split.key);
      root->slots[0] = root_;
      root->slots[1] = std::exchange(split.right, nullptr);
      root->count = 2;
      root_ = root;
    }
    return inserted;
  }
  // Removes key, which is present. Without `restructure`, returns false (having changed nothing
  // but copies of shared nodes) when nodes would merge or refill, so that the caller retries pinned.
  bool erase_path(std::string_view key, std::size_t h, bool restructure) {
    if (!erase_in(root_, key, h, restructure, 0)) return false;
    if (!root_->leaf && root_->count == 1) {  // collapse a root with a single child
      Node* child = as_inner(root_)->slots[0];
      retain(child);
      release(root_);
      root_ = child;
    }
    return true;
  }

  // Makes the node in slot exclusively ours, copying it if a snapshot shares it.
  template <class N>
  static N* own(Node*& slot) {
    if (slot->refs.load(std::memory_order_acquire) == 1) [[likely]]
      return static_cast<N*>(slot);
    return copy_shared<N>(slot);
  }
  template <class N>
  [[gnu::noinline]] static N* copy_shared(Node*& slot) {
    const N* old = static_cast<const N*>(slot);
    std::unique_ptr<N> copy(new N(old->leaf));  // count 0 until filled: deleting it frees only keys
    for (int i = 0; i < old->count; ++i) copy->keys[i] = old->keys[i];  // may throw: nothing changed
    for (int i = 0; i < old->count; ++i) {
      copy->slots[i] = old->slots[i];
      retain(copy->slots[i]);
    }
    copy->count = old->count;
    release(slot);
    slot = copy.release();
    return static_cast<N*>(slot);
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
  // Allocates (the right half, a leaf's separator) before it moves anything.
  template <class N, class S>
  static void insert_at(N* n, int at, NodeKey&& key, S slot, Split& split) {
    if (n->count < cap) {
      open_gap(n, at, 1);
      n->keys[at] = std::move(key);
      n->slots[at] = slot;
      return;
    }
    std::unique_ptr<N> right(new N(n->leaf));
    // Appending past the end (ascending inserts) keeps the left node full instead of half empty.
    int keep = at == cap ? cap : cap / 2;
    // The smallest key under the right half goes up: a leaf's is copied (it stays in the leaf),
    // an inner node's is moved (an inner node's keys[0] is unused).
    NodeKey separator;
    if constexpr (std::is_same_v<N, Leaf>) separator = at == cap ? std::string_view(key) : std::string_view(n->keys[keep]);
    move_entries(n, keep, cap - keep, right.get(), 0);
    right->count = cap - keep;
    n->count = keep;
    N* dst = at == cap || at > keep ? right.get() : n;
    int pos = dst == n ? at : at - keep;
    open_gap(dst, pos, 1);
    dst->keys[pos] = std::move(key);
    dst->slots[pos] = slot;
    if constexpr (std::is_same_v<N, Inner>) separator = std::move(right->keys[0]);
    split.key = std::move(separator);
    split.right = right.release();
  }

  // room_above: the parent can take a split of this node without splitting (or allocating) in turn.
  std::optional<bool> assign_in(Node*& slot, std::string_view key, std::string_view value, Split& split, bool restructure,
                                bool room_above) {
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
      } else if (l->count == cap && !restructure && !room_above) {
        return std::nullopt;  // the leaf and its parent would split
      }
      std::unique_ptr<Entry, EntryRelease> e(Entry::make(key, value));  // released if what follows throws
      NodeKey k;
      if (!present) {
        k = key;
        insert_at(l, i, std::move(k), e.get(), split);
      }
      index_set(key, Index::hash(key), e.get());
      if (present) release(std::exchange(l->slots[i], e.get()));  // after the index, which reads the old key
      e.release();
      return !present;
    }
    Inner* in = own<Inner>(slot);
    int i = child_index(in, key);
    Split child;
    auto inserted = assign_in(in->slots[i], key, value, child, restructure, in->count < cap);
    if (inserted && child.right) {
      insert_at(in, i + 1, std::move(child.key), child.right, split);
      child.right = nullptr;  // linked
    }
    return inserted;
  }

  bool erase_in(Node*& slot, std::string_view key, std::size_t h, bool restructure, int depth) {
    if (slot->leaf) {
      Leaf* l = own<Leaf>(slot);
      if (!restructure && depth > 0 && l->count - 1 < min_fill) return false;  // it would merge or refill
      int i = lower_bound(l, key);
      index_set(key, h, nullptr);  // before the entry goes: the index reads its key
      release(l->slots[i]);
      close_gap(l, i, 1);
      return true;
    }
    Inner* in = own<Inner>(slot);
    int i = child_index(in, key);
    if (!erase_in(in->slots[i], key, h, restructure, depth + 1)) return false;
    if (in->slots[i]->count < min_fill && in->count > 1) {
      if (i + 1 < in->count) rebalance(in, i); else rebalance(in, i - 1);
    }
    return true;
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
  // Inside apply: its logs, and (once a write restructured) the pinned root; changes_ is log_
  // once pinned, null before.
  std::vector<InPlace>* in_place_ = nullptr;
  std::vector<IndexChange>* log_ = nullptr;
  std::vector<IndexChange>* changes_ = nullptr;
  Node* pinned_ = nullptr;
};

}  // namespace kvstack::detail
