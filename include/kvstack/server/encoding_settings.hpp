// kvstack::redis::EncodingSettings — Redis's encoding thresholds (hash-max-listpack-entries and
// the like), which CONFIG SET accepts and CONFIG GET reports, and which change nothing: kvstack
// keeps every collection one way (an entry per element).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

/// The thresholds, by Redis 7.0's names (the ziplist names are aliases), with Redis's defaults.
/// Thread-safe.
class EncodingSettings {
 public:
  /// Each setting's name and value (and each alias, with the value of what it names).
  std::vector<std::pair<std::string, std::string>> all() const {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : settings_) {
      out.emplace_back(s.name, std::to_string(s.value));
      if (!s.alias.empty()) out.emplace_back(s.alias, std::to_string(s.value));
    }
    return out;
  }
  /// Sets each (name, value) pair of `pairs` (an even number of arguments), all or none; an error
  /// reply as Redis gives it if one is not a setting here or its value not an integer.
  std::optional<Reply> set(Args pairs) {
    std::vector<std::pair<std::size_t, std::int64_t>> changes;
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
      auto at = index_of(pairs[i]);
      if (!at) return reply::error("ERR Unknown option or number of arguments for CONFIG SET - '" + pairs[i] + "'");
      auto v = parse_integer(pairs[i + 1]);
      if (!v)
        return reply::error("ERR CONFIG SET failed (possibly related to argument '" + pairs[i] +
                            "') - argument couldn't be parsed into an integer");
      changes.emplace_back(*at, *v);
    }
    std::lock_guard lock(mu_);
    for (auto [at, v] : changes) settings_[at].value = v;
    return std::nullopt;
  }

 private:
  struct Setting {
    std::string_view name, alias;
    std::int64_t value;
  };
  std::optional<std::size_t> index_of(std::string_view name) const {
    for (std::size_t i = 0; i < std::size(settings_); ++i)
      if (iequals(name, settings_[i].name) || (!settings_[i].alias.empty() && iequals(name, settings_[i].alias))) return i;
    return std::nullopt;
  }

  mutable std::mutex mu_;
  Setting settings_[10] = {
      {"hash-max-listpack-entries", "hash-max-ziplist-entries", 512},
      {"hash-max-listpack-value", "hash-max-ziplist-value", 64},
      {"set-max-intset-entries", "", 512},
      {"zset-max-listpack-entries", "zset-max-ziplist-entries", 128},
      {"zset-max-listpack-value", "zset-max-ziplist-value", 64},
      {"list-max-listpack-size", "list-max-ziplist-size", -2},
      {"list-compress-depth", "", 0},
      {"stream-node-max-entries", "", 100},
      {"stream-node-max-bytes", "", 4096},
      {"busy-reply-threshold", "lua-time-limit", 5000},
  };
};

}  // namespace kvstack::redis
