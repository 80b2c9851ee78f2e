// Key codec properties on random values: byte order equals value order, decode inverts encode,
// no encoding is a proper prefix of another.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include <kvstack/codec/key.hpp>

using namespace kvstack;

namespace {

std::mt19937_64 rng(7);

template <class T>
T random_value() {
  if constexpr (std::is_same_v<T, std::string>) {
    static const char alphabet[] = {'\0', '\x01', 'a', '\x7f', '\x80', '\xfe', '\xff'};
    std::string s;
    for (auto n = rng() % 6; n > 0; --n) s.push_back(alphabet[rng() % sizeof alphabet]);
    return s;
  } else if constexpr (std::is_same_v<T, boost::uuids::uuid>) {
    boost::uuids::uuid u{};
    for (auto& b : u.data) b = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0xff : rng());
    return u;
  } else if constexpr (std::is_same_v<T, bool>) {
    return rng() % 2 == 1;
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    return std::apply([](auto... e) { return T{random_value<decltype(e)>()...}; }, T{});
  } else {
    // Mix extremes, small values and random bit patterns.
    switch (rng() % 4) {
      case 0: return std::numeric_limits<T>::min();
      case 1: return std::numeric_limits<T>::max();
      case 2: return static_cast<T>(static_cast<int>(rng() % 5) - 2);
      default: return static_cast<T>(rng());
    }
  }
}

int sign(int c) { return (c > 0) - (c < 0); }

template <class T>
void check_properties(int rounds = 2000) {
  for (int i = 0; i < rounds; ++i) {
    T a = random_value<T>(), b = random_value<T>();
    std::string ea = encode_key(a), eb = encode_key(b);
    INFO("round " << i);
    int value_order = a < b ? -1 : (b < a ? 1 : 0);
    REQUIRE(sign(ea.compare(eb)) == value_order);  // std::string compares as unsigned bytes
    if (value_order != 0) {
      REQUIRE(ea.compare(0, ea.size(), eb, 0, std::min(ea.size(), eb.size())) != 0);  // neither is a prefix
    }
    REQUIRE(decode_key<T>(ea).value() == a);
  }
}

enum class Color : std::int16_t { red = -3, green = 0, blue = 900 };

}  // namespace

TEST_CASE("integers: byte order is numeric order", "[codec][key]") {
  check_properties<std::uint8_t>();
  check_properties<std::uint16_t>();
  check_properties<std::uint32_t>();
  check_properties<std::uint64_t>();
  check_properties<std::int8_t>();
  check_properties<std::int16_t>();
  check_properties<std::int32_t>();
  check_properties<std::int64_t>();
  check_properties<bool>();
  CHECK(encode_key(std::int32_t{-1}) < encode_key(std::int32_t{0}));
  CHECK(encode_key(std::uint16_t{0x0102}) == std::string("\x01\x02"));
}

TEST_CASE("strings with embedded 0x00 and 0xff order and round-trip", "[codec][key]") {
  check_properties<std::string>(5000);
  CHECK(encode_key(std::string("a")) == std::string("a\0\x01", 3));
  CHECK(encode_key(std::string("a\0", 2)) == std::string("a\0\xff\0\x01", 5));
  CHECK(encode_key(std::string_view("x")) == encode_key(std::string("x")));
  CHECK(encode_key("x") == encode_key(std::string("x")));
}

TEST_CASE("uuids, enums and tuples order element by element", "[codec][key]") {
  check_properties<boost::uuids::uuid>();
  check_properties<std::tuple<std::string, std::int32_t>>();
  check_properties<std::pair<std::uint8_t, std::string>>();
  check_properties<std::tuple<std::string, std::string, boost::uuids::uuid>>();
  CHECK(encode_key(Color::red) < encode_key(Color::green));
  CHECK(encode_key(Color::green) < encode_key(Color::blue));
  CHECK(decode_key<Color>(encode_key(Color::blue)).value() == Color::blue);
}

TEST_CASE("namespace encodings are prefix-free", "[codec][key]") {
  const std::vector<std::string> names = {"node", "node:", "nod", "", std::string("a\0b", 3), "a", std::string("a\0", 2),
                                          "resource", "user", "user2"};
  for (const auto& x : names) {
    for (const auto& y : names) {
      if (x == y) continue;
      auto ex = encode_namespace(x), ey = encode_namespace(y);
      INFO(x << " vs " << y);
      CHECK(ey.compare(0, ex.size(), ex) != 0);  // ex is not a prefix of ey
    }
  }
}

TEST_CASE("malformed keys are corruption", "[codec][key]") {
  CHECK(decode_key<std::string>(std::string("abc")).error() == errc::corruption);           // no terminator
  CHECK(decode_key<std::string>(std::string("a\0", 2)).error() == errc::corruption);        // cut terminator
  CHECK(decode_key<std::string>(std::string("a\0\x02", 3)).error() == errc::corruption);    // bad escape
  CHECK(decode_key<std::string>(std::string("a\0\x01z", 4)).error() == errc::corruption);   // trailing bytes
  CHECK(decode_key<std::uint32_t>(std::string("\x01\x02", 2)).error() == errc::corruption); // short integer
  CHECK(decode_key<bool>(std::string("\x02", 1)).error() == errc::corruption);
  CHECK(decode_key<boost::uuids::uuid>(std::string(15, 'x')).error() == errc::corruption);
}
