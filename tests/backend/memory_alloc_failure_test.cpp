// MemoryBackend when memory runs out: every allocation of a write is made to fail in turn
// (operator new is replaced in this program), and each failed write must leave the store exactly
// as it was (batches, transactions and single puts and erases alike), and usable.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>

namespace {
std::atomic<long> allocations_left{-1};  // the allocation that fails after this many; -1: none fails
}  // namespace

void* operator new(std::size_t n) {
  if (allocations_left.load(std::memory_order_relaxed) >= 0 && allocations_left.fetch_sub(1) == 0) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// Under AddressSanitizer, what the C++ runtime allocated through ASan's operator new reaches this
// program's operator delete: not a mismatch that matters here.
extern "C" const char* __asan_default_options() { return "alloc_dealloc_mismatch=0"; }

using namespace kvstack;
using Model = std::map<std::string, std::string>;

namespace {
// Short keys live in the B-tree's nodes, keys over 40 bytes on the heap: both kinds.
std::string key_of(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "%05d", i);
  return i % 3 == 0 ? std::string(b) + std::string(50, 'L') : "k" + std::string(b);
}

// The store holds exactly `model`, through scans and through point reads (the hash index).
void require_holds(const MemoryBackend& db, const Model& model) {
  Model scanned;
  auto scan = db.scan(KeyRange::all());
  for (auto&& [k, v] : scan) scanned.emplace(k, v);
  REQUIRE(scan.status());
  REQUIRE(scanned == model);
  for (const auto& [k, v] : model) REQUIRE(db.get(k).value() == v);
}

// Runs `write` with allocation 0, 1, 2, ... failing until it succeeds; after each failure the
// store must hold `before`. Returns how many failures were injected.
template <class Write>
long fail_each_allocation(MemoryBackend& db, const Model& before, Write&& write) {
  for (long n = 0;; ++n) {
    bool failed = false;
    allocations_left = n;
    try {
      write();
    } catch (const std::bad_alloc&) {
      failed = true;
    }
    allocations_left = -1;
    if (!failed) return n;
    require_holds(db, before);
  }
}

MemoryBackend filled(Model& model, int keys) {
  MemoryBackend db;
  for (int i = 0; i < keys; ++i) {
    model[key_of(i * 2)] = "v" + std::to_string(i);
    db.put(key_of(i * 2), model[key_of(i * 2)]).value();
  }
  return db;
}
}  // namespace

TEST_CASE("a batch that runs out of memory applies nothing", "[memory][alloc]") {
  Model model;
  MemoryBackend db = filled(model, 3000);
  // New keys between the old ones (leaves split), overwrites of another size, erases of a run
  // of neighbours (leaves merge and refill).
  WriteBatch batch;
  Model after = model;
  for (int i = 0; i < 300; ++i) {
    batch.put(key_of(i * 10 + 1), "new");
    after[key_of(i * 10 + 1)] = "new";
  }
  for (int i = 0; i < 100; ++i) {
    batch.put(key_of(i * 40), std::string(i, 'x'));
    after[key_of(i * 40)] = std::string(i, 'x');
  }
  for (int i = 2000; i < 2600; ++i) {
    batch.erase(key_of(i * 2));
    after.erase(key_of(i * 2));
  }
  const long failures = fail_each_allocation(db, model, [&] { db.write(batch).value(); });
  CHECK(failures > 300);  // each of the batch's allocations failed once
  require_holds(db, after);
}

TEST_CASE("a transaction whose commit runs out of memory applies nothing", "[memory][alloc]") {
  Model model;
  MemoryBackend db = filled(model, 1000);
  Model after = model;
  auto fn = [&](MemoryBackend::transaction& tx) -> Result<void> {
    for (int i = 0; i < 100; ++i)
      if (auto r = tx.put(key_of(i * 6 + 3), "t"); !r) return r;
    for (int i = 500; i < 700; ++i)
      if (auto r = tx.erase(key_of(i * 2)); !r) return r.error();
    return success();
  };
  for (int i = 0; i < 100; ++i) after[key_of(i * 6 + 3)] = "t";
  for (int i = 500; i < 700; ++i) after.erase(key_of(i * 2));
  CHECK(fail_each_allocation(db, model, [&] { db.transact(fn).value(); }) > 100);
  require_holds(db, after);
}

TEST_CASE("a put or erase that runs out of memory changes nothing", "[memory][alloc]") {
  Model model;
  MemoryBackend db = filled(model, 600);
  // Ascending inserts between the old keys split leaves and inner nodes; erasing a run merges.
  long failures = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string k = key_of(i * 2 + 1), v = std::string(i % 7, 'p');
    failures += fail_each_allocation(db, model, [&] { db.put(k, v).value(); });
    model[k] = v;
  }
  require_holds(db, model);
  for (int i = 0; i < 1200; i += 1) {
    const std::string k = key_of(i);
    failures += fail_each_allocation(db, model, [&] { db.erase(k).value(); });
    model.erase(k);
  }
  require_holds(db, model);
  CHECK(failures > 600);
  // A snapshot open meanwhile keeps what it saw.
  db.put("a", "1").value();
  auto scan = db.scan(KeyRange::all());
  fail_each_allocation(db, {{"a", "1"}}, [&] { db.write(WriteBatch().put("b", "2").erase("a")).value(); });
  std::vector<std::string> seen;
  for (auto&& [k, v] : scan) seen.emplace_back(k);
  CHECK(seen == std::vector<std::string>{"a"});
  require_holds(db, {{"b", "2"}});
}
