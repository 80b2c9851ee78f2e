// kvstack::errc — the library's error codes and their std::error_category.
#pragma once

#include <string>
#include <system_error>

namespace kvstack::inline v0 {

/// Error codes returned inside kvstack::Result. An absent key is never an error.
enum class errc {
  io_error = 1,      ///< the engine or the OS failed to read or write
  corruption,        ///< stored or received bytes do not decode
  full,              ///< the store (or its map) has no room left
  locked,            ///< another process or handle holds the store
  busy,              ///< the engine is temporarily unavailable
  invalid_argument,  ///< the caller passed something the operation cannot take
  wrong_type,        ///< the key holds a value of another kind
  conflict,          ///< a precondition (CAS, lease, fencing token) does not hold
  not_leader,        ///< a replicated write reached a follower
  timeout,           ///< the operation did not finish in time
  unsupported,       ///< the backend or format version does not offer this
  closed,            ///< the store was closed or moved from
};

namespace detail {
class ErrcCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kvstack"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::io_error: return "I/O error";
      case errc::corruption: return "corruption";
      case errc::full: return "storage full";
      case errc::locked: return "store locked";
      case errc::busy: return "busy";
      case errc::invalid_argument: return "invalid argument";
      case errc::wrong_type: return "wrong type";
      case errc::conflict: return "conflict";
      case errc::not_leader: return "not leader";
      case errc::timeout: return "timeout";
      case errc::unsupported: return "unsupported";
      case errc::closed: return "closed";
    }
    return "unknown kvstack error " + std::to_string(code);
  }
};
}  // namespace detail

/// The category of kvstack::errc codes.
inline const std::error_category& error_category() noexcept {
  static const detail::ErrcCategory category;
  return category;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace kvstack

template <>
struct std::is_error_code_enum<kvstack::errc> : std::true_type {};
