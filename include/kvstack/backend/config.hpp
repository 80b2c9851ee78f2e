// kvstack::Config and kvstack::open — choose an engine at run time, from code or from the
// environment (KV_BACKEND, KV_PATH, KV_PARAMS), without virtual dispatch.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/backend/any.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack {

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

/// Opens the engine `config` names. An unknown engine, one not compiled into this program, a
/// missing path or an unknown parameter is errc::invalid_argument with a message naming it.
inline Result<AnyBackend> open(const Config& config) {
  if (config.backend == "memory") {
    if (!config.params.empty())
      return Error{errc::invalid_argument, "memory backend: unknown parameter '" + config.params.begin()->first + "'"};
    return AnyBackend(MemoryBackend{});
  }
  if (config.backend == "lmdb" || config.backend == "rocksdb")
    return Error{errc::invalid_argument, "backend '" + config.backend + "' is not compiled into this program"};
  return Error{errc::invalid_argument, "unknown backend '" + config.backend + "' (known: memory, lmdb, rocksdb)"};
}

}  // namespace kvstack
