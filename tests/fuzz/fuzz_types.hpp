// The value and key types the codec fuzz targets decode, shared with the program that writes
// their seed corpora (tests/fuzz/write_codec_seeds.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include <boost/uuid/uuid.hpp>

namespace kvstack::test::fuzz {

/// A flat struct of scalars and a string.
struct Flat {
  std::int64_t id = 0;
  std::uint16_t port = 0;
  double score = 0;
  bool active = false;
  std::string name;
};

/// A struct of containers, optionals, variants and a nested struct.
struct Nested {
  Flat head;
  std::vector<Flat> items;
  std::map<std::string, std::vector<std::int32_t>> index;
  std::optional<std::string> note;
  std::variant<std::monostate, std::int64_t, std::string, Flat> choice;
  std::array<std::uint8_t, 4> tag{};
  boost::uuids::uuid id{};
};

/// A composite registry key.
using Key = std::tuple<std::int64_t, std::string, boost::uuids::uuid, std::uint32_t>;

}  // namespace kvstack::test::fuzz
