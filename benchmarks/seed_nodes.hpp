// The data of the engine benchmarks (engine_bench, sql_redis_bench): seed 002's registry of
// 100,000 nodes, a small struct, keyed (group, index) so that each group of 100 is a prefix; the
// registry's key encoding and BinarySerializer values, for the hand-written sides to store the
// same bytes; and a cheap random index.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>

namespace seed_nodes {
namespace kv = kvstack;

struct NodeInfo {
  std::string ip;
  std::uint16_t port = 0;
  std::uint8_t status = 0;
  std::map<std::string, std::string> metadata;
};

// 100,000 nodes in 1,000 groups of 100: the key (group, index) makes each group a prefix.
using NodeKey = std::pair<std::uint32_t, std::uint32_t>;
constexpr std::uint32_t groups = 1000, per_group = 100, node_count = groups * per_group;

inline NodeKey key_of(std::uint32_t i) { return {i / per_group, i % per_group}; }
inline NodeInfo node_of(std::uint32_t i) { return {"10.0.0." + std::to_string(i % 250), 8080, 1, {{"zone", "a"}}}; }

inline const std::string& ns() {
  static const std::string prefix = kv::encode_namespace("node");
  return prefix;
}
inline std::string storage_key(const NodeKey& k) {
  std::string out = ns();
  kv::encode_key(k, out);
  return out;
}
inline std::string group_prefix(std::uint32_t group) {
  std::string out = ns();
  kv::encode_key(group, out);
  return out;
}
inline std::string encoded(const NodeInfo& n) {
  std::string out;
  kv::BinarySerializer::encode(n, out);
  return out;
}

inline std::uint32_t next_index(std::uint64_t& x) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>((x >> 33) % node_count);
}
inline NodeInfo decode(std::string_view bytes) { return kv::BinarySerializer::decode<NodeInfo>(bytes).value(); }

}  // namespace seed_nodes
