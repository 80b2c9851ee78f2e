// Field reflection for the serializer: structs described with Boost.Hana
// (BOOST_HANA_DEFINE_STRUCT / BOOST_HANA_ADAPT_STRUCT) and plain aggregates.
//
// Aggregates: the field count comes from brace-initialization (below), the fields from one
// structured binding (detail/visit_fields.hpp, up to 40 fields; above that Boost.PFR's
// structured-binding table, boost::pfr::detail::tie_as_tuple, present since PFR 2.0). PFR's own
// count is not used: with GCC 12 it hits an internal compiler error on default member
// initializers such as `std::vector<std::string> v = {"x"};`.
#pragma once

#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/unpack.hpp>
#include <boost/pfr/detail/core17_generated.hpp>

#include <kvstack/detail/visit_fields.hpp>

namespace kvstack::inline v0::detail {

template <class T>
inline constexpr bool is_hana_struct = boost::hana::Struct<T>::value;

template <class T>
inline constexpr bool is_reflectable = is_hana_struct<T> || (std::is_aggregate_v<T> && std::is_class_v<T>);

// Converts to any field type, so `T{AnyField{}...}` compiles for as many fields as T has.
struct AnyField {
  template <class F>
  [[noreturn]] operator F&() const noexcept { std::terminate(); }  // named only in unevaluated contexts
};
template <class T, std::size_t... I>
constexpr bool brace_initializable(std::index_sequence<I...>) {
  return requires { T{(void(I), AnyField{})...}; };
}
template <class T, std::size_t N = 0>
constexpr std::size_t aggregate_field_count() {
  if constexpr (!brace_initializable<T>(std::make_index_sequence<N + 1>{})) return N;
  else return aggregate_field_count<T, N + 1>();
}

/// Number of fields of a reflectable struct.
template <class T>
constexpr std::size_t field_count() {
  if constexpr (is_hana_struct<T>) {
    return decltype(boost::hana::unpack(boost::hana::accessors<T>(), [](auto... a) {
      return std::integral_constant<std::size_t, sizeof...(a)>{};
    }))::value;
  } else {
    return aggregate_field_count<T>();
  }
}

/// Calls f(field) for each field of s in declaration order (const or not, as s is).
template <class S, class F>
void for_each_field(S& s, F&& f) {
  using T = std::remove_const_t<S>;
  if constexpr (is_hana_struct<T>) {
    boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... a) { (f(boost::hana::second(a)(s)), ...); });
  } else if constexpr (constexpr std::size_t n = field_count<T>(); n <= visit_fields_max) {
    visit_fields<n>(s, f);
  } else {
    auto fields = boost::pfr::detail::tie_as_tuple(s, boost::pfr::detail::size_t_<n>{});
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(boost::pfr::detail::sequence_tuple::get<I>(fields)), ...);
    }(std::make_index_sequence<n>{});
  }
}

}  // namespace kvstack::detail
