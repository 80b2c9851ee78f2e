// redis::resp: the request parser (multibulk, inline, pipelining, any split of the input, Redis's
// protocol errors and limits) and the RESP2 / RESP3 reply encoder.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/redis/resp.hpp>

#include "fuzz/resp_feed.hpp"

using namespace kvstack::redis;
using Strings = std::vector<std::string>;

namespace {
using Parsed = kvstack::test::Fed;

Parsed parse(std::string_view input, std::size_t chunk = std::string::npos, resp::Limits limits = {}) {
  auto fed = kvstack::test::feed_in_pieces(input, chunk, limits);
  REQUIRE_FALSE(fed.overrun);
  REQUIRE_FALSE(fed.empty_command);
  return fed;
}

std::string encoded(const Reply& r, int protocol) {
  std::string out;
  resp::encode(r, protocol, out);
  return out;
}
}  // namespace

TEST_CASE("resp: multibulk requests, pipelined, in any split", "[redis][resp]") {
  std::string wire = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
  const std::vector<Strings> want = {{"SET", "key", "va\r\nl"}, {"PING"}, {"GET", ""}};
  for (std::size_t chunk : {std::string::npos, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    auto p = parse(wire, chunk);
    CHECK(p.error.empty());
    CHECK(p.commands == want);
    CHECK(p.left == 0);
  }
  // Binary-safe: any bytes in a bulk string.
  std::string bin("*2\r\n$4\r\nECHO\r\n$3\r\n\0\xff\n\r\n", 24);
  CHECK(parse(bin).commands == std::vector<Strings>{{"ECHO", std::string("\0\xff\n", 3)}});
  // An incomplete request waits for the rest; nothing is lost.
  auto half = parse("*2\r\n$4\r\nECHO\r\n$5\r\nhel");
  CHECK(half.commands.empty());
  CHECK(half.error.empty());
  // "*0" and negative counts are nothing, as in Redis; the next request still parses.
  CHECK(parse("*-10\r\n*0\r\n*1\r\n$4\r\nPING\r\n").commands == std::vector<Strings>{{"PING"}});
}

TEST_CASE("resp: inline requests as redis-cli and telnet send them", "[redis][resp]") {
  CHECK(parse("PING\r\n").commands == std::vector<Strings>{{"PING"}});
  CHECK(parse("  set  k   v \n").commands == std::vector<Strings>{{"set", "k", "v"}});
  CHECK(parse("\r\n\r\nPING\r\n").commands == std::vector<Strings>{{"PING"}});  // empty lines are skipped
  CHECK(parse("SET k \"a b\\x41\\n\"\r\n").commands == std::vector<Strings>{{"SET", "k", "a bA\n"}});
  CHECK(parse("SET k 'it\\'s'\r\n").commands == std::vector<Strings>{{"SET", "k", "it's"}});
  CHECK(parse("SET k \"\"\r\n").commands == std::vector<Strings>{{"SET", "k", ""}});
  CHECK(parse("SET k \"abc\r\n").error == "ERR Protocol error: unbalanced quotes in request");
  CHECK(parse("SET k \"abc\"x\r\n").error == "ERR Protocol error: unbalanced quotes in request");
  CHECK(parse("PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n", 5).commands ==
        std::vector<Strings>{{"PING"}, {"PING"}, {"ECHO", "x"}});
}

TEST_CASE("resp: protocol errors and limits as Redis", "[redis][resp]") {
  CHECK(parse("*20000000\r\n").error == "ERR Protocol error: invalid multibulk length");
  CHECK(parse("*1048577\r\n").error == "ERR Protocol error: invalid multibulk length");
  CHECK(parse("*x\r\n").error == "ERR Protocol error: invalid multibulk length");
  CHECK(parse("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n").error == "ERR Protocol error: expected '$', got 'f'");
  CHECK(parse("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n").error == "ERR Protocol error: invalid bulk length");
  CHECK(parse("*1\r\n$2000000000\r\n").error == "ERR Protocol error: invalid bulk length");
  resp::Limits small{.max_bulk = 10, .max_args = 4, .max_inline = 64};
  CHECK(parse("*1\r\n$11\r\n", std::string::npos, small).error == "ERR Protocol error: invalid bulk length");
  CHECK(parse("*1\r\n$10\r\n0123456789\r\n", std::string::npos, small).commands == std::vector<Strings>{{"0123456789"}});
  CHECK(parse("*5\r\n", std::string::npos, small).error == "ERR Protocol error: invalid multibulk length");
  CHECK(parse(std::string(65, 'x'), std::string::npos, small).error == "ERR Protocol error: too big inline request");
  CHECK(parse("*" + std::string(65, '1'), std::string::npos, small).error ==
        "ERR Protocol error: too big mbulk count string");
  CHECK(parse("*1\r\n$" + std::string(65, '1'), std::string::npos, small).error ==
        "ERR Protocol error: too big bulk count string");
  // Up to the limit, a long line only waits for its end.
  CHECK(parse(std::string(64, 'x'), std::string::npos, small).error.empty());
}

TEST_CASE("resp: a header in any form reads as in the common one", "[redis][resp]") {
  // "$<digits>\r\n" of up to 18 digits is read in one pass; every other form by the line reader.
  const std::vector<Strings> set_k = {{"SET", "k"}};
  CHECK(parse("*2\r\n$3\r\nSET\r\n$1\r\nk\r\n").commands == set_k);
  CHECK(parse("*2\n$3\nSET\r\n$1\nk\r\n").commands == set_k);  // "\n" alone ends a header
  CHECK(parse("*002\r\n$0003\r\nSET\r\n$01\r\nk\r\n").commands == set_k);
  CHECK(parse("*1\r\n$0000000000000000003\r\nSET\r\n").commands == std::vector<Strings>{{"SET"}});  // 19 digits
  CHECK(parse("*1\r\n$99999999999999999999\r\n").error == "ERR Protocol error: invalid bulk length");
  CHECK(parse("*1\r\n$+3\r\nSET\r\n").error == "ERR Protocol error: invalid bulk length");
  // The line limit holds for the short form too.
  resp::Limits tiny{.max_bulk = 100, .max_args = 4, .max_inline = 2};
  CHECK(parse("*1\r\n$1\r\nx\r\n", std::string::npos, tiny).error == "ERR Protocol error: too big mbulk count string");
  resp::Limits three{.max_bulk = 100, .max_args = 4, .max_inline = 3};
  CHECK(parse("*1\r\n$1\r\nx\r\n", std::string::npos, three).commands == std::vector<Strings>{{"x"}});
  CHECK(parse("*1\r\n$10\r\n0123456789\r\n", std::string::npos, three).error == "ERR Protocol error: too big bulk count string");
}

TEST_CASE("resp: replies in RESP2 and RESP3", "[redis][resp]") {
  CHECK(encoded(reply::ok(), 2) == "+OK\r\n");
  CHECK(encoded(reply::error("ERR bad\r\nthing"), 2) == "-ERR bad  thing\r\n");
  CHECK(encoded(reply::integer(-42), 2) == ":-42\r\n");
  CHECK(encoded(reply::bulk(std::string("a\0b", 3)), 2) == std::string("$3\r\na\0b\r\n", 9));
  CHECK(encoded(reply::null(), 2) == "$-1\r\n");
  CHECK(encoded(reply::null(), 3) == "_\r\n");
  CHECK(encoded(reply::null_array(), 2) == "*-1\r\n");
  CHECK(encoded(reply::null_array(), 3) == "_\r\n");
  CHECK(encoded(reply::number(1.5), 2) == "$3\r\n1.5\r\n");
  CHECK(encoded(reply::number(1.5), 3) == ",1.5\r\n");
  CHECK(encoded(reply::number(-1.0 / 0.0), 3) == ",-inf\r\n");
  auto m = reply::map({reply::bulk("f"), reply::bulk("v")});
  CHECK(encoded(m, 2) == "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  CHECK(encoded(m, 3) == "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  CHECK(encoded(reply::array({reply::integer(1), reply::array(), reply::null()}), 2) == "*3\r\n:1\r\n*0\r\n$-1\r\n");
  auto s = reply::set({reply::bulk("x")});
  CHECK(encoded(s, 2) == "*1\r\n$1\r\nx\r\n");
  CHECK(encoded(s, 3) == "~1\r\n$1\r\nx\r\n");
  auto p = reply::pairs({reply::bulk("a"), reply::number(1), reply::bulk("b"), reply::number(2.5)});
  CHECK(encoded(p, 2) == "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
  CHECK(encoded(p, 3) == "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(encoded(reply::pairs(), 3) == "*0\r\n");
  CHECK(encoded(reply::verbatim("# Keys\r\n"), 2) == "$8\r\n# Keys\r\n\r\n");
  CHECK(encoded(reply::verbatim("# Keys\r\n"), 3) == "=12\r\ntxt:# Keys\r\n\r\n");
}
