// The backends every law runs against, and how the tests open them. A new backend or layer
// joins BackendTypes and gets a BackendFactory; it then inherits every law.
#pragma once

#include <tuple>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/memory.hpp>

namespace kvstack::test {

/// Opens fresh instances of B. `durable` backends also get `reopen()` for persistence laws.
template <class B>
struct BackendFactory;

template <>
struct BackendFactory<MemoryBackend> {
  static constexpr bool durable = false;
  MemoryBackend open() { return {}; }
};

/// AnyBackend runs the laws over its in-memory alternative: the dispatch is what is tested.
template <>
struct BackendFactory<AnyBackend> {
  static constexpr bool durable = false;
  AnyBackend open() { return AnyBackend(MemoryBackend{}); }
};

using BackendTypes = std::tuple<MemoryBackend, AnyBackend>;

}  // namespace kvstack::test
