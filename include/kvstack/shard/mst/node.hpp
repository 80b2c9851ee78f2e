// kvstack::MstNode — one node of a Merkle Search Tree and its byte encoding: the keys of one
// layer in order, each with its value's digest, and the subtrees between them by digest.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>
#include <kvstack/shard/mst/digest.hpp>

namespace kvstack::inline v0 {

/// A node: `entries` (at least one, keys ascending, all of layer `layer`) and the subtrees
/// around them, each the tree of the keys in its interval (a zero digest: none). `left` holds
/// the keys below the first entry; an entry's `right`, those between it and the next.
struct MstNode {
  struct Entry {
    std::string key;
    Digest value;  ///< the digest of the key's value
    Digest right;  ///< the subtree after this entry
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::uint32_t layer = 0;
  Digest left;
  std::vector<Entry> entries;
  friend bool operator==(const MstNode&, const MstNode&) = default;

  /// The subtree before entry `i` (`i == entries.size()`: after the last).
  Digest& slot(std::size_t i) { return i == 0 ? left : entries[i - 1].right; }
  const Digest& slot(std::size_t i) const { return i == 0 ? left : entries[i - 1].right; }
  /// The index of the first entry whose key is not below `key`.
  std::size_t lower_bound(std::string_view key) const {
    return static_cast<std::size_t>(
        std::ranges::lower_bound(entries, key, {}, [](const Entry& e) -> std::string_view { return e.key; }) -
        entries.begin());
  }

  /// The bytes the node's digest is taken over: the layer, then the left subtree, then each
  /// entry's key (as the length it shares with the previous key and the rest), value digest and
  /// right subtree. A subtree is a flag byte and, when present, its digest.
  std::string encode() const {
    std::string out;
    out.reserve(8 + entries.size() * 80);
    detail::put_varint(layer, out);
    put_subtree(left, out);
    detail::put_varint(entries.size(), out);
    std::string_view previous;
    for (const auto& e : entries) {
      const auto shared = static_cast<std::size_t>(
          std::ranges::mismatch(previous, e.key).in1 - previous.begin());
      detail::put_varint(shared, out);
      detail::put_varint(e.key.size() - shared, out);
      out.append(e.key, shared);
      out.append(e.value.view());
      put_subtree(e.right, out);
      previous = e.key;
    }
    return out;
  }

  /// Reads what `encode` wrote; anything else (cut short, keys out of order, no entries,
  /// trailing bytes) is errc::corruption.
  static Result<MstNode> decode(std::string_view in) {
    auto bad = [](const char* what) { return Error{errc::corruption, std::string("MstNode: ") + what}; };
    MstNode n;
    std::uint64_t layer = 0, count = 0;
    if (!detail::take_varint(in, layer) || layer > 256) return bad("bad layer");
    n.layer = static_cast<std::uint32_t>(layer);
    if (!take_subtree(in, n.left)) return bad("bad left subtree");
    if (!detail::take_varint(in, count) || count == 0 || count > in.size()) return bad("bad entry count");
    n.entries.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto& e = n.entries[i];
      std::uint64_t shared = 0;
      std::string_view rest;
      if (!detail::take_varint(in, shared) || shared > (i == 0 ? 0 : n.entries[i - 1].key.size()))
        return bad("bad shared key length");
      if (!detail::take_bytes(in, rest)) return bad("key cut short");
      e.key.reserve(shared + rest.size());
      if (i > 0) e.key.assign(n.entries[i - 1].key, 0, shared);
      e.key.append(rest);
      if (i > 0 && e.key <= n.entries[i - 1].key) return bad("keys out of order");
      if (in.size() < Digest::size) return bad("value digest cut short");
      e.value = Digest::from(in.substr(0, Digest::size));
      in.remove_prefix(Digest::size);
      if (!take_subtree(in, e.right)) return bad("bad right subtree");
    }
    if (!in.empty()) return bad("trailing bytes");
    return n;
  }

 private:
  static void put_subtree(const Digest& d, std::string& out) {
    out.push_back(d ? '\1' : '\0');
    if (d) out.append(d.view());
  }
  static bool take_subtree(std::string_view& in, Digest& d) {
    if (in.empty() || static_cast<unsigned char>(in[0]) > 1) return false;
    const bool present = in[0] == '\1';
    in.remove_prefix(1);
    if (!present) return true;
    if (in.size() < Digest::size) return false;
    d = Digest::from(in.substr(0, Digest::size));
    in.remove_prefix(Digest::size);
    return static_cast<bool>(d);  // a present subtree is never the zero digest
  }
};

}  // namespace kvstack
