// BinarySerializer: round-trips of every supported kind, schema evolution both ways, and
// corrupt, truncated and hostile input.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <kvstack/codec/binary.hpp>
#include <kvstack/core/concepts.hpp>

using namespace kvstack;
using S = BinarySerializer;

namespace {

enum class Status : std::uint8_t { up, down };

struct Address {
  std::string ip;
  std::uint16_t port = 0;
  bool operator==(const Address&) const = default;
};

// A plain aggregate, reflected by Boost.PFR with no annotation.
struct Everything {
  bool flag = false;
  std::int8_t i8 = 0;
  std::uint64_t u64 = 0;
  double d = 0;
  float f = 0;
  Status status = Status::up;
  std::string text;
  std::vector<std::uint32_t> numbers;
  std::vector<std::string> words;
  std::vector<bool> bits;
  std::deque<Address> addresses;
  std::list<int> linked;
  std::map<std::string, Address> by_name;
  std::unordered_map<int, std::string> hashed;
  std::set<std::string> tags;
  std::optional<Address> maybe;
  std::optional<int> nothing;
  std::variant<std::monostate, int, std::string> choice;
  std::pair<int, std::string> pair;
  std::tuple<char, std::int64_t, Address> tuple;
  std::array<std::int16_t, 3> array{};
  std::chrono::nanoseconds ns{};
  std::chrono::duration<double, std::milli> ms{};
  std::chrono::system_clock::time_point at{};
  boost::uuids::uuid id{};
  bool operator==(const Everything&) const = default;
};

Everything sample() {
  Everything e;
  e.flag = true;
  e.i8 = -100;
  e.u64 = 0xfedcba9876543210ull;
  e.d = -1.5e300;
  e.f = 3.25f;
  e.status = Status::down;
  e.text = std::string("with\0nul", 8);
  e.numbers = {1, 2, 0xffffffffu};
  e.words = {"", "two", std::string(300, 'w')};
  e.bits = {true, false, true};
  e.addresses = {{"10.0.0.1", 80}, {"::1", 443}};
  e.linked = {3, 1, 2};
  e.by_name = {{"a", {"1.1.1.1", 53}}, {"b", {}}};
  e.hashed = {{1, "one"}, {-2, "minus two"}};
  e.tags = {"x", "y"};
  e.maybe = Address{"h", 1};
  e.choice = std::string("picked");
  e.pair = {5, "five"};
  e.tuple = {'c', -9, {"t", 9}};
  e.array = {-1, 0, 1};
  e.ns = std::chrono::nanoseconds(1234567890123456789);
  e.ms = std::chrono::duration<double, std::milli>(0.125);
  e.at = std::chrono::system_clock::time_point(std::chrono::system_clock::duration(1700000000123456789));
  for (std::uint8_t i = 0; i < 16; ++i) e.id.data[i] = static_cast<std::uint8_t>(i * 17);
  return e;
}

// Described with Boost.Hana.
struct HanaDefined {
  BOOST_HANA_DEFINE_STRUCT(HanaDefined, (int, x), (std::string, y), (std::vector<Address>, z));
};
struct HanaAdapted {
  std::string name;
  double weight;
};

// Private state, through a BinaryCodec specialization.
class Money {
 public:
  Money() = default;
  Money(std::int64_t cents, std::string currency) : cents_(cents), currency_(std::move(currency)) {}
  std::int64_t cents() const { return cents_; }
  const std::string& currency() const { return currency_; }

 private:
  std::int64_t cents_ = 0;
  std::string currency_;
};

// Two versions of one record.
struct NodeV1 {
  std::string ip;
  std::uint16_t port = 0;
};
struct NodeV2 {
  std::string ip;
  std::uint16_t port = 0;
  std::vector<std::string> labels = {"default"};
  std::optional<double> load = 0.5;
  NodeV1 nested{"nested-default", 7};
};
struct Outer1 {
  NodeV1 node;
  int after = 0;
};
struct Outer2 {
  NodeV2 node;
  int after = 0;
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(HanaAdapted, name, weight);

template <>
struct kvstack::BinaryCodec<Money> {
  static void encode(const Money& m, std::string& out) {
    encode_binary(m.cents(), out);
    encode_binary(m.currency(), out);
  }
  static bool decode(BinaryReader& in, Money& m) {
    std::int64_t cents;
    std::string currency;
    if (!in.read(cents) || !in.read(currency)) return false;
    m = Money(cents, currency);
    return true;
  }
};

TEST_CASE("BinarySerializer models Serializer", "[codec][binary]") {
  STATIC_REQUIRE(Serializer<S, Everything>);
  STATIC_REQUIRE(Serializer<S, std::string>);
  STATIC_REQUIRE(Serializer<S, Money>);
}

TEST_CASE("every supported kind round-trips", "[codec][binary]") {
  Everything e = sample();
  std::string bytes = S::encode(e);
  CHECK(static_cast<unsigned char>(bytes[0]) == S::format_version);
  auto back = S::decode<Everything>(bytes);
  REQUIRE(back);
  CHECK(back.value() == e);
  CHECK(S::decode<Everything>(S::encode(Everything{})).value() == Everything{});
}

TEST_CASE("structs with 1, 40 and 41 fields (the last past visit_fields, through PFR)", "[codec][binary]") {
  struct One {
    std::string only;
    bool operator==(const One&) const = default;
  };
  struct Forty {
    int f0 = 0; int f1 = 1; int f2 = 2; int f3 = 3; int f4 = 4; int f5 = 5; int f6 = 6; int f7 = 7; int f8 = 8; int f9 = 9; int f10 = 10; int f11 = 11; int f12 = 12; int f13 = 13; int f14 = 14; int f15 = 15; int f16 = 16; int f17 = 17; int f18 = 18; int f19 = 19; int f20 = 20; int f21 = 21; int f22 = 22; int f23 = 23; int f24 = 24; int f25 = 25; int f26 = 26; int f27 = 27; int f28 = 28; int f29 = 29; int f30 = 30; int f31 = 31; int f32 = 32; int f33 = 33; int f34 = 34; int f35 = 35; int f36 = 36; int f37 = 37; int f38 = 38;
    std::string last = "forty";
    bool operator==(const Forty&) const = default;
  };
  struct FortyOne {
    int f0 = 0; int f1 = 1; int f2 = 2; int f3 = 3; int f4 = 4; int f5 = 5; int f6 = 6; int f7 = 7; int f8 = 8; int f9 = 9; int f10 = 10; int f11 = 11; int f12 = 12; int f13 = 13; int f14 = 14; int f15 = 15; int f16 = 16; int f17 = 17; int f18 = 18; int f19 = 19; int f20 = 20; int f21 = 21; int f22 = 22; int f23 = 23; int f24 = 24; int f25 = 25; int f26 = 26; int f27 = 27; int f28 = 28; int f29 = 29; int f30 = 30; int f31 = 31; int f32 = 32; int f33 = 33; int f34 = 34; int f35 = 35; int f36 = 36; int f37 = 37; int f38 = 38; int f39 = 39;
    std::string last = "forty-one";
    bool operator==(const FortyOne&) const = default;
  };
  STATIC_REQUIRE(detail::field_count<Forty>() == detail::visit_fields_max);
  STATIC_REQUIRE(detail::field_count<FortyOne>() == detail::visit_fields_max + 1);
  CHECK(S::decode<One>(S::encode(One{"x"})).value() == One{"x"});
  Forty forty;
  forty.f7 = -7;
  CHECK(S::decode<Forty>(S::encode(forty)).value() == forty);
  FortyOne forty_one;
  forty_one.f39 = 1234;
  CHECK(S::decode<FortyOne>(S::encode(forty_one)).value() == forty_one);
  CHECK(S::encode(forty_one).size() > S::encode(forty).size());
}

TEST_CASE("scalars and strings at top level", "[codec][binary]") {
  CHECK(S::decode<int>(S::encode(-7)).value() == -7);
  CHECK(S::decode<std::string>(S::encode(std::string())).value().empty());
  CHECK(S::decode<std::uint64_t>(S::encode(std::uint64_t{0x0102030405060708})).value() == 0x0102030405060708u);
  // Little-endian at the integer's own width, after the version byte.
  CHECK(S::encode(std::uint32_t{0x01020304}) == std::string("\x01\x04\x03\x02\x01", 5));
  std::string big(1 << 20, 'b');
  CHECK(S::decode<std::string>(S::encode(big)).value() == big);
}

TEST_CASE("Hana-described structs and BinaryCodec specializations", "[codec][binary]") {
  HanaDefined h{4, "four", {{"a", 1}}};
  auto hb = S::decode<HanaDefined>(S::encode(h)).value();
  CHECK(hb.x == 4);
  CHECK(hb.y == "four");
  CHECK(hb.z == h.z);
  auto ab = S::decode<HanaAdapted>(S::encode(HanaAdapted{"w", 2.5})).value();
  CHECK(ab.name == "w");
  CHECK(ab.weight == 2.5);
  auto m = S::decode<Money>(S::encode(Money(1999, "EUR"))).value();
  CHECK(m.cents() == 1999);
  CHECK(m.currency() == "EUR");
  auto v = S::decode<std::vector<Money>>(S::encode(std::vector<Money>{{1, "a"}, {2, "b"}})).value();
  CHECK(v.at(1).currency() == "b");
}

TEST_CASE("chrono values keep their precision", "[codec][binary]") {
  using namespace std::chrono;
  auto now = system_clock::now();
  CHECK(S::decode<system_clock::time_point>(S::encode(now)).value() == now);
  auto tp = time_point<steady_clock, nanoseconds>(nanoseconds(-5));
  CHECK(S::decode<decltype(tp)>(S::encode(tp)).value() == tp);
  CHECK(S::decode<hours>(S::encode(hours(-3))).value() == hours(-3));
  CHECK(S::decode<microseconds>(S::encode(microseconds::max())).value() == microseconds::max());
}

TEST_CASE("schema evolution: new code reads old records", "[codec][binary]") {
  auto v2 = S::decode<NodeV2>(S::encode(NodeV1{"10.1.1.1", 8080})).value();
  CHECK(v2.ip == "10.1.1.1");
  CHECK(v2.port == 8080);
  CHECK(v2.labels == std::vector<std::string>{"default"});  // new fields keep their defaults
  CHECK(v2.load == 0.5);
  CHECK(v2.nested.ip == "nested-default");
  // Nested: the struct inside grew; the field after it still lines up.
  auto o2 = S::decode<Outer2>(S::encode(Outer1{{"n", 1}, 99})).value();
  CHECK(o2.node.ip == "n");
  CHECK(o2.node.labels == std::vector<std::string>{"default"});
  CHECK(o2.after == 99);
}

TEST_CASE("schema evolution: old code reads new records", "[codec][binary]") {
  NodeV2 n{"10.2.2.2", 9090, {"a", "b"}, std::nullopt, {"x", 1}};
  auto v1 = S::decode<NodeV1>(S::encode(n)).value();
  CHECK(v1.ip == "10.2.2.2");
  CHECK(v1.port == 9090);
  auto o1 = S::decode<Outer1>(S::encode(Outer2{n, 77})).value();
  CHECK(o1.node.port == 9090);
  CHECK(o1.after == 77);  // the extra fields inside were skipped
}

TEST_CASE("every truncation of a valid record is corruption", "[codec][binary]") {
  std::string bytes = S::encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = S::decode<Everything>(std::string_view(bytes).substr(0, n));
    INFO("prefix of " << n << " bytes");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::corruption);
  }
  auto extra = S::decode<Everything>(bytes + "x");
  CHECK(extra.error() == errc::corruption);
  CHECK_THAT(extra.error().message(), Catch::Contains("trailing"));
}

TEST_CASE("hostile input is corruption, never a huge allocation", "[codec][binary]") {
  auto corrupt = [](std::string bytes) { return S::decode<std::vector<std::string>>(bytes).error(); };
  // A count of 2^62 elements in a few bytes: rejected before anything is reserved.
  auto e = corrupt(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x3f", 10));
  CHECK(e == errc::corruption);
  CHECK_THAT(e.message(), Catch::Contains("count past the end") && Catch::Contains("offset"));
  CHECK(S::decode<std::vector<std::uint64_t>>(std::string("\x01\x02", 2) + std::string(15, 'x')).error() ==
        errc::corruption);  // 2 x 8 bytes promised, 15 given
  // A string length pointing past the end.
  CHECK(S::decode<std::string>(std::string("\x01\x90\x4e", 3) + "short").error() == errc::corruption);
  // A varint longer than 64 bits.
  CHECK(S::decode<std::string>(std::string("\x01") + std::string(11, '\xff')).error() == errc::corruption);
  // Struct length past the end, and a struct whose length disagrees with its fields.
  CHECK(S::decode<NodeV1>(std::string("\x01\x02\x7f\x00\x00\x00", 6)).error() == errc::corruption);
  std::string v1 = S::encode(NodeV1{"ip", 1});
  std::string padded = v1;
  padded[2] = static_cast<char>(padded[2] + 1);  // claims one byte more than the fields use
  padded += "z";
  CHECK(S::decode<NodeV1>(padded).error() == errc::corruption);
  // Out-of-range discriminators.
  CHECK(S::decode<bool>(std::string("\x01\x02", 2)).error() == errc::corruption);
  CHECK(S::decode<std::optional<int>>(std::string("\x01\x05", 2)).error() == errc::corruption);
  CHECK(S::decode<std::variant<int, bool>>(std::string("\x01\x02\x00", 3)).error() == errc::corruption);
  // Duplicate keys in a map or set.
  std::string dup = S::encode(std::vector<std::string>{"k", "k"});
  CHECK(S::decode<std::set<std::string>>(dup).error() == errc::corruption);
  // Versions and empty input.
  CHECK(S::decode<int>("").error() == errc::corruption);
  CHECK(S::decode<int>(std::string("\x00\x01\x00\x00\x00", 5)).error() == errc::corruption);
  CHECK(S::decode<int>(std::string("\x02\x01\x00\x00\x00", 5)).error() == errc::unsupported);
}

TEST_CASE("random corruption never crashes", "[codec][binary]") {
  std::mt19937 rng(99);
  const std::string good = S::encode(sample());
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
      bytes[1 + rng() % (bytes.size() - 1)] = static_cast<char>(rng());  // keep the version byte
    auto r = S::decode<Everything>(bytes);  // ASan/UBSan watch this
    if (!r) {
      REQUIRE(r.error() == errc::corruption);
      ++rejected;
    }
  }
  CHECK(rejected > 0);
}
