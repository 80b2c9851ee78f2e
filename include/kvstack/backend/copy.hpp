// kvstack::copy_all — copy every key of one backend into another, in bounded batches.
#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>

#include <kvstack/core/concepts.hpp>

namespace kvstack::inline v0 {

/// Where a copy stands: keys and bytes (keys + values) written so far.
struct CopyProgress {
  std::size_t keys = 0;
  std::size_t bytes = 0;
};

/// Copies every entry of `src` (one snapshot) into `dst`, in key order, as write batches of
/// about `batch_bytes` each, so memory stays flat however large the store. Keys already in
/// `dst` are overwritten; others are left alone. `progress(CopyProgress)`, if given, is called
/// after each batch. Returns the number of keys copied; on an error, what was written before it
/// stays written.
template <class Src, class Dst, class Progress = void (*)(CopyProgress)>
Result<std::size_t> copy_all(const Src& src, Dst& dst, Progress&& progress = nullptr,
                             std::size_t batch_bytes = std::size_t(4) << 20) {
  static_assert(check_backend<Src>() && check_backend<Dst>());
  CopyProgress done;
  WriteBatch batch;
  std::size_t pending = 0;
  auto flush = [&]() -> Result<void> {
    if (batch.empty()) return success();
    if (auto r = dst.write(batch); !r) return r;
    batch.clear();
    pending = 0;
    using P = std::remove_cvref_t<Progress>;
    if constexpr (std::is_null_pointer_v<P>) {
    } else if constexpr (std::is_pointer_v<P>) {
      if (progress) progress(done);
    } else {
      std::invoke(progress, done);
    }
    return success();
  };
  auto scan = src.scan(KeyRange::all().streaming());  // the batch holds copies
  for (auto&& [key, value] : scan) {
    batch.put(key, value);
    pending += key.size() + value.size();
    ++done.keys;
    done.bytes += key.size() + value.size();
    if (pending >= batch_bytes) {
      if (auto r = flush(); !r) return r.error();
    }
  }
  if (auto st = scan.status(); !st) return st.error();
  if (auto r = flush(); !r) return r.error();
  return done.keys;
}

}  // namespace kvstack
