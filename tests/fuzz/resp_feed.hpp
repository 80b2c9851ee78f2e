// Feeds a redis::resp::RequestParser as a server reading a socket does: the input arrives in
// pieces of `chunk` bytes, unconsumed bytes are kept for the next piece. Shared by the parser's
// tests and its fuzz target.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/resp.hpp>

namespace kvstack::test {

struct Fed {
  std::vector<std::vector<std::string>> commands;
  std::string error;
  std::size_t left = 0;      ///< bytes never consumed
  bool overrun = false;      ///< the parser claimed more bytes than it was given
  bool empty_command = false;  ///< a ready request without arguments
  bool operator==(const Fed&) const = default;
};

inline Fed feed_in_pieces(std::string_view input, std::size_t chunk, redis::resp::Limits limits = {}) {
  using redis::resp::RequestParser;
  RequestParser p(limits);
  Fed out;
  std::string buf;
  for (std::size_t at = 0; at < input.size() && out.error.empty() && !out.overrun;) {
    auto piece = input.substr(at, chunk);
    at += piece.size();
    buf += piece;
    std::string_view rest = buf;
    while (!rest.empty()) {
      auto used = p.feed(rest);
      if (used > rest.size()) {
        out.overrun = true;
        break;
      }
      rest.remove_prefix(used);
      if (p.state() == RequestParser::ready) {
        out.commands.push_back(p.take());
        out.empty_command |= out.commands.back().empty();
      } else if (p.state() == RequestParser::failed) {
        out.error = p.error();
        break;
      } else if (used == 0) {
        break;
      }
    }
    buf = std::string(rest);
  }
  out.left = buf.size();
  return out;
}

}  // namespace kvstack::test
