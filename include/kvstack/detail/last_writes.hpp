// detail::last_writes — what a WriteBatch leaves behind: the last operation on each key, for
// engines that apply a batch as set operations (one SQL statement, one MULTI/EXEC).
#pragma once

#include <map>
#include <optional>
#include <string_view>

#include <kvstack/core/write_batch.hpp>

namespace kvstack::inline v0::detail {

/// Each key of `batch` once, in key order, with its last value (empty: erased). Views into `batch`.
inline std::map<std::string_view, std::optional<std::string_view>> last_writes(const WriteBatch& batch) {
  std::map<std::string_view, std::optional<std::string_view>> last;
  for (const auto& op : batch)
    last.insert_or_assign(op.key, op.kind == WriteBatch::Kind::put ? std::optional<std::string_view>(op.value) : std::nullopt);
  return last;
}

}  // namespace kvstack::detail
