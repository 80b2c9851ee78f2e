// Result, Error, errc, KeyRange and WriteBatch.
#include <string>
#include <system_error>
#include <typeinfo>

#include <catch2/catch.hpp>

#include <kvstack/core/concepts.hpp>
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
