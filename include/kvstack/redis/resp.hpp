// kvstack::redis::resp — the Redis serialization protocol: an incremental request parser (RESP
// multibulk and inline commands, with Redis's limits and error texts) and a reply encoder for
// RESP2 and RESP3. No I/O: a server appends what it reads and feeds the parser.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis::resp {

struct Limits {
  std::size_t max_bulk = 512u * 1024 * 1024;  ///< proto-max-bulk-len
  std::size_t max_args = 1024 * 1024;         ///< arguments in one multibulk request
  std::size_t max_inline = 64 * 1024;         ///< an inline request, or a `*n` / `$n` line
};

/// Parses requests from a byte stream. Feed it the unconsumed input; it consumes what it can:
///
///   while (!buf.empty()) {
///     auto used = parser.feed(buf);  buf.remove_prefix(used);
///     if (parser.state() == RequestParser::ready) run(parser.take());
///     else if (parser.state() == RequestParser::failed) { reply(parser.error()); close(); }
///     else break;  // needs more bytes
///   }
///
/// A request's bulk strings are copied into its argv as they arrive, so a large value is never
/// parsed twice; a line (`*n`, `$n`, an inline request) is consumed only once whole.
class RequestParser {
 public:
  enum State { more, ready, failed };

  explicit RequestParser(Limits limits = {}) : limits_(limits) {}

  /// Consumes bytes from the start of `in`; returns how many.
  std::size_t feed(std::string_view in) {
    if (state_ != more) return 0;
    std::size_t used = 0;
    while (state_ == more && used < in.size()) {
      auto rest = in.substr(used);
      std::size_t n = args_left_ == 0 ? start(rest) : (bulk_left_ ? bulk_data(rest) : bulk_header(rest));
      if (n == 0) break;
      used += n;
    }
    return used;
  }

  State state() const noexcept { return state_; }
  /// The protocol error, as the reply to send before closing ("ERR Protocol error: ...").
  const std::string& error() const noexcept { return error_; }
  /// The complete request; the parser then reads the next one.
  std::vector<std::string> take() {
    state_ = more;
    return std::exchange(argv_, {});
  }

 private:
  static constexpr std::size_t npos = std::string_view::npos;

  std::size_t fail(std::string message) {
    state_ = failed;
    error_ = "ERR Protocol error: " + std::move(message);
    return 0;
  }
  struct Line {
    std::string_view text;  ///< without the "\r\n" (or "\n")
    std::size_t used;       ///< with it
  };
  /// The line at the start of `in`, if whole; fails when longer than max_inline, whole or not
  /// (so that the outcome never depends on how the input was split).
  std::optional<Line> line(std::string_view in, const char* too_big) {
    auto end = in.find('\n');
    if (end == npos ? in.size() > limits_.max_inline : end > limits_.max_inline) fail(too_big);
    if (end == npos || state_ == failed) return std::nullopt;
    auto text = in.substr(0, end);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return Line{text, end + 1};
  }
  static std::optional<std::int64_t> number(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
  }

  /// The common form of a header after its '*' or '$': up to 18 digits, then "\r\n". Returns the
  /// header's length with both (0: another form, which line() and number() then judge).
  static std::size_t short_header(std::string_view in, std::size_t& value) noexcept {
    std::size_t i = 1, v = 0;
    for (; i < in.size() && i < 19 && in[i] >= '0' && in[i] <= '9'; ++i) v = v * 10 + static_cast<std::size_t>(in[i] - '0');
    if (i == 1 || i + 1 >= in.size() || in[i] != '\r' || in[i + 1] != '\n') return 0;
    value = v;
    return i + 2;  // (line() would find its '\n' at i + 1)
  }

  // A new request: "*n" or an inline one.
  std::size_t start(std::string_view in) {
    if (in[0] != '*') return inline_request(in);
    std::size_t n = 0, used = short_header(in, n);
    if (!used || used - 1 > limits_.max_inline) {  // another form: line() and number() judge it
      auto l = line(in, "too big mbulk count string");
      if (!l) return 0;
      auto v = number(l->text.substr(1));
      if (!v) return fail("invalid multibulk length");
      n = *v > 0 ? static_cast<std::size_t>(*v) : 0;  // "*0" and "*-1" are nothing, as in Redis
      used = l->used;
    }
    if (n > limits_.max_args) return fail("invalid multibulk length");
    if (n > 0) {
      args_left_ = n;
      argv_.reserve(std::min<std::size_t>(n, 1024));
    }
    return used;
  }

  std::size_t bulk_header(std::string_view in) {
    if (in[0] != '$') return fail(std::string("expected '$', got '") + in[0] + "'");
    std::size_t size = 0, used = short_header(in, size);
    if (!used || used - 1 > limits_.max_inline) {
      auto l = line(in, "too big bulk count string");
      if (!l) return 0;
      auto n = number(l->text.substr(1));
      if (!n || *n < 0) return fail("invalid bulk length");
      size = static_cast<std::size_t>(*n);
      used = l->used;
    }
    if (size > limits_.max_bulk) return fail("invalid bulk length");
    if (in.size() - used >= size + 2) {  // the data and its "\r\n" are all here: one copy
      argv_.emplace_back(in.substr(used, size));
      if (--args_left_ == 0) state_ = ready;
      return used + size + 2;
    }
    argv_.emplace_back();
    argv_.back().reserve(std::min<std::size_t>(size, 1 << 20));  // grows as data comes
    bulk_left_ = size + 2;  // the data and its "\r\n"
    return used;
  }

  std::size_t bulk_data(std::string_view in) {
    auto& arg = argv_.back();
    std::size_t data_left = bulk_left_ > 2 ? bulk_left_ - 2 : 0;
    std::size_t take = std::min(in.size(), bulk_left_);
    arg.append(in.substr(0, std::min(take, data_left)));
    bulk_left_ -= take;
    if (bulk_left_ == 0 && --args_left_ == 0) state_ = ready;
    return take;
  }

  // An inline request: words separated by spaces, "double quoted" with escapes or 'single quoted'.
  std::size_t inline_request(std::string_view in) {
    auto l = line(in, "too big inline request");
    if (!l) return 0;
    if (!split(l->text)) return fail("unbalanced quotes in request");
    if (!argv_.empty()) state_ = ready;
    return l->used;
  }

  bool split(std::string_view s) {
    std::size_t i = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    while (true) {
      while (i < s.size() && space(s[i])) ++i;
      if (i == s.size()) return true;
      std::string arg;
      char quote = 0;
      for (;; ++i) {
        if (quote == '"') {
          if (i == s.size()) return false;
          if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
            arg.push_back(static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3])));
            i += 3;
          } else if (s[i] == '\\' && i + 1 < s.size()) {
            char c = s[++i];
            arg.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b' : c == 'a' ? '\a' : c);
          } else if (s[i] == '"') {
            if (i + 1 < s.size() && !space(s[i + 1])) return false;  // the closing quote must end the word
            ++i;
            break;
          } else {
            arg.push_back(s[i]);
          }
        } else if (quote == '\'') {
          if (i == s.size()) return false;
          if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
            arg.push_back('\'');
            ++i;
          } else if (s[i] == '\'') {
            if (i + 1 < s.size() && !space(s[i + 1])) return false;
            ++i;
            break;
          } else {
            arg.push_back(s[i]);
          }
        } else {
          if (i == s.size() || space(s[i])) break;
          if (s[i] == '"' || s[i] == '\'') quote = s[i];
          else arg.push_back(s[i]);
        }
      }
      argv_.push_back(std::move(arg));
    }
  }

  Limits limits_;
  State state_ = more;
  std::string error_;
  std::vector<std::string> argv_;
  std::size_t args_left_ = 0;  ///< bulk strings still to read in this request
  std::size_t bulk_left_ = 0;  ///< bytes of the current bulk string (and its "\r\n") still to read
};

/// Appends bulk strings `items` to `out`, growing it once.
inline void bulks(std::span<const Reply> items, std::string& out) {
  auto digits = [](std::size_t n) {
    std::size_t d = 1;
    while (n >= 10) n /= 10, ++d;
    return d;
  };
  std::size_t size = 0;
  for (auto& e : items) size += 5 + digits(e.text.size()) + e.text.size();  // "$", digits, CRLF, text, CRLF
  const auto at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  for (auto& e : items) {
    *p++ = '$';
    p = std::to_chars(p, p + 20, e.text.size()).ptr;
    *p++ = '\r', *p++ = '\n';
    p = std::copy(e.text.begin(), e.text.end(), p);
    *p++ = '\r', *p++ = '\n';
  }
}

/// Appends `r` to `out` in RESP2 (`protocol` 2) or RESP3 (3). RESP2 has no double or map: a
/// double goes as a bulk string, a map as a flat array, as Redis sends them.
inline void encode(const Reply& r, int protocol, std::string& out) {
  auto line = [&](char type, std::string_view text) {
    out.push_back(type);
    const auto from = out.size();
    out.append(text);
    for (auto i = out.find_first_of("\r\n", from); i != std::string::npos; i = out.find_first_of("\r\n", i + 1))
      out[i] = ' ';  // a line cannot hold a break
    out.append("\r\n", 2);
  };
  // "$5\r\n", "*3\r\n", ":-1\r\n" into buf; its length.
  auto head = [](char (&buf)[24], char type, auto n) {
    buf[0] = type;
    char* end = std::to_chars(buf + 1, buf + sizeof buf - 2, n).ptr;
    *end++ = '\r';
    *end++ = '\n';
    return static_cast<std::size_t>(end - buf);
  };
  auto header = [&](char type, auto n) {
    char buf[24];
    out.append(buf, head(buf, type, n));
  };
  auto bulk = [&](std::string_view s) {
    char buf[24];
    out.append(buf, head(buf, '$', s.size())).append(s).append("\r\n", 2);
  };
  switch (r.kind) {
    case Reply::Kind::simple: return line('+', r.text);
    case Reply::Kind::error: return line('-', r.text);
    case Reply::Kind::integer: return header(':', r.integer);
    case Reply::Kind::bulk: return bulk(r.text);
    case Reply::Kind::null: return out.append(protocol >= 3 ? "_\r\n" : "$-1\r\n"), void();
    case Reply::Kind::null_array: return out.append(protocol >= 3 ? "_\r\n" : "*-1\r\n"), void();
    case Reply::Kind::number: return protocol >= 3 ? line(',', r.text) : bulk(r.text);
    case Reply::Kind::verbatim:
      if (protocol < 3) return bulk(r.text);
      out += "=" + std::to_string(r.text.size() + 4) + "\r\ntxt:";
      out += r.text;
      out += "\r\n";
      return;
    case Reply::Kind::pairs:
      if (protocol >= 3) {
        header('*', r.elements.size() / 2);
        for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
          out += "*2\r\n";
          encode(r.elements[i], protocol, out);
          encode(r.elements[i + 1], protocol, out);
        }
        return;
      }
      [[fallthrough]];
    case Reply::Kind::array:
    case Reply::Kind::set:
    case Reply::Kind::push:
    case Reply::Kind::map: {
      bool map = r.kind == Reply::Kind::map && protocol >= 3;
      char type = protocol < 3                     ? '*'
                  : map                            ? '%'
                  : r.kind == Reply::Kind::set     ? '~'
                  : r.kind == Reply::Kind::push    ? '>'
                                                   : '*';
      header(type, map ? r.elements.size() / 2 : r.elements.size());
      if (std::ranges::all_of(r.elements, [](const Reply& e) { return e.kind == Reply::Kind::bulk; }))
        return bulks(r.elements, out);  // the common case (LRANGE, HGETALL...): in one go
      for (auto& e : r.elements) encode(e, protocol, out);
      return;
    }
  }
}

}  // namespace kvstack::redis::resp
