// Checkpoints of every engine: the state at the moment of the call while writes continue, an
// independent store when opened, and clear errors for bad directories and damaged files.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/memory.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
namespace fs = std::filesystem;

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_file(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("a checkpoint holds the state at its moment while writes continue", "[checkpoint]",
                        EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  WriteBatch base;
  for (int i = 0; i < 20000; ++i) base.put("base/" + std::to_string(i), std::string(40, 'b'));
  base.put(std::string("\0\xff", 2), "");
  db.write(base).value();
  // A writer appends w/<n> and sets "last" to n in one batch, during the checkpoint.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int n = 0; !stop; ++n) {
      char key[16];
      std::snprintf(key, sizeof key, "w/%08d", n);
      db.write(WriteBatch{}.put(key, "x").put("last", std::to_string(n))).value();
      written = n + 1;
    }
  });
  while (written < 10) std::this_thread::yield();
  TempDir dir;
  db.checkpoint(dir / "cp").value();
  stop = true;
  writer.join();

  auto copy = factory.open_checkpoint(dir / "cp").value();
  CHECK(keys_of(copy, KeyRange::prefix("base/")).size() == 20000);
  CHECK(copy.get(std::string("\0\xff", 2)).value() == std::optional<std::string>(""));
  // Consistent: the w/ keys are exactly w/0 .. w/last, whatever point the checkpoint caught.
  auto ws = keys_of(copy, KeyRange::prefix("w/"));
  int last = std::stoi(copy.get("last").value().value());
  CHECK(static_cast<int>(ws.size()) == last + 1);
  CHECK(static_cast<int>(keys_of(db, KeyRange::prefix("w/")).size()) == written);

  // Independent: writes to one are not seen by the other.
  copy.put("only-copy", "1").value();
  db.put("only-source", "1").value();
  CHECK(db.get("only-copy").value() == std::nullopt);
  CHECK(copy.get("only-source").value() == std::nullopt);
}

TEST_CASE("checkpoint and load errors", "[checkpoint]") {
  MemoryBackend db;
  db.put("k", "v").value();
  TempDir dir;
  db.checkpoint(dir.path()).value();
  auto again = db.checkpoint(dir.path());  // the directory is no longer empty
  CHECK(again.error() == errc::invalid_argument);
  CHECK_THAT(again.error().message(), Catch::Contains(dir.path().string()));

  auto missing = MemoryBackend::load(dir / "nowhere");
  CHECK(missing.error() == errc::io_error);
  CHECK_THAT(missing.error().message(), Catch::Contains("nowhere"));

  const fs::path file = dir / "memory.snapshot";
  const std::string good = read_file(file);
  REQUIRE(MemoryBackend::load(dir.path()).value().get("k").value() == "v");
  for (std::size_t at : {std::size_t(0), good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    write_file(file, bad);
    INFO("byte " << at << " flipped");
    CHECK(MemoryBackend::load(dir.path()).error() == errc::corruption);
  }
  write_file(file, good.substr(0, good.size() - 3));
  CHECK(MemoryBackend::load(dir.path()).error() == errc::corruption);
  write_file(file, "");
  CHECK(MemoryBackend::load(dir.path()).error() == errc::corruption);
}

TEST_CASE("AnyBackend forwards checkpoint", "[checkpoint]") {
  AnyBackend any(MemoryBackend{});
  any.put("a", "1").value();
  TempDir dir;
  any.checkpoint(dir.path()).value();
  CHECK(MemoryBackend::load(dir.path()).value().get("a").value() == "1");
}
