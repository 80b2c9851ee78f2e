// kvstack::Result<T> and kvstack::Error: a value, or an error code plus the message that explains
// it. Shaped like C++23 std::expected<T, Error>, small enough to instantiate for every value type.
#pragma once

#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

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

/// Thrown by `error()` on a Result that holds a value: a programming error, never a data error.
class bad_result_access : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
/// `value()` on an error: std::system_error carrying the code, its what() the context and message.
[[noreturn]] inline void throw_error(const Error& e) {
  if (e.context().empty()) throw std::system_error(e.code());
  throw std::system_error(e.code(), e.context());
}
[[noreturn]] inline void throw_no_error() { throw bad_result_access("kvstack::Result: error() on a value"); }

/// What `success()` returns: converts to a successful Result<void>.
struct Success {};

/// An argument a Result<T> may be built from as its value: not a Result, not an error.
template <class U, class T>
concept ValueArgument = std::is_constructible_v<T, U> && !std::is_same_v<std::remove_cvref_t<U>, Error> &&
                        !std::is_error_code_enum_v<std::remove_cvref_t<U>> &&
                        !std::is_same_v<std::remove_cvref_t<U>, std::error_code> &&
                        !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t>;
}  // namespace detail

/// The successful Result<void>: `return kvstack::success();`.
constexpr detail::Success success() noexcept { return {}; }

/// The return type of every fallible call: a T or a kvstack::Error.
/// `return value;`, `return errc::conflict;` and `return Error{errc::io_error, "why"};` all convert.
/// `value()` throws std::system_error on an error; `*` and `->` check the same way.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T> && !std::is_same_v<std::remove_cv_t<T>, Error>,
                "kvstack::Result<T>: T must be an object type other than Error");

 public:
  using value_type = T;
  using error_type = Error;

  /// A value, converting implicitly when T does.
  template <class U = T>
    requires detail::ValueArgument<U, T> && (!std::is_same_v<std::remove_cvref_t<U>, Result>)
  explicit(!std::is_convertible_v<U, T>) Result(U&& v) : ok_(true) {
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(v));
  }
  /// A value built in place from `args`.
  template <class... Args>
  explicit Result(std::in_place_t, Args&&... args) : ok_(true) {
    ::new (static_cast<void*>(&value_)) T(std::forward<Args>(args)...);
  }
  /// An error.
  Result(Error e) : ok_(false) { ::new (static_cast<void*>(&error_)) Error(std::move(e)); }
  Result(std::error_code code) : Result(Error(code)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Result(E e) : Result(Error(e)) {}

  Result(const Result& other)
    requires std::is_copy_constructible_v<T>
      : ok_(other.ok_) {
    if (ok_) ::new (static_cast<void*>(&value_)) T(other.value_);
    else ::new (static_cast<void*>(&error_)) Error(other.error_);
  }
  Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(other.ok_) {
    if (ok_) ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    else ::new (static_cast<void*>(&error_)) Error(std::move(other.error_));
  }
  Result& operator=(const Result& other)
    requires std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>
  {
    if (this != &other) assign(other);
    return *this;
  }
  Result& operator=(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                             std::is_nothrow_move_assignable_v<T>) {
    if (this != &other) assign(std::move(other));
    return *this;
  }
  ~Result() { destroy(); }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }

  /// The value; throws std::system_error (code and context) when this holds an error.
  T& value() & {
    if (!ok_) detail::throw_error(error_);
    return value_;
  }
  const T& value() const& {
    if (!ok_) detail::throw_error(error_);
    return value_;
  }
  T&& value() && {
    if (!ok_) detail::throw_error(error_);
    return std::move(value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; throws bad_result_access when this holds a value.
  Error& error() & {
    if (ok_) detail::throw_no_error();
    return error_;
  }
  const Error& error() const& {
    if (ok_) detail::throw_no_error();
    return error_;
  }
  Error&& error() && {
    if (ok_) detail::throw_no_error();
    return std::move(error_);
  }

  /// The value, or `fallback` when this holds an error.
  template <class U>
  T value_or(U&& fallback) const& {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return ok_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// Equal when both hold equal values, or both hold errors with the same code.
  friend bool operator==(const Result& a, const Result& b)
    requires requires(const T& x) { x == x; }
  {
    if (a.ok_ != b.ok_) return false;
    return a.ok_ ? bool(a.value_ == b.value_) : a.error_.code() == b.error_.code();
  }

 private:
  void destroy() noexcept {
    if (ok_) value_.~T();
    else error_.~Error();
  }
  template <class R>
  void assign(R&& other) {
    if (ok_ && other.ok_) {
      value_ = std::forward<R>(other).value_;
    } else if (!ok_ && !other.ok_) {
      error_ = std::forward<R>(other).error_;
    } else {
      destroy();
      ok_ = other.ok_;
      if (ok_) ::new (static_cast<void*>(&value_)) T(std::forward<R>(other).value_);
      else ::new (static_cast<void*>(&error_)) Error(std::forward<R>(other).error_);
    }
  }

  union {
    T value_;
    Error error_;
  };
  bool ok_;
};

/// Success or an Error, nothing more: `return success();` or `return errc::io_error;`.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = Error;

  Result(detail::Success) noexcept {}
  Result(Error e) : error_(std::move(e)), ok_(false) {}
  Result(std::error_code code) : Result(Error(code)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Result(E e) : Result(Error(e)) {}

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  /// Throws std::system_error (code and context) when this holds an error.
  void value() const {
    if (!ok_) detail::throw_error(error_);
  }
  void operator*() const { value(); }

  Error& error() & {
    if (ok_) detail::throw_no_error();
    return error_;
  }
  const Error& error() const& {
    if (ok_) detail::throw_no_error();
    return error_;
  }
  Error&& error() && {
    if (ok_) detail::throw_no_error();
    return std::move(error_);
  }

  friend bool operator==(const Result& a, const Result& b) noexcept {
    return a.ok_ == b.ok_ && (a.ok_ || a.error_.code() == b.error_.code());
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace kvstack
