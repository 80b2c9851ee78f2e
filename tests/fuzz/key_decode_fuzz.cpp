// libFuzzer target for the key codec's decode (KeyCodec of a composite key: int64, string,
// uuid, uint32). The first byte says where the input splits into two keys. Beyond "no crash":
// a key decodes from its own encoding and nothing else (decode then encode gives back exactly
// the bytes consumed), and the encodings of two keys order as the keys do.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <kvstack/codec/key.hpp>

#include "fuzz/fuzz_types.hpp"

namespace {
using kvstack::test::fuzz::Key;

// The key at the front of `bytes`, checked to re-encode to exactly what it consumed.
std::optional<Key> decode_one(std::string_view bytes) {
  std::string_view in = bytes;
  Key key;
  if (!kvstack::KeyCodec<Key>::decode(in, key)) return std::nullopt;
  std::string encoded;
  kvstack::KeyCodec<Key>::encode(key, encoded);
  if (encoded != bytes.substr(0, bytes.size() - in.size())) std::abort();
  return key;
}
std::string encode(const Key& key) {
  std::string out;
  kvstack::KeyCodec<Key>::encode(key, out);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);
  auto a = decode_one(input.substr(0, split));
  auto b = decode_one(input.substr(split));
  if (a && b && (*a < *b) != (encode(*a) < encode(*b))) std::abort();  // std::string compares bytes unsigned
  return 0;
}
