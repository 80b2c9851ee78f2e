// kvstack::get_many — reads many keys at once: one round trip where the source can (the
// transactions of the server engines), else a get per key.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// Reads `keys` through `source` (a backend or a transaction): `fn(i, value)` for each `keys[i]`
/// present, with a view valid during the call. One call to `source.get_many(keys, fn)` where the
/// source has it (PostgreSQL: one SELECT; Redis: WATCH and MGET), else `source.get` per key.
template <class Source, class F>
Result<void> get_many(const Source& source, std::span<const std::string_view> keys, F&& fn) {
  if constexpr (requires { source.get_many(keys, fn); }) {
    return source.get_many(keys, fn);
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (auto found = source.get(keys[i], [&](std::string_view value) { fn(i, value); }); !found) return found.error();
    return success();
  }
}

}  // namespace kvstack
