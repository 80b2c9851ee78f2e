// libFuzzer target for redis::resp::RequestParser. Beyond "no crash, no sanitizer report", it
// checks the parser's contract: it never consumes more than it is given, a ready request has at
// least one argument, and parsing the input in pieces gives what parsing it whole gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/resp_feed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  kvstack::redis::resp::Limits limits{.max_bulk = 1 << 16, .max_args = 1 << 10, .max_inline = 1 << 10};
  auto whole = kvstack::test::feed_in_pieces(input, std::string_view::npos, limits);
  auto pieces = kvstack::test::feed_in_pieces(input, 1 + data[0] % 16, limits);
  if (whole.overrun || whole.empty_command || pieces.overrun || pieces.empty_command) std::abort();
  whole.left = pieces.left = 0;  // what is left unparsed may differ with the split; nothing else may
  if (!(whole == pieces)) std::abort();
  return 0;
}
