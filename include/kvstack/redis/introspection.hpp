// Redis's introspection commands: OBJECT (ENCODING, REFCOUNT), MEMORY USAGE, TIME.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <kvstack/core/key_range.hpp>
#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
/// The encoding Redis would report for `m`: for a string its shape (int, embstr up to 44 bytes,
/// raw); for a collection the general encoding, since kvstack has no compact ones (each element
/// is an entry of its own, however few there are).
inline std::string_view encoding_of(const Meta& m) {
  switch (m.type) {
    case Type::string: return parse_integer(m.value) ? "int" : m.value.size() <= 44 ? "embstr" : "raw";
    case Type::list: return "quicklist";
    case Type::zset: return "skiplist";
    default: return "hashtable";  // sets and hashes
  }
}
inline Reply unknown_subcommand(std::string_view sub, std::string_view command) {
  return reply::error("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) + "'. Try " +
                      std::string(command) + " HELP.");
}
}  // namespace detail

/// OBJECT ENCODING key (see detail::encoding_of) and OBJECT REFCOUNT key (1: nothing is shared);
/// IDLETIME and FREQ are errors, since kvstack does not track reads.
template <class C>
Reply object(C& c, Args a) {
  const auto sub = ascii_lower(a[1]);
  if (sub == "help" && a.size() == 2)
    return reply::array({reply::simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
                         reply::simple("ENCODING <key>"), reply::simple("    Return the kind of internal representation the Redis object stored at <key> is using."),
                         reply::simple("REFCOUNT <key>"), reply::simple("    Return the reference count of the object stored at <key>.")});
  if (a.size() != 3 || (sub != "encoding" && sub != "refcount" && sub != "idletime" && sub != "freq"))
    return detail::unknown_subcommand(a[1], "OBJECT");
  auto m = c.find(a[2]);
  if (!m) return reply::null();
  if (sub == "encoding") return reply::bulk(detail::encoding_of(*m));
  if (sub == "refcount") return reply::integer(1);
  return reply::error("ERR kvstack does not track reads: OBJECT " + a[1] + " is not supported");
}

/// MEMORY USAGE key [SAMPLES n]: about how many bytes the engine holds for the key (its record,
/// and its elements: `n` of them sampled, 5 by default, 0 for all, and the rest counted at their
/// average); nil for no key.
template <class C>
Reply memory(C& c, Args a) {
  if (!iequals(a[1], "USAGE") || (a.size() != 3 && a.size() != 5)) return detail::unknown_subcommand(a[1], "MEMORY");
  std::int64_t samples = 5;
  if (a.size() == 5) {
    if (!iequals(a[3], "SAMPLES")) return reply::syntax();
    auto n = parse_integer(a[4]);
    if (!n) return reply::not_integer();
    if (*n < 0) return reply::syntax();
    samples = *n;
  }
  auto m = c.find(a[2]);
  if (!m) return reply::null();
  constexpr std::int64_t entry_overhead = 16;  // an engine's own bytes per entry, roughly
  std::int64_t bytes = static_cast<std::int64_t>(m->key.size() + m->value.size()) + 32 + entry_overhead;
  if (m->is_collection() && m->size > 0) {
    // A zset's score index too; a list's records are its chunks.
    const std::int64_t entries = m->type == Type::zset ? 2 * m->size : m->type == Type::list ? m->tail - m->head + 1 : m->size;
    auto sample = c.elems(*m, {}, std::nullopt, false, samples == 0 ? KeyRange::unlimited : static_cast<std::size_t>(samples));
    std::int64_t sampled = 0;
    for (const auto& [sub, value] : sample) sampled += static_cast<std::int64_t>(sub.size() + value.size()) + 8 + entry_overhead;
    if (!sample.empty()) bytes += sampled * entries / static_cast<std::int64_t>(sample.size());
  }
  return reply::integer(bytes);
}

/// TIME: the store's clock, as seconds and microseconds (to the millisecond).
template <class C>
Reply time(C& c, Args) {
  const std::int64_t ms = c.now();
  return reply::array({reply::bulk(std::to_string(ms / 1000)), reply::bulk(std::to_string(ms % 1000 * 1000))});
}

}  // namespace kvstack::redis::cmd
