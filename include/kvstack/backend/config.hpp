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

namespace detail {
inline std::string_view trim(std::string_view s) noexcept {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace detail

/// Which engine to open, where, with which engine parameters.
struct Config {
  /// "memory", "lmdb", "rocksdb", "sqlite", "postgres" or "redis". Empty: the embedded persistent engine (LMDB; RocksDB when
  /// only it is compiled in) when `path` is set, memory when it is not.
  std::string backend;
  std::filesystem::path path;  ///< the store's directory (its parent must exist); postgres: a connection string; redis: a URL
  std::map<std::string, std::string> params;  ///< engine parameters (see open())

  /// Parses "name=value,name=value" (the format of KV_PARAMS; spaces around names and values are
  /// dropped). An entry without '=' or with an empty name, or a name given twice, is
  /// errc::invalid_argument.
  static Result<std::map<std::string, std::string>> parse_params(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
      auto comma = text.find(',');
      std::string_view entry = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      auto eq = entry.find('=');
      const std::string_view name = detail::trim(entry.substr(0, eq));
      if (eq == std::string_view::npos || name.empty())
        return Error{errc::invalid_argument, "KV_PARAMS: malformed entry '" + std::string(entry) + "' (want name=value)"};
      if (!out.emplace(std::string(name), std::string(detail::trim(entry.substr(eq + 1)))).second)
        return Error{errc::invalid_argument, "KV_PARAMS: '" + std::string(name) + "' given twice"};
    }
    return out;
  }

  /// KV_BACKEND, KV_PATH and KV_PARAMS; unset or empty ones leave the defaults.
  static Result<Config> from_env() {
    Config c;
    if (const char* b = std::getenv("KV_BACKEND")) c.backend = detail::trim(b);
    if (const char* p = std::getenv("KV_PATH")) c.path = std::string(detail::trim(p));
    if (const char* p = std::getenv("KV_PARAMS")) {
      auto params = parse_params(p);
      if (!params) return params.error();
      c.params = std::move(params.value());
    }
    return c;
  }
};

namespace detail {
// The forms a parameter's value takes, for error messages and the README's table.
inline constexpr std::string_view bool_forms = "true or false (or 1/0, yes/no, on/off)";
inline constexpr std::string_view number_forms =
    "a whole number, optionally with a unit in powers of 1024: K, KB or KiB; M, MB or MiB; G, GB or GiB; T, TB or TiB";

// Parses an engine parameter's value into `field`; false if malformed.
inline bool parse_param(std::string_view text, bool& field) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return field = true, true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return field = false, true;
  return false;
}
template <class T>
  requires std::is_integral_v<T>
bool parse_param(std::string_view text, T& field) {
  if constexpr (std::is_signed_v<T>) {
    if (text.starts_with('-')) {  // a negative number: no unit
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), field);
      return ec == std::errc() && end == text.data() + text.size();
    }
  }
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return false;
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (!unit.empty()) {
    const auto scale = std::string_view("KMGT").find(unit[0]);
    if (scale == std::string_view::npos || !(unit.size() == 1 || unit.substr(1) == "B" || unit.substr(1) == "IB")) return false;
    shift = 10 * static_cast<int>(scale + 1);
  }
  if (n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return false;
  n <<= shift;
  if (n > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
  field = static_cast<T>(n);
  return true;
}
inline bool parse_param(std::string_view text, std::string& field) {
  field = text;
  return !text.empty();
}
inline std::string_view forms_of(const bool&) { return bool_forms; }
inline std::string_view forms_of(const std::string&) { return "a non-empty name"; }
template <class T>
std::string_view forms_of(const T&) {
  return number_forms;
}

// One engine parameter: its name and where its value goes.
template <class T>
struct Param {
  std::string_view name;
  T* field;
};
template <class T>
Param(std::string_view, T*) -> Param<T>;  // Clang 16 deduces no aggregate's arguments

// Applies `config.params` to the fields named in `known`; an unknown name or a malformed value is
// errc::invalid_argument that lists the names, or the forms the value takes.
template <class... T>
Result<void> apply_params(const Config& config, std::string_view engine, Param<T>... known) {
  for (const auto& [raw_name, raw_value] : config.params) {
    const std::string_view name = trim(raw_name), value = trim(raw_value);
    bool found = false;
    std::string_view want;
    [[maybe_unused]] const auto try_one = [&](auto param) {
      if (found || param.name != name) return;
      found = true;
      if (!parse_param(value, *param.field)) want = forms_of(*param.field);
    };
    (try_one(known), ...);
    if (!found) {
      std::string names;
      ((names += names.empty() ? "" : ", ", names += known.name), ...);
      return Error{errc::invalid_argument, std::string(engine) + " backend: unknown parameter '" + std::string(name) +
                                               "' (its parameters: " + (names.empty() ? "none" : names) + ")"};
    }
    if (!want.empty())
      return Error{errc::invalid_argument, std::string(engine) + " backend: malformed value '" + std::string(value) +
                                               "' for '" + std::string(name) + "' (want " + std::string(want) + ")"};
  }
  return success();
}

template <class B>
Result<AnyBackend> to_any(Result<B> db) {
  if (!db) return db.error();
  return AnyBackend(std::move(db).value());
}

inline Error not_compiled(std::string_view engine) {
  return {errc::invalid_argument, "backend '" + std::string(engine) + "' is not compiled into this program"};
}
inline Result<void> check_path(std::string_view engine, const std::filesystem::path& path) {
  if (path.empty())
    return Error{errc::invalid_argument, "backend '" + std::string(engine) + "' needs a path (Config::path, KV_PATH)"};
  return success();
}
}  // namespace detail

/// Opens the engine `config` names (see Config::backend for the default). An unknown engine, one
/// not compiled into this program, a path for memory, a missing path or parent directory for a
/// persistent engine, an unknown parameter or a malformed value is errc::invalid_argument with
/// a message naming it and what is accepted. Parameters (README, "Configuration", has the table):
/// lmdb — max_map_size, sync, max_readers; rocksdb — compression, block_cache_size,
/// bloom_bits_per_key, write_buffer_size, max_open_files, sync; sqlite — sync, busy_timeout_ms,
/// max_idle_readers, table; postgres — table, max_idle_connections, fetch_rows, sync,
/// max_retries; redis — name, max_idle_connections, scan_batch, timeout_ms, max_retries (see
/// LmdbOptions, RocksDbOptions, SqliteOptions, PostgresOptions and RedisOptions). For postgres
/// the path is a libpq connection string (empty: libpq's defaults), for redis a URL (empty:
/// redis://127.0.0.1:6379/0).
inline Result<AnyBackend> open(const Config& config) {
  std::string engine(detail::trim(config.backend));
  if (engine.empty()) engine = config.path.empty() ? "memory" : KVSTACK_WITH_LMDB ? "lmdb" : KVSTACK_WITH_ROCKSDB ? "rocksdb" : "";
  if (engine.empty())
    return Error{errc::invalid_argument, "a path (" + config.path.string() +
                                             ") was given without a backend, and no persistent engine is compiled into this program"};
  if (engine == "memory") {
    if (!config.path.empty())
      return Error{errc::invalid_argument, "backend 'memory' keeps nothing on disk, yet a path was given (" +
                                               config.path.string() + "): name a persistent backend, or drop the path"};
    if (auto none = detail::apply_params(config, engine); !none) return none.error();
    return AnyBackend(MemoryBackend{});
  }
  if (engine == "lmdb") {
#if KVSTACK_WITH_LMDB
    if (auto ok = detail::check_path(engine, config.path); !ok) return ok.error();
    LmdbOptions o;
    auto applied = detail::apply_params(config, engine, detail::Param{"max_map_size", &o.max_map_size},
                                        detail::Param{"sync", &o.sync}, detail::Param{"max_readers", &o.max_readers});
    if (!applied) return applied.error();
    return detail::to_any(LmdbBackend::open(config.path, o));
#else
    return detail::not_compiled(engine);
#endif
  }
  if (engine == "rocksdb") {
#if KVSTACK_WITH_ROCKSDB
    if (auto ok = detail::check_path(engine, config.path); !ok) return ok.error();
    RocksDbOptions o;
    auto applied = detail::apply_params(
        config, engine, detail::Param{"compression", &o.compression}, detail::Param{"block_cache_size", &o.block_cache_size},
        detail::Param{"bloom_bits_per_key", &o.bloom_bits_per_key}, detail::Param{"write_buffer_size", &o.write_buffer_size},
        detail::Param{"max_open_files", &o.max_open_files}, detail::Param{"sync", &o.sync});
    if (!applied) return applied.error();
    return detail::to_any(RocksDbBackend::open(config.path, o));
#else
    return detail::not_compiled(engine);
#endif
  }
  if (engine == "sqlite") {
#if KVSTACK_WITH_SQLITE
    if (auto ok = detail::check_path(engine, config.path); !ok) return ok.error();
    SqliteOptions o;
    auto applied = detail::apply_params(config, engine, detail::Param{"sync", &o.sync},
                                        detail::Param{"busy_timeout_ms", &o.busy_timeout_ms},
                                        detail::Param{"max_idle_readers", &o.max_idle_readers}, detail::Param{"table", &o.table});
    if (!applied) return applied.error();
    return detail::to_any(SqliteBackend::open(config.path, o));
#else
    return detail::not_compiled(engine);
#endif
  }
  if (engine == "postgres") {
#if KVSTACK_WITH_POSTGRES
    PostgresOptions o;
    auto applied = detail::apply_params(config, engine, detail::Param{"table", &o.table},
                                        detail::Param{"max_idle_connections", &o.max_idle_connections},
                                        detail::Param{"fetch_rows", &o.fetch_rows}, detail::Param{"sync", &o.sync},
                                        detail::Param{"max_retries", &o.max_retries});
    if (!applied) return applied.error();
    return detail::to_any(PostgresBackend::open(config.path.string(), o));
#else
    return detail::not_compiled(engine);
#endif
  }
  if (engine == "redis") {
#if KVSTACK_WITH_REDIS
    RedisOptions o;
    auto applied = detail::apply_params(config, engine, detail::Param{"name", &o.name},
                                        detail::Param{"max_idle_connections", &o.max_idle_connections},
                                        detail::Param{"scan_batch", &o.scan_batch}, detail::Param{"timeout_ms", &o.timeout_ms},
                                        detail::Param{"max_retries", &o.max_retries});
    if (!applied) return applied.error();
    return detail::to_any(RedisBackend::open(config.path.empty() ? "redis://127.0.0.1:6379/0" : config.path.string(), o));
#else
    return detail::not_compiled(engine);
#endif
  }
  return Error{errc::invalid_argument, "unknown backend '" + engine + "' (known: memory, lmdb, rocksdb, sqlite, postgres, redis)"};
}

}  // namespace kvstack
