// Writes the seed corpora of the codec fuzz targets (tests/fuzz/corpus/binary, corpus/key):
//   g++ -std=c++20 -Iinclude -Itests tests/fuzz/write_codec_seeds.cpp -o /tmp/seeds && /tmp/seeds tests/fuzz/corpus
#include <cstdio>
#include <fstream>
#include <string>

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>

#include "fuzz/fuzz_types.hpp"

using namespace kvstack::test::fuzz;

namespace {
void write(const std::string& path, char first, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << first << bytes;
}
std::string key_bytes(const Key& k) {
  std::string out;
  kvstack::KeyCodec<Key>::encode(k, out);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  boost::uuids::uuid u{};
  for (std::size_t i = 0; i < u.size(); ++i) u.data[i] = static_cast<std::uint8_t>(i * 17);
  const Flat flat{-42, 8080, 2.5, true, std::string("node\0one", 8)};
  Nested nested{flat, {flat, Flat{}}, {{"a", {1, -2}}, {"", {}}}, "a note", std::string("x"), {1, 2, 3, 4}, u};
  write(dir + "/binary/flat", 0, kvstack::BinarySerializer::encode(flat));
  write(dir + "/binary/flat_empty", 0, kvstack::BinarySerializer::encode(Flat{}));
  write(dir + "/binary/nested", 1, kvstack::BinarySerializer::encode(nested));
  nested.choice = flat;
  nested.note.reset();
  write(dir + "/binary/nested_variant_struct", 1, kvstack::BinarySerializer::encode(nested));
  write(dir + "/binary/nested_empty", 1, kvstack::BinarySerializer::encode(Nested{}));
  const std::string a = key_bytes({-1, "a\0b", u, 7}), b = key_bytes({5, "", {}, 0});
  write(dir + "/key/two_keys", static_cast<char>(a.size()), a + b);
  write(dir + "/key/one_key", static_cast<char>(200), key_bytes({INT64_MIN, std::string(3, '\xff'), u, UINT32_MAX}));
  write(dir + "/key/empty", 0, "");
  std::puts("wrote the codec seed corpora");
}
