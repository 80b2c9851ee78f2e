// kvstack::Checkpointable — the optional capability of writing a consistent copy of a store to
// a directory, from which it opens as an independent store.
#pragma once

#include <concepts>
#include <filesystem>
#include <string>
#include <system_error>

#include <kvstack/core/concepts.hpp>

namespace kvstack::inline v0 {

/// `b.checkpoint(dir) -> Result<void>`: the state at the moment of the call, written while
/// writes continue. `dir` must not exist or be empty.
///
/// Laws (tests/backend/checkpoint_test.cpp, layer/capabilities_test.cpp): a checkpoint taken
/// while a writer runs holds a consistent state and opens as an independent store; a non-empty
/// directory is errc::invalid_argument; layers are Checkpointable when what they wrap is.
template <class B>
concept Checkpointable = Backend<B> && requires(const B& b, const std::filesystem::path& dir) {
  { b.checkpoint(dir) } -> std::same_as<Result<void>>;
};

namespace detail {
/// Creates `dir` for a checkpoint; errc::invalid_argument if it holds anything already.
inline Result<void> prepare_checkpoint_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{errc::io_error, "cannot create " + dir.string() + ": " + ec.message()};
  if (!std::filesystem::is_empty(dir, ec))
    return Error{errc::invalid_argument, "checkpoint directory is not empty: " + dir.string()};
  return success();
}
}  // namespace detail

}  // namespace kvstack
