// kvstack::Result<T> and kvstack::Error: an error code plus the message that explains it.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/outcome/bad_access.hpp>
#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/base.hpp>

#include <kvstack/core/errc.hpp>

namespace kvstack::inline v0 {

/// What went wrong: a std::error_code (usually a kvstack::errc) and the context that explains
/// it — the engine's own message, the path, the offset — so a user never sees a bare code.
class Error {
 public:
  Error() = default;
  Error(std::error_code code, std::string context = {}) : code_(code), context_(std::move(context)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Error(E e, std::string context = {}) : Error(make_error_code(e), std::move(context)) {}

  const std::error_code& code() const noexcept { return code_; }
  /// The detail beyond the code ("BinarySerializer: length 900 past end at offset 3"); may be empty.
  const std::string& context() const noexcept { return context_; }
  /// "<code message>: <context>", or the code's message alone.
  std::string message() const {
    return context_.empty() ? code_.message() : code_.message() + ": " + context_;
  }

  friend bool operator==(const Error& e, const std::error_code& c) noexcept { return e.code_ == c; }
  template <class E>
    requires std::is_error_code_enum_v<E>
  friend bool operator==(const Error& e, E c) noexcept {
    return e.code_ == make_error_code(c);
  }

 private:
  std::error_code code_;
  std::string context_;
};

namespace detail {
/// Outcome policy: `.value()` on an error throws std::system_error carrying code and context;
/// `.error()` on a value throws boost::outcome's bad_result_access.
struct ResultPolicy : boost::outcome_v2::policy::base {
  template <class Impl>
  static constexpr void wide_value_check(Impl&& self) {
    if (!base::_has_value(self)) {
      if (base::_has_error(self)) {
        const Error& e = base::_error(self);
        if (e.context().empty()) throw std::system_error(e.code());
        throw std::system_error(e.code(), e.context());
      }
      throw boost::outcome_v2::bad_result_access("no value");
    }
  }
  template <class Impl>
  static constexpr void wide_error_check(Impl&& self) {
    if (!base::_has_error(self)) throw boost::outcome_v2::bad_result_access("no error");
  }
};
}  // namespace detail

/// The return type of every fallible call: a T or a kvstack::Error.
/// `return errc::conflict;` and `return Error{errc::io_error, "why"};` both convert.
template <class T>
using Result = boost::outcome_v2::basic_result<T, Error, detail::ResultPolicy>;

/// The successful Result<void>: `return kvstack::success();`.
constexpr auto success() noexcept { return boost::outcome_v2::success(); }

}  // namespace kvstack
