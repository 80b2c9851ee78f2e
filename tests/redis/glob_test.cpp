// redis::glob_match: the patterns of KEYS and SCAN MATCH, as Redis matches them.
#include <string>

#include <catch2/catch.hpp>

#include <kvstack/redis/glob.hpp>

using kvstack::redis::glob_match;

TEST_CASE("glob_match: Redis's KEYS patterns", "[redis][glob]") {
  CHECK(glob_match("h?llo", "hello"));
  CHECK(glob_match("h?llo", "hallo"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("h[ae]llo", "hello"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK_FALSE(glob_match("h[a-b]llo", "hcllo"));
  CHECK(glob_match("h[z-a]llo", "hcllo"));  // a reversed range is the same range
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", std::string("\0\xff", 2)));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "a"));
  CHECK_FALSE(glob_match("a*", ""));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("[\\]]", "]"));
  CHECK(glob_match("a\\", "a\\"));  // a trailing backslash is literal
  CHECK(glob_match("*a*b*c*", "xaybzc"));
  CHECK_FALSE(glob_match("*a*b*c*", "xaybz"));
  CHECK(glob_match("user:*:name", "user:42:name"));
  CHECK_FALSE(glob_match("user:*:name", "user:42:age"));
  CHECK(glob_match("[abc", "b"));  // an unterminated set ends with the pattern
  CHECK(glob_match("HEL*", "hello", true));
  CHECK_FALSE(glob_match("HEL*", "hello"));
  CHECK(glob_match("[A-C]x", "bx", true));
  // No exponential backtracking.
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}
