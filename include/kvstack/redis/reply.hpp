// kvstack::redis::Reply — what a command answers, shaped as RESP: simple string, error, integer,
// bulk string, null, array, and RESP3's double, map, set and verbatim string (a front end
// speaking RESP2 sends a double or verbatim string as a bulk string, a map or set as an array);
// `pairs` is a flat array in RESP2 and an array of two-element arrays in RESP3, as Redis answers
// WITHSCORES; `push` is RESP3's out-of-band array (Pub/Sub), an array in RESP2. Also the argument
// parsers every command shares, with Redis's rules and error texts.
#pragma once

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvstack::inline v0::redis {

struct Reply {
  enum class Kind : std::uint8_t { simple, error, integer, bulk, null, array, null_array, number, map, set, pairs, verbatim, push };
  Kind kind = Kind::null;
  std::int64_t integer = 0;
  std::string text;              ///< simple, error, bulk, verbatim; number: as Redis prints it
  std::vector<Reply> elements;   ///< array, set; map and pairs: key, value, key, value...

  bool is_error() const noexcept { return kind == Kind::error; }
  friend bool operator==(const Reply&, const Reply&) = default;
};

/// A command's arguments, the command name first (as argv).
using Args = std::span<const std::string>;

/// ASCII lower case: Redis's command names and options are ASCII, whatever the locale.
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

namespace reply {
inline Reply simple(std::string s) { return {Reply::Kind::simple, 0, std::move(s), {}}; }
inline Reply ok() { return simple("OK"); }
inline Reply error(std::string s) { return {Reply::Kind::error, 0, std::move(s), {}}; }
inline Reply integer(std::int64_t n) { return {Reply::Kind::integer, n, {}, {}}; }
inline Reply bulk(std::string_view s) { return {Reply::Kind::bulk, 0, std::string(s), {}}; }
inline Reply null() { return {}; }
inline Reply null_array() { return {Reply::Kind::null_array, 0, {}, {}}; }
inline Reply array(std::vector<Reply> items = {}) { return {Reply::Kind::array, 0, {}, std::move(items)}; }
inline Reply map(std::vector<Reply> pairs = {}) { return {Reply::Kind::map, 0, {}, std::move(pairs)}; }
inline Reply set(std::vector<Reply> items = {}) { return {Reply::Kind::set, 0, {}, std::move(items)}; }
/// Out of band data (Pub/Sub messages): RESP3's push type, an array in RESP2.
inline Reply push(std::vector<Reply> items) { return {Reply::Kind::push, 0, {}, std::move(items)}; }
inline Reply pairs(std::vector<Reply> flat = {}) { return {Reply::Kind::pairs, 0, {}, std::move(flat)}; }
/// Text for people (INFO): RESP3 sends it as a verbatim string of format "txt".
inline Reply verbatim(std::string s) { return {Reply::Kind::verbatim, 0, std::move(s), {}}; }
inline Reply optional_bulk(const std::optional<std::string>& s) { return s ? bulk(*s) : null(); }

/// A double as Redis 7.0 replies it: printf's "%.17g" (which reads back the same), "inf", "-inf".
inline std::string format_double(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  return std::string(buf, static_cast<std::size_t>(n));
}
inline Reply number(double d) { return {Reply::Kind::number, 0, format_double(d), {}}; }

inline Reply wrongtype() { return error("WRONGTYPE Operation against a key holding the wrong kind of value"); }
inline Reply not_integer() { return error("ERR value is not an integer or out of range"); }
inline Reply not_float() { return error("ERR value is not a valid float"); }
inline Reply syntax() { return error("ERR syntax error"); }
inline Reply overflow() { return error("ERR increment or decrement would overflow"); }
inline Reply no_such_key() { return error("ERR no such key"); }
inline Reply out_of_range() { return error("ERR index out of range"); }
inline Reply must_be_positive() { return error("ERR value is out of range, must be positive"); }
inline Reply too_big() { return error("ERR string exceeds maximum allowed size (proto-max-bulk-len)"); }
inline Reply wrong_arity(std::string_view name) {
  return error("ERR wrong number of arguments for '" + ascii_lower(name) + "' command");
}
}  // namespace reply

/// Redis's bound on a string value (proto-max-bulk-len): 512 MB.
inline constexpr std::size_t max_string_size = 512u * 1024 * 1024;

/// ASCII case-insensitive equality, for options ("ex", "EX").
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

/// A 64-bit integer as Redis reads one: optional '-', no '+', no spaces, no leading zeros, no "-0".
inline std::optional<std::int64_t> parse_integer(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::size_t digits = s[0] == '-' ? 1 : 0;
  if (s.size() == digits || (s[digits] == '0' && (s.size() > digits + 1 || digits == 1))) return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// A double as Redis reads one: strtod's syntax (with "inf"), no surrounding spaces, no NaN, and
/// nothing that overflows to infinity or underflows to zero (1e400, 1e-400), unless `bound` (a
/// score range's min or max, which Redis reads as strtod does).
inline std::optional<double> parse_double(std::string_view s, bool bound = false) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
  std::string z(s);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(z.c_str(), &end);
  if (end != z.c_str() + z.size() || std::isnan(d)) return std::nullopt;
  if (!bound && errno == ERANGE && (std::isinf(d) || d == 0)) return std::nullopt;
  return d;
}

/// A long double, for INCRBYFLOAT, which computes in long double as Redis does (read as
/// parse_double reads a double, up to Redis's 5,119 characters: a sum written in full may be long).
inline std::optional<long double> parse_long_double(std::string_view s) {
  if (s.empty() || s.size() >= 5 * 1024 || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
  std::string z(s);
  char* end = nullptr;
  errno = 0;
  long double d = std::strtold(z.c_str(), &end);
  if (end != z.c_str() + z.size() || std::isnan(d) || (errno == ERANGE && (std::isinf(d) || d == 0))) return std::nullopt;
  return d;
}

/// A long double as INCRBYFLOAT stores it: fixed notation, 17 decimals, trailing zeros dropped.
inline std::string format_long_double(long double d) {
  char buf[5000];
  int n = std::snprintf(buf, sizeof buf, "%.17Lf", d);
  std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

/// The reply as one line of text, for tests and logs: `+OK`, `-ERR ...`, `:1`, `"bulk"`, `(nil)`,
/// `[a, b]`, `(double) 1.5`, `{k: v}`.
inline std::string to_text(const Reply& r) {
  switch (r.kind) {
    case Reply::Kind::simple: return "+" + r.text;
    case Reply::Kind::error: return "-" + r.text;
    case Reply::Kind::integer: return ":" + std::to_string(r.integer);
    case Reply::Kind::bulk:
    case Reply::Kind::verbatim: return "\"" + r.text + "\"";
    case Reply::Kind::null: return "(nil)";
    case Reply::Kind::null_array: return "(nil array)";
    case Reply::Kind::number: return "(double) " + r.text;
    case Reply::Kind::array:
    case Reply::Kind::set:
    case Reply::Kind::pairs:
    case Reply::Kind::push:
    case Reply::Kind::map: {
      bool map = r.kind == Reply::Kind::map;
      std::string s = map ? "{" : "[";
      for (std::size_t i = 0; i < r.elements.size(); ++i) {
        if (i) s += map && i % 2 ? ": " : ", ";
        s += to_text(r.elements[i]);
      }
      return s + (map ? "}" : "]");
    }
  }
  return {};
}

}  // namespace kvstack::redis
