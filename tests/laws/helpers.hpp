// Small helpers shared by the law suites.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>

namespace kvstack::test {

using Entries = std::vector<std::pair<std::string, std::string>>;

/// Everything a scan yields, copied; fails the test if the scan reports an error.
template <class Source>
Entries collect(const Source& source, const KeyRange& range) {
  Entries out;
  auto scan = source.scan(range);
  for (auto&& [key, value] : scan) out.emplace_back(std::string(key), std::string(value));
  scan.status().value();
  return out;
}

template <class Source>
std::vector<std::string> keys_of(const Source& source, const KeyRange& range) {
  std::vector<std::string> out;
  for (auto& [k, v] : collect(source, range)) out.push_back(k);
  return out;
}

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

}  // namespace kvstack::test
