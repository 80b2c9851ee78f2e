// detail::create_store_dir — the directory a persistent engine keeps a store in: created if
// missing, but only it, so that a mistyped path is an error and not a new store.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0::detail {

/// Creates `path` unless it is a directory already. Its parent must exist: otherwise
/// errc::invalid_argument naming the missing directory. A file at `path` is invalid_argument too.
inline Result<void> create_store_dir(std::string_view engine, const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return success();
  if (std::filesystem::exists(path, ec))
    return Error{errc::invalid_argument, std::string(engine) + ": not a directory: " + path.string()};
  const std::filesystem::path parent = std::filesystem::absolute(path, ec).parent_path();
  if (!std::filesystem::is_directory(parent, ec))
    return Error{errc::invalid_argument, std::string(engine) + ": cannot create the store " + path.string() + ": the directory " +
                                             parent.string() + " does not exist (only the store's own directory is created)"};
  if (!std::filesystem::create_directory(path, ec) && ec)
    return Error{errc::io_error, std::string(engine) + ": cannot create " + path.string() + ": " + ec.message()};
  return success();
}

}  // namespace kvstack::detail
