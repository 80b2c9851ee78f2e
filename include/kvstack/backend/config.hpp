// kvstack::Config and kvstack::open — choose an engine at run time, from code or from the
// environment (KV_BACKEND, KV_PATH, KV_PARAMS), without virtual dispatch.
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <type_traits>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/backend/any.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// Which engine to open, where, with which engine parameters.
struct Config {
  std::string backend = "memory";  ///< "memory", "lmdb" or "rocksdb"
  std::filesystem::path path;      ///< the store's directory (durable engines)
  std::map<std::string, std::string> params;

  /// Parses "name=value,name=value" (the format of KV_PARAMS); an entry without '=' or with an
  /// empty name, or a name given twice, is errc::invalid_argument.
  static Result<std::map<std::string, std::string>> parse_params(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
      auto comma = text.find(',');
      std::string_view entry = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      auto eq = entry.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return Error{errc::invalid_argument, "KV_PARAMS: malformed entry '" + std::string(entry) + "' (want name=value)"};
      if (!out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))).second)
        return Error{errc::invalid_argument, "KV_PARAMS: '" + std::string(entry.substr(0, eq)) + "' given twice"};
    }
    return out;
  }

  /// KV_BACKEND (default "memory"), KV_PATH, KV_PARAMS.
  static Result<Config> from_env() {
    Config c;
    if (const char* b = std::getenv("KV_BACKEND"); b && *b) c.backend = b;
    if (const char* p = std::getenv("KV_PATH")) c.path = p;
    if (const char* p = std::getenv("KV_PARAMS")) {
      auto params = parse_params(p);
      if (!params) return params.error();
      c.params = std::move(params.value());
    }
    return c;
  }
};

namespace detail {
// Parses an engine parameter's value into `field`: true/false/1/0/yes/no/on/off for bools; a
// number with an optional K/M/G/T suffix (powers of 1024) for integers.
inline bool parse_param(std::string_view text, bool& field) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return field = true, true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return field = false, true;
  return false;
}
template <class T>
  requires std::is_integral_v<T>
bool parse_param(std::string_view text, T& field) {
  if constexpr (std::is_signed_v<T>) {
    if (text.starts_with('-')) {  // a negative number: no suffix
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), field);
      return ec == std::errc() && end == text.data() + text.size();
    }
  }
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return false;
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (!suffix.empty()) {
    const auto unit = std::string_view("KMGT").find(static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0]))));
    if (unit == std::string_view::npos || suffix.size() > 1) return false;
    shift = 10 * static_cast<int>(unit + 1);
  }
  if (n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return false;
  n <<= shift;
  if (n > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
  field = static_cast<T>(n);
  return true;
}

// Applies `config.params` to an engine's options through `set(name, value) -> int`
// (1 done, 0 malformed value, -1 unknown name).
template <class Set>
Result<void> apply_params(const Config& config, Set&& set) {
  for (const auto& [name, value] : config.params) {
    int r = set(std::string_view(name), std::string_view(value));
    if (r < 0) return Error{errc::invalid_argument, config.backend + " backend: unknown parameter '" + name + "'"};
    if (r == 0)
      return Error{errc::invalid_argument, config.backend + " backend: malformed value '" + value + "' for '" + name + "'"};
  }
  return success();
}

template <class B>
Result<AnyBackend> to_any(Result<B> db) {
  if (!db) return db.error();
  return AnyBackend(std::move(db).value());
}

inline Error not_compiled(const Config& config) {
  return {errc::invalid_argument, "backend '" + config.backend + "' is not compiled into this program"};
}
inline Result<void> need_path(const Config& config) {
  if (config.path.empty())
    return Error{errc::invalid_argument, "backend '" + config.backend + "' needs a path (Config::path, KV_PATH)"};
  return success();
}
}  // namespace detail

/// Opens the engine `config` names. An unknown engine, one not compiled into this program, a
/// missing path, an unknown parameter or a malformed value is errc::invalid_argument with a
/// message naming it. Parameters: lmdb — max_map_size, sync, max_readers; rocksdb —
/// compression, block_cache_size, bloom_bits_per_key, write_buffer_size, max_open_files, sync
/// (see LmdbOptions and RocksDbOptions).
inline Result<AnyBackend> open(const Config& config) {
  if (config.backend == "memory") {
    auto none = detail::apply_params(config, [](std::string_view, std::string_view) { return -1; });
    if (!none) return none.error();
    return AnyBackend(MemoryBackend{});
  }
  if (config.backend == "lmdb") {
#if KVSTACK_WITH_LMDB
    if (auto ok = detail::need_path(config); !ok) return ok.error();
    LmdbOptions o;
    auto applied = detail::apply_params(config, [&](std::string_view name, std::string_view value) -> int {
      if (name == "max_map_size") return detail::parse_param(value, o.max_map_size);
      if (name == "sync") return detail::parse_param(value, o.sync);
      if (name == "max_readers") return detail::parse_param(value, o.max_readers);
      return -1;
    });
    if (!applied) return applied.error();
    return detail::to_any(LmdbBackend::open(config.path, o));
#else
    return detail::not_compiled(config);
#endif
  }
  if (config.backend == "rocksdb") {
#if KVSTACK_WITH_ROCKSDB
    if (auto ok = detail::need_path(config); !ok) return ok.error();
    RocksDbOptions o;
    auto applied = detail::apply_params(config, [&](std::string_view name, std::string_view value) -> int {
      if (name == "compression") return parse_compression(value, o.compression);
      if (name == "block_cache_size") return detail::parse_param(value, o.block_cache_size);
      if (name == "bloom_bits_per_key") return detail::parse_param(value, o.bloom_bits_per_key);
      if (name == "write_buffer_size") return detail::parse_param(value, o.write_buffer_size);
      if (name == "max_open_files") return detail::parse_param(value, o.max_open_files);
      if (name == "sync") return detail::parse_param(value, o.sync);
      return -1;
    });
    if (!applied) return applied.error();
    return detail::to_any(RocksDbBackend::open(config.path, o));
#else
    return detail::not_compiled(config);
#endif
  }
  return Error{errc::invalid_argument, "unknown backend '" + config.backend + "' (known: memory, lmdb, rocksdb)"};
}

}  // namespace kvstack
