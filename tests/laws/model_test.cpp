// Model-based random test: a seeded sequence of operations runs on each backend and on a
// std::map; every result must match. Backends that match the model match each other.
#include <map>
#include <optional>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {

using Model = std::map<std::string, std::string>;

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}
  int below(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  // Small alphabet with 0x00, 0x7f, 0x80 and 0xff, so keys share prefixes and straddle edges.
  std::string key() {
    static const char alphabet[] = {'\0', 'a', 'b', '\x7f', '\x80', '\xff'};
    std::string k;
    int len = below(4);
    for (int i = 0; i < len; ++i) k.push_back(alphabet[below(6)]);
    return k;
  }
  std::string value() { return std::string(static_cast<std::size_t>(below(40)), static_cast<char>('a' + below(26))); }
  KeyRange range() {
    KeyRange r;
    switch (below(4)) {
      case 0: r = KeyRange::all(); break;
      case 1: r = KeyRange::prefix(key()); break;
      case 2: r = KeyRange::between(key(), key()); break;
      default: r = KeyRange::from(key()); break;
    }
    if (below(2)) r = r.reverse();
    if (below(3) == 0) r = r.limit(static_cast<std::size_t>(below(6)));
    return r;
  }

 private:
  std::mt19937_64 rng_;
};

Entries model_scan(const Model& m, const KeyRange& r) {
  Entries out;
  for (auto& [k, v] : m)
    if (r.contains(k)) out.emplace_back(k, v);
  if (r.is_reverse()) std::reverse(out.begin(), out.end());
  if (out.size() > r.max_count()) out.resize(r.max_count());
  return out;
}

std::optional<std::string> model_get(const Model& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("backend matches a std::map model on random operations", "[laws][model]", BackendTypes) {
  for (std::uint64_t seed : {1u, 2u, 3u, 42u, 2024u}) {
    INFO("seed " << seed);
    BackendFactory<TestType> factory;
    auto db = factory.open();
    Model model;
    Generator gen(seed);
    for (int step = 0; step < 3000; ++step) {
      INFO("step " << step);
      switch (gen.below(7)) {
        case 0:
        case 1: {
          auto k = gen.key(), v = gen.value();
          db.put(k, v).value();
          model[k] = v;
          break;
        }
        case 2: {
          auto k = gen.key();
          REQUIRE(db.erase(k).value() == (model.erase(k) == 1));
          break;
        }
        case 3: {
          auto k = gen.key();
          REQUIRE(db.get(k).value() == model_get(model, k));
          break;
        }
        case 4: {
          auto r = gen.range();
          REQUIRE(collect(db, r) == model_scan(model, r));
          break;
        }
        case 5: {
          WriteBatch batch;
          Model next = model;
          for (int i = gen.below(6); i > 0; --i) {
            auto k = gen.key();
            if (gen.below(3)) {
              auto v = gen.value();
              batch.put(k, v);
              next[k] = v;
            } else {
              batch.erase(k);
              next.erase(k);
            }
          }
          db.write(batch).value();
          model = std::move(next);
          break;
        }
        default: {
          // A transaction mixing reads, writes and scans; one in three rolls back.
          Model next;
          bool rollback = gen.below(3) == 0;
          const Generator before = gen;
          auto result = db.transact([&](auto& tx) -> Result<void> {
            next = model;  // an engine may retry fn: start each attempt afresh
            gen = before;
            for (int i = gen.below(8); i > 0; --i) {
              auto k = gen.key();
              switch (gen.below(4)) {
                case 0: {
                  auto v = gen.value();
                  tx.put(k, v).value();
                  next[k] = v;
                  break;
                }
                case 1: REQUIRE(tx.erase(k).value() == (next.erase(k) == 1)); break;
                case 2: REQUIRE(tx.get(k).value() == model_get(next, k)); break;
                default: {
                  auto r = gen.range();
                  REQUIRE(collect(tx, r) == model_scan(next, r));
                }
              }
            }
            if (rollback) return errc::conflict;
            return success();
          });
          REQUIRE(bool(result) == !rollback);
          if (!rollback) model = std::move(next);
        }
      }
    }
    REQUIRE(collect(db, KeyRange::all()) == model_scan(model, KeyRange::all()));
  }
}
