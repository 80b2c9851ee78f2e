// libFuzzer target for redis::resp::RequestParser. Beyond "no crash, no sanitizer report", it
// checks the parser's contract: it never consumes more than it is given, a ready request has at
// least one argument, and parsing the input in pieces gives what parsing it whole gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/resp.hpp>

namespace {
using kvstack::redis::resp::RequestParser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome run(std::string_view input, std::size_t chunk) {
  RequestParser p({.max_bulk = 1 << 16, .max_args = 1 << 10, .max_inline = 1 << 10});
  Outcome out;
  std::string buf;
  for (std::size_t at = 0; at < input.size() && out.error.empty();) {
    auto piece = input.substr(at, chunk);
    at += piece.size();
    buf += piece;
    std::string_view rest = buf;
    while (!rest.empty()) {
      auto used = p.feed(rest);
      if (used > rest.size()) std::abort();
      rest.remove_prefix(used);
      if (p.state() == RequestParser::ready) {
        out.commands.push_back(p.take());
        if (out.commands.back().empty()) std::abort();
      } else if (p.state() == RequestParser::failed) {
        out.error = p.error();
        break;
      } else if (used == 0) {
        break;
      }
    }
    buf = std::string(rest);
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto whole = run(input, std::string_view::npos);
  auto pieces = run(input, 1 + data[0] % 16);
  if (!(whole == pieces)) std::abort();
  return 0;
}
