// Result, Error, errc, KeyRange and WriteBatch.
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <catch2/catch.hpp>

#include <kvstack/core/concepts.hpp>
#include <kvstack/detail/byte_order.hpp>
#include <kvstack/version.hpp>

using namespace kvstack;

namespace {
Result<int> fails_with(errc code) { return code; }
Result<void> fails_with_context() { return Error{errc::io_error, "open /tmp/x: disk full"}; }
}  // namespace

TEST_CASE("errc converts to Result and std::error_code", "[core]") {
  auto r = fails_with(errc::conflict);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::conflict);
  CHECK_FALSE(r.error() == errc::busy);
  CHECK(r.error().code().category().name() == std::string("kvstack"));
  CHECK(r.error().message() == "conflict");
  std::error_code ec = errc::corruption;
  CHECK(ec.message() == "corruption");
  CHECK(ec == errc::corruption);
}

TEST_CASE("Error keeps the context, and value() throws it", "[core]") {
  auto r = fails_with_context();
  CHECK(r.error().message() == "I/O error: open /tmp/x: disk full");
  try {
    r.value();
    FAIL("value() did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::io_error);
    CHECK(std::string(e.what()).find("disk full") != std::string::npos);
  }
  Result<int> ok = 7;
  CHECK(ok.value() == 7);
}

TEST_CASE("compare_bytes orders as memcmp, then the shorter first", "[core]") {
  // Keys that share prefixes of every length up to past 8 bytes, with bytes on both sides of 0x80.
  std::mt19937 rng(5);
  const char alphabet[] = {'\0', 'a', 'b', '\x7f', '\x80', '\xff'};
  auto random_key = [&] {
    std::string k(rng() % 20, 'a');
    for (auto& c : k) c = alphabet[rng() % sizeof alphabet];
    return k;
  };
  auto sign = [](int x) { return (x > 0) - (x < 0); };
  for (int i = 0; i < 100000; ++i) {
    std::string a = random_key(), b = rng() % 2 ? a.substr(0, rng() % (a.size() + 1)) + random_key() : random_key();
    INFO(i);
    REQUIRE(sign(kvstack::detail::compare_bytes(a, b)) == sign(std::string_view(a).compare(b)));
    REQUIRE(kvstack::detail::ByteLess{}(a, b) == (a < b));
  }
}

TEST_CASE("KeyRange bounds", "[core]") {
  CHECK(KeyRange::prefix("ab").upper() == "ac");
  CHECK(KeyRange::prefix("a\xff").upper() == "b");
  CHECK(KeyRange::prefix("\xff\xff").upper() == std::nullopt);
  CHECK(KeyRange::prefix("").upper() == std::nullopt);
  CHECK(KeyRange::prefix("a").contains("a"));
  CHECK(KeyRange::prefix("a").contains("a\xff\xff"));
  CHECK_FALSE(KeyRange::prefix("a").contains("b"));
  CHECK(KeyRange::between("b", "a").is_empty());
  CHECK(KeyRange::between("a", "a").is_empty());
  CHECK(KeyRange::all().limit(0).is_empty());
  CHECK_FALSE(KeyRange::all().is_empty());
  CHECK(KeyRange::all().reverse().is_reverse());
  CHECK(KeyRange::all().limit(3).max_count() == 3);
}

TEST_CASE("KeyRange::within moves the bounds behind a prefix and keeps the rest", "[core]") {
  const KeyRange range = KeyRange::between("b", "d").reverse().limit(2).streaming();
  const KeyRange under = range.within("ns/");
  CHECK(under.lower() == "ns/b");
  CHECK(under.upper() == "ns/d");
  CHECK(under.is_reverse());
  CHECK(under.max_count() == 2);
  CHECK(under.is_streaming());
  CHECK(range.lower() == "b");  // the original is untouched
  CHECK(KeyRange::from("b").within("ns/").upper() == "ns0");  // unbounded: to the end of "ns/"
  CHECK(KeyRange::all().within("\xff").upper() == std::nullopt);
  CHECK(KeyRange::all().within("a").contains("a"));
  CHECK_FALSE(KeyRange::all().within("a").contains("b"));
}

TEST_CASE("WriteBatch keeps operations in order", "[core]") {
  WriteBatch b;
  b.put("a", "1").erase("b").put("c", std::string("\0x", 2));
  REQUIRE(b.size() == 3);
  auto it = b.begin();
  CHECK((it->kind == WriteBatch::Kind::put && it->key == "a" && it->value == "1"));
  ++it;
  CHECK((it->kind == WriteBatch::Kind::erase && it->key == "b"));
  ++it;
  CHECK(it->value.size() == 2);
  b.clear();
  CHECK(b.empty());
}

namespace {
struct NotABackend {
  Result<std::optional<std::string>> get(std::string_view) const;
  Result<void> put(std::string_view, std::string_view);
};
}  // namespace

TEST_CASE("concepts reject incomplete models", "[core]") {
  STATIC_REQUIRE_FALSE(Backend<NotABackend>);
  STATIC_REQUIRE(detail::HasGet<NotABackend>);
  STATIC_REQUIRE_FALSE(detail::HasErase<NotABackend>);
  STATIC_REQUIRE_FALSE(Backend<int>);
}

TEST_CASE("the version, and the versioned inline namespace in every symbol", "[core]") {
  CHECK(std::string(kvstack::version) == std::to_string(KVSTACK_VERSION_MAJOR) + "." +
                                             std::to_string(KVSTACK_VERSION_MINOR) + "." +
                                             std::to_string(KVSTACK_VERSION_PATCH));
  // kvstack::KeyRange is kvstack::v0::KeyRange: a program may link another major version beside it.
  CHECK(std::string(typeid(kvstack::KeyRange).name()) == "N7kvstack2v08KeyRangeE");
}

// ---- Result<T> -------------------------------------------------------------------------------

namespace {
struct Point {  // an aggregate, no constructors
  int x = 0;
  std::string label;
  bool operator==(const Point&) const = default;
};
struct MoveOnly {
  explicit MoveOnly(int v) : p(std::make_unique<int>(v)) {}
  std::unique_ptr<int> p;
};
struct Counted {  // counts live objects, to see that Result destroys what it holds exactly once
  static inline int live = 0;
  Counted() { ++live; }
  Counted(const Counted&) { ++live; }
  Counted(Counted&&) noexcept { ++live; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  ~Counted() { --live; }
};
}  // namespace

TEST_CASE("Result<T>: value, error, observers", "[core][result]") {
  Result<Point> ok = Point{3, "p"};
  REQUIRE(ok.has_value());
  REQUIRE(static_cast<bool>(ok));
  CHECK(ok.value() == Point{3, "p"});
  CHECK((*ok).x == 3);
  CHECK(ok->label == "p");
  ok->x = 4;
  CHECK(ok.value().x == 4);
  CHECK_THROWS_AS(ok.error(), bad_result_access);

  Result<Point> bad = Error{errc::corruption, "offset 7"};
  REQUIRE_FALSE(bad.has_value());
  REQUIRE_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == errc::corruption);
  CHECK(bad.error().context() == "offset 7");
  CHECK_THROWS_AS(*bad, std::system_error);
  CHECK_THROWS_AS(bad->x, std::system_error);
  CHECK(bad.value_or(Point{9, "fallback"}) == Point{9, "fallback"});
  CHECK(ok.value_or(Point{9, "fallback"}).x == 4);

  Result<int> from_errc = errc::timeout;
  CHECK(from_errc.error() == errc::timeout);
  Result<int> from_code = std::error_code(errc::closed);
  CHECK(from_code.error() == errc::closed);
  Result<int> in_place{std::in_place, 5};
  CHECK(*in_place == 5);
  Result<std::string> explicit_only{std::string_view("sv")};  // string from string_view is explicit
  CHECK(explicit_only.value() == "sv");
  STATIC_REQUIRE_FALSE(std::is_convertible_v<std::string_view, Result<std::string>>);
  STATIC_REQUIRE(std::is_convertible_v<const char*, Result<std::string>>);
  STATIC_REQUIRE(std::is_convertible_v<errc, Result<std::string>>);
  STATIC_REQUIRE_FALSE(std::is_default_constructible_v<Result<int>>);
}

TEST_CASE("Result<T>: copy, move and assignment across value and error", "[core][result]") {
  Result<std::string> a = std::string(100, 'a');
  Result<std::string> b = a;
  CHECK(b.value() == std::string(100, 'a'));
  Result<std::string> c = std::move(a);
  CHECK(c.value() == std::string(100, 'a'));
  b = Error{errc::io_error, "disk"};  // value -> error
  CHECK(b.error().context() == "disk");
  b = c;  // error -> value
  CHECK(b.value() == c.value());
  c = b;  // value -> value
  b = errc::busy;
  Result<std::string> d = errc::closed;
  d = b;  // error -> error
  CHECK(d.error() == errc::busy);
  d = std::move(c);
  CHECK(d.value() == std::string(100, 'a'));
  CHECK(a == a);
  CHECK(Result<int>(1) == Result<int>(1));
  CHECK_FALSE(Result<int>(1) == Result<int>(2));
  CHECK_FALSE(Result<int>(1) == Result<int>(errc::busy));
  CHECK(Result<int>(errc::busy) == Result<int>(Error{errc::busy, "other context"}));

  Counted::live = 0;
  {
    Result<Counted> x = Counted{};
    Result<Counted> y = errc::busy;
    y = x;
    x = errc::closed;
    x = std::move(y);
    Result<Counted> z = x;
    CHECK(Counted::live == 3);  // x, z, and y's moved-from value
  }
  CHECK(Counted::live == 0);
}

TEST_CASE("Result<T>: move-only values", "[core][result]") {
  auto make = [](bool ok) -> Result<MoveOnly> {
    if (!ok) return errc::full;
    return MoveOnly(42);
  };
  Result<MoveOnly> r = make(true);
  MoveOnly taken = std::move(r).value();
  CHECK(*taken.p == 42);
  Result<MoveOnly> moved = make(true);
  Result<MoveOnly> target = make(false);
  target = std::move(moved);
  CHECK(*target.value().p == 42);
  CHECK(make(false).error() == errc::full);
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<Result<MoveOnly>>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<Result<std::string>>);
}

TEST_CASE("Result<void>: success() and errors", "[core][result]") {
  Result<void> ok = success();
  REQUIRE(ok.has_value());
  REQUIRE(static_cast<bool>(ok));
  CHECK_NOTHROW(ok.value());
  CHECK_THROWS_AS(ok.error(), bad_result_access);
  Result<void> bad = Error{errc::locked, "/var/lib/app/lock.mdb"};
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::locked);
  CHECK(ok == Result<void>(success()));
  CHECK_FALSE(ok == bad);
  ok = bad;
  CHECK(ok.error().context() == "/var/lib/app/lock.mdb");
}

TEST_CASE("Result: value() throws std::system_error with the code, context and message", "[core][result]") {
  Result<int> with_context = Error{errc::corruption, "registry 'node': truncated at offset 3"};
  try {
    (void)with_context.value();
    FAIL("value() did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::corruption);
    CHECK(std::string(e.what()) == "registry 'node': truncated at offset 3: corruption");
  }
  Result<void> bare = errc::not_leader;
  try {
    bare.value();
    FAIL("value() did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::not_leader);
    CHECK(std::string(e.what()) == "not leader");
  }
  try {
    (void)Result<int>(3).error();
    FAIL("error() on a value did not throw");
  } catch (const bad_result_access& e) {
    CHECK(std::string(e.what()).find("error() on a value") != std::string::npos);
  }
}
