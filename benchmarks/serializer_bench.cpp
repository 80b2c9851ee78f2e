// Claim: kvstack's BinarySerializer is about as fast as a hand-written codec and faster than the
// usual libraries. Encode and decode of two record shapes — a small NodeInfo-like record and a
// larger nested order (strings, vectors, maps, optionals, nested structs) — side by side in one
// run, each contender going from the same C++ struct to bytes and back:
//   Kvstack     kvstack::BinarySerializer (reflected with Boost.PFR, no annotation)
//   Hand        a hand-written memcpy codec with bounds-checked decoding
//   Cereal      cereal's BinaryOutputArchive / BinaryInputArchive over string streams
//   Json, MsgPack, Cbor   nlohmann::json: text, and its binary formats
//   Protobuf    Protocol Buffers 3 (the struct copied into the generated message and back)
// The `bytes` counter is the encoded size.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target serializer_bench
//   build/bench/benchmarks/serializer_bench --benchmark_repetitions=9
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <cereal/archives/binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <nlohmann/json.hpp>

#include <kvstack/codec/binary.hpp>

#include "records.pb.h"

namespace {

struct Node {
  std::string ip;
  std::uint16_t port = 0;
  std::uint8_t status = 0;
  std::map<std::string, std::string> metadata;
  bool operator==(const Node&) const = default;
};
struct Item {
  std::string name;
  double price = 0;
  std::vector<std::int32_t> counts;
  bool operator==(const Item&) const = default;
};
struct Order {
  std::uint64_t id = 0;
  std::string customer;
  std::vector<Item> items;
  std::map<std::string, std::string> tags;
  std::optional<std::string> note;
  std::optional<Item> gift;
  std::vector<std::string> labels;
  bool operator==(const Order&) const = default;
};

Node sample_node() { return {"10.0.0.17", 8080, 1, {{"rack", "r12"}, {"zone", "eu-west-1a"}}}; }
Order sample_order() {
  Order o{123456789, "ada@example.com", {}, {}, "leave at the door", Item{"card", 0, {1}}, {"priority", "gift", "eu"}};
  for (int i = 0; i < 20; ++i)
    o.items.push_back({"item-" + std::to_string(i), 9.99 + i, {i, i + 1, i + 2, i + 3, 100 * i, -i, 7, 42}});
  for (int i = 0; i < 10; ++i) o.tags["tag-" + std::to_string(i)] = "value-" + std::to_string(i * i);
  return o;
}

// ---- cereal ----

template <class A>
void serialize(A& a, Node& n) { a(n.ip, n.port, n.status, n.metadata); }
template <class A>
void serialize(A& a, Item& i) { a(i.name, i.price, i.counts); }
template <class A>
void serialize(A& a, Order& o) { a(o.id, o.customer, o.items, o.tags, o.note, o.gift, o.labels); }

// ---- nlohmann::json ----

using nlohmann::json;
void to_json(json& j, const Node& n) { j = {{"ip", n.ip}, {"port", n.port}, {"status", n.status}, {"metadata", n.metadata}}; }
void from_json(const json& j, Node& n) {
  j.at("ip").get_to(n.ip), j.at("port").get_to(n.port), j.at("status").get_to(n.status), j.at("metadata").get_to(n.metadata);
}
void to_json(json& j, const Item& i) { j = {{"name", i.name}, {"price", i.price}, {"counts", i.counts}}; }
void from_json(const json& j, Item& i) { j.at("name").get_to(i.name), j.at("price").get_to(i.price), j.at("counts").get_to(i.counts); }
void to_json(json& j, const Order& o) {
  j = {{"id", o.id}, {"customer", o.customer}, {"items", o.items}, {"tags", o.tags}, {"labels", o.labels}};
  if (o.note) j["note"] = *o.note;
  if (o.gift) j["gift"] = *o.gift;
}
void from_json(const json& j, Order& o) {
  j.at("id").get_to(o.id), j.at("customer").get_to(o.customer), j.at("items").get_to(o.items);
  j.at("tags").get_to(o.tags), j.at("labels").get_to(o.labels);
  if (auto it = j.find("note"); it != j.end()) o.note = it->get<std::string>();
  if (auto it = j.find("gift"); it != j.end()) o.gift = it->get<Item>();
}

// ---- Protocol Buffers: the struct into the generated message and back ----

void to_proto(const Node& n, kvbench::Node& m) {
  m.set_ip(n.ip), m.set_port(n.port), m.set_status(n.status);
  for (auto& [k, v] : n.metadata) (*m.mutable_metadata())[k] = v;
}
void from_proto(const kvbench::Node& m, Node& n) {
  n.ip = m.ip(), n.port = static_cast<std::uint16_t>(m.port()), n.status = static_cast<std::uint8_t>(m.status());
  n.metadata = {m.metadata().begin(), m.metadata().end()};
}
void to_proto(const Item& i, kvbench::Item& m) {
  m.set_name(i.name), m.set_price(i.price);
  m.mutable_counts()->Add(i.counts.begin(), i.counts.end());
}
void from_proto(const kvbench::Item& m, Item& i) {
  i.name = m.name(), i.price = m.price(), i.counts.assign(m.counts().begin(), m.counts().end());
}
void to_proto(const Order& o, kvbench::Order& m) {
  m.set_id(o.id), m.set_customer(o.customer);
  for (auto& i : o.items) to_proto(i, *m.add_items());
  for (auto& [k, v] : o.tags) (*m.mutable_tags())[k] = v;
  if (o.note) m.set_note(*o.note);
  if (o.gift) to_proto(*o.gift, *m.mutable_gift());
  for (auto& l : o.labels) m.add_labels(l);
}
void from_proto(const kvbench::Order& m, Order& o) {
  o.id = m.id(), o.customer = m.customer();
  o.items.resize(static_cast<std::size_t>(m.items_size()));
  for (int i = 0; i < m.items_size(); ++i) from_proto(m.items(i), o.items[static_cast<std::size_t>(i)]);
  o.tags = {m.tags().begin(), m.tags().end()};
  if (m.has_note()) o.note = m.note();
  if (m.has_gift()) from_proto(m.gift(), o.gift.emplace());
  o.labels.assign(m.labels().begin(), m.labels().end());
}
template <class T>
struct ProtoOf;
template <>
struct ProtoOf<Node> { using type = kvbench::Node; };
template <>
struct ProtoOf<Order> { using type = kvbench::Order; };

// ---- hand-written: little-endian fixed-width numbers, u32 lengths, checked reads ----

struct Writer {
  std::string& out;
  template <class N>
  void num(N v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    out.append(b, sizeof v);
  }
  void str(const std::string& s) { num(static_cast<std::uint32_t>(s.size())), out += s; }
};
struct Reader {
  std::string_view in;
  bool ok = true;
  template <class N>
  N num() {
    N v{};
    if (in.size() < sizeof v) return ok = false, v;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  std::string str() {
    auto n = num<std::uint32_t>();
    if (in.size() < n) return ok = false, std::string();
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::size_t count() {
    auto n = num<std::uint32_t>();
    if (n > in.size()) ok = false, n = 0;  // every element takes at least a byte
    return n;
  }
};
void hand_map(Writer& w, const std::map<std::string, std::string>& m) {
  w.num(static_cast<std::uint32_t>(m.size()));
  for (auto& [k, v] : m) w.str(k), w.str(v);
}
std::map<std::string, std::string> hand_map(Reader& r) {
  std::map<std::string, std::string> m;
  for (auto n = r.count(); n-- && r.ok;) {
    auto k = r.str();
    m.emplace(std::move(k), r.str());
  }
  return m;
}
void hand_encode(const Node& n, std::string& out) {
  Writer w{out};
  w.str(n.ip), w.num(n.port), w.num(n.status), hand_map(w, n.metadata);
}
void hand_decode(std::string_view in, Node& n, bool& ok) {
  Reader r{in};
  n.ip = r.str(), n.port = r.num<std::uint16_t>(), n.status = r.num<std::uint8_t>(), n.metadata = hand_map(r);
  ok = r.ok;
}
void hand_item(Writer& w, const Item& i) {
  w.str(i.name), w.num(i.price), w.num(static_cast<std::uint32_t>(i.counts.size()));
  w.out.append(reinterpret_cast<const char*>(i.counts.data()), i.counts.size() * sizeof(std::int32_t));
}
Item hand_item(Reader& r) {
  Item i;
  i.name = r.str(), i.price = r.num<double>();
  auto n = r.count();
  if (r.in.size() < n * sizeof(std::int32_t)) return r.ok = false, i;
  i.counts.resize(n);
  std::memcpy(i.counts.data(), r.in.data(), n * sizeof(std::int32_t));
  r.in.remove_prefix(n * sizeof(std::int32_t));
  return i;
}
void hand_encode(const Order& o, std::string& out) {
  Writer w{out};
  w.num(o.id), w.str(o.customer), w.num(static_cast<std::uint32_t>(o.items.size()));
  for (auto& i : o.items) hand_item(w, i);
  hand_map(w, o.tags);
  w.num(static_cast<std::uint8_t>(o.note.has_value()));
  if (o.note) w.str(*o.note);
  w.num(static_cast<std::uint8_t>(o.gift.has_value()));
  if (o.gift) hand_item(w, *o.gift);
  w.num(static_cast<std::uint32_t>(o.labels.size()));
  for (auto& l : o.labels) w.str(l);
}
void hand_decode(std::string_view in, Order& o, bool& ok) {
  Reader r{in};
  o.id = r.num<std::uint64_t>(), o.customer = r.str();
  o.items.clear();
  for (auto n = r.count(); n-- && r.ok;) o.items.push_back(hand_item(r));
  o.tags = hand_map(r);
  if (r.num<std::uint8_t>()) o.note = r.str();
  if (r.num<std::uint8_t>()) o.gift = hand_item(r);
  o.labels.clear();
  for (auto n = r.count(); n-- && r.ok;) o.labels.push_back(r.str());
  ok = r.ok;
}

// ---- the contenders: encode(value) -> bytes, decode(bytes) -> value ----

enum class Codec { kvstack, hand, cereal, json, msgpack, cbor, protobuf };

template <Codec c, class T>
std::string encode(const T& v) {
  std::string out;
  if constexpr (c == Codec::kvstack) {
    kvstack::BinarySerializer::encode(v, out);
  } else if constexpr (c == Codec::hand) {
    hand_encode(v, out);
  } else if constexpr (c == Codec::cereal) {
    std::ostringstream s;
    {
      cereal::BinaryOutputArchive a(s);
      a(v);
    }
    out = std::move(s).str();
  } else if constexpr (c == Codec::json) {
    out = json(v).dump();
  } else if constexpr (c == Codec::msgpack || c == Codec::cbor) {
    auto bytes = c == Codec::msgpack ? json::to_msgpack(json(v)) : json::to_cbor(json(v));
    out.assign(bytes.begin(), bytes.end());
  } else {
    typename ProtoOf<T>::type m;
    to_proto(v, m);
    m.SerializeToString(&out);
  }
  return out;
}

template <Codec c, class T>
bool decode(const std::string& bytes, T& v) {
  if constexpr (c == Codec::kvstack) {
    auto r = kvstack::BinarySerializer::decode<T>(bytes);
    if (!r) return false;
    v = std::move(r).value();
  } else if constexpr (c == Codec::hand) {
    bool ok = false;
    hand_decode(bytes, v, ok);
    return ok;
  } else if constexpr (c == Codec::cereal) {
    std::istringstream s(bytes);
    cereal::BinaryInputArchive a(s);
    a(v);
  } else if constexpr (c == Codec::json) {
    v = json::parse(bytes).get<T>();
  } else if constexpr (c == Codec::msgpack) {
    v = json::from_msgpack(bytes).get<T>();
  } else if constexpr (c == Codec::cbor) {
    v = json::from_cbor(bytes).get<T>();
  } else {
    typename ProtoOf<T>::type m;
    if (!m.ParseFromString(bytes)) return false;
    from_proto(m, v);
  }
  return true;
}

template <class T>
const T& sample() {
  static const T v = [] {
    if constexpr (std::is_same_v<T, Node>) return sample_node();
    else return sample_order();
  }();
  return v;
}

template <Codec c, class T>
void Encode(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto out = encode<c>(sample<T>());
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <Codec c, class T>
void Decode(benchmark::State& state) {
  const std::string bytes = encode<c>(sample<T>());
  T check;
  if (!decode<c>(bytes, check) || !(check == sample<T>())) state.SkipWithError("the value does not read back");
  for (auto _ : state) {
    T v;
    bool ok = decode<c>(bytes, v);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(v);
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

#define KVSTACK_CODEC(OP, T, C, NAME) BENCHMARK_TEMPLATE(OP, Codec::C, T)->Name(#OP "/" #T "/" NAME)
#define KVSTACK_CODECS(OP, T)                                                                            \
  KVSTACK_CODEC(OP, T, hand, "Hand"); KVSTACK_CODEC(OP, T, kvstack, "Kvstack");                          \
  KVSTACK_CODEC(OP, T, cereal, "Cereal"); KVSTACK_CODEC(OP, T, json, "Json");                            \
  KVSTACK_CODEC(OP, T, msgpack, "MsgPack"); KVSTACK_CODEC(OP, T, cbor, "Cbor");                          \
  KVSTACK_CODEC(OP, T, protobuf, "Protobuf")
KVSTACK_CODECS(Encode, Node);
KVSTACK_CODECS(Decode, Node);
KVSTACK_CODECS(Encode, Order);
KVSTACK_CODECS(Decode, Order);

}  // namespace

BENCHMARK_MAIN();
