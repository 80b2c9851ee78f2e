// kvstack::Checkpointable — the optional capability of writing a consistent copy of a store to
// a directory, from which it opens as an independent store.
#pragma once

#include <concepts>
#include <filesystem>

#include <kvstack/core/concepts.hpp>

namespace kvstack {

/// `b.checkpoint(dir) -> Result<void>`: the state at the moment of the call, written while
/// writes continue. `dir` must not exist or be empty.
template <class B>
concept Checkpointable = Backend<B> && requires(const B& b, const std::filesystem::path& dir) {
  { b.checkpoint(dir) } -> std::same_as<Result<void>>;
};

}  // namespace kvstack
