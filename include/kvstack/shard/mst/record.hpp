// kvstack::MstRecord — what an Mst replica stores for a key: a last-writer-wins register (the
// value, or a tombstone for a delete) and the stamp of the write that set it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/mst/hybrid_clock.hpp>

namespace kvstack::inline v0 {

/// A stamped value or tombstone. Encoded as the stamp, a kind byte (0 value, 1 tombstone) and
/// the value's bytes last, so that a reader views the value inside the stored record.
struct MstRecord {
  Stamp stamp;
  std::optional<std::string> value;  ///< nullopt: a tombstone
  friend bool operator==(const MstRecord&, const MstRecord&) = default;

  /// This record, viewed (its value stays here).
  struct View;
  View view() const;

  std::string encode() const {
    std::string out;
    stamp.encode(out);
    out.push_back(value ? '\0' : '\1');
    if (value) out.append(*value);
    return out;
  }

  /// A decoded record that views its value in the stored bytes.
  struct View {
    Stamp stamp;
    bool tombstone = false;
    std::string_view value;
    MstRecord owned() const { return {stamp, tombstone ? std::nullopt : std::optional<std::string>(value)}; }
  };
  /// Reads `bytes` (as `encode` wrote them); errc::corruption otherwise.
  static Result<View> decode(std::string_view bytes) {
    View v;
    if (!v.stamp.take(bytes) || bytes.empty() || static_cast<unsigned char>(bytes[0]) > 1)
      return Error{errc::corruption, "MstRecord: a stored record is damaged"};
    v.tombstone = bytes[0] == '\1';
    bytes.remove_prefix(1);
    if (v.tombstone && !bytes.empty()) return Error{errc::corruption, "MstRecord: a tombstone holds bytes"};
    v.value = bytes;
    return v;
  }
};

inline MstRecord::View MstRecord::view() const { return {stamp, !value, value ? std::string_view(*value) : std::string_view()}; }

}  // namespace kvstack
