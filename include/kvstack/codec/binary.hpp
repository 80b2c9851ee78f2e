// kvstack::BinarySerializer — a compact, versioned, evolvable binary format for values: numbers,
// strings, standard containers, optional, variant, tuples, chrono, uuids, and structs that are
// plain aggregates (Boost.PFR) or described with Boost.Hana, with no annotation.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/uuid/uuid.hpp>

#include <kvstack/codec/reflect.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>

namespace kvstack::inline v0 {

class BinaryReader;

/// Binary encoding of a type the serializer cannot reflect (private members, invariants).
/// Specialize with `static void encode(const T&, std::string& out)` (append each part with
/// kvstack::encode_binary) and `static bool decode(BinaryReader& in, T& out)` (read each part
/// with `in.read(part)`; return false on failure). Takes precedence over built-in handling.
template <class T>
struct BinaryCodec {};

namespace detail::bin {

template <class T>
concept HasCodec = requires(const T& v, T& t, std::string& out, BinaryReader& in) {
  BinaryCodec<T>::encode(v, out);
  { BinaryCodec<T>::decode(in, t) } -> std::same_as<bool>;
};
template <class T, template <class...> class Tmpl>
inline constexpr bool is_instance = false;
template <class... A, template <class...> class Tmpl>
inline constexpr bool is_instance<Tmpl<A...>, Tmpl> = true;
template <class T>
inline constexpr bool is_std_array = false;
template <class E, std::size_t N>
inline constexpr bool is_std_array<std::array<E, N>> = true;

template <class T>
concept Duration = requires(const T& d) {
  typename T::rep;
  typename T::period;
  { d.count() } -> std::same_as<typename T::rep>;
};
template <class T>
concept TimePoint = requires(const T& t) {
  typename T::clock;
  { t.time_since_epoch() } -> std::same_as<typename T::duration>;
};
template <class T>
concept MapLike = requires(T& m, typename T::key_type k, typename T::mapped_type v) {
  m.emplace(std::move(k), std::move(v));
  m.size();
};
template <class T>
concept SetLike = !MapLike<T> && requires(T& s, typename T::key_type k) {
  s.insert(std::move(k));
  s.size();
};
template <class T>
concept Sequence = requires(T& c, typename T::value_type v) {
  c.push_back(std::move(v));
  c.size();
  c.begin();
};
template <class T>
concept TupleLike = is_instance<T, std::tuple> || is_instance<T, std::pair>;
template <class T>
concept Container = MapLike<T> || SetLike<T> || Sequence<T>;
// Elements copied as raw little-endian bytes in bulk.
template <class E>
inline constexpr bool is_raw = std::is_same_v<E, std::byte> ||
                               (std::is_arithmetic_v<E> && !std::is_same_v<E, bool> &&
                                std::endian::native == std::endian::little);

template <class T>
constexpr bool always_false = false;

/// Fewest bytes an encoded T can take: bounds the element counts a reader accepts.
template <class T>
constexpr std::size_t min_size() {
  if constexpr (HasCodec<T>) return 0;
  else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) return sizeof(T);
  else if constexpr (std::is_same_v<T, boost::uuids::uuid>) return 16;
  else if constexpr (Duration<T>) return min_size<typename T::rep>();
  else if constexpr (TimePoint<T>) return min_size<typename T::duration>();
  else if constexpr (TupleLike<T> || is_std_array<T>)
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (min_size<std::tuple_element_t<I, T>>() + ... + std::size_t(0));
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  else if constexpr (std::is_same_v<T, std::string> || is_instance<T, std::optional> ||
                     is_instance<T, std::variant> || Container<T>)
    return 1;
  else return 2;  // a struct: field count and length
}

template <class T>
void put_raw(T v, std::string& out) {
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  } else {
    auto u = std::bit_cast<std::conditional_t<sizeof(T) == 8, std::uint64_t, std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>(u >> (8 * i)));
  }
}

template <class T>
void encode(const T& v, std::string& out);
template <class T>
bool read_struct(BinaryReader& in, T& out);

}  // namespace detail::bin

/// Appends the encoding of `v` (without the leading format-version byte) — for BinaryCodec
/// specializations.
template <class T>
void encode_binary(const T& v, std::string& out) {
  detail::bin::encode(v, out);
}

/// Reads encoded values from a byte string. Every read checks bounds; the first failure is
/// remembered with its offset.
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view in, std::size_t skip = 0)
      : begin_(in.data()), p_(in.data() + skip), end_(in.data() + in.size()) {}

  /// Decodes one value into `out`; false (with the reason recorded) on malformed input.
  template <class T>
  bool read(T& out);

  bool read_raw(void* dst, std::size_t n) {
    if (remaining() < n) return fail("truncated input");
    if (n) std::memcpy(dst, p_, n);  // an empty vector's data() may be null
    p_ += n;
    return true;
  }
  bool read_bytes(std::size_t n, std::string_view& out) {
    if (remaining() < n) return fail("length past the end of the input");
    out = {p_, n};
    p_ += n;
    return true;
  }
  bool read_varint(std::uint64_t& v) {
    std::string_view in(p_, remaining());
    bool ok = detail::take_varint(in, v);
    p_ = in.data();
    return ok || fail("truncated or overlong varint");
  }
  /// An element count, rejected when the remaining input cannot hold that many elements.
  bool read_count(std::uint64_t& n, std::size_t min_element_size) {
    if (!read_varint(n)) return false;
    if (n > remaining() / (min_element_size ? min_element_size : 1)) return fail("element count past the end of the input");
    return true;
  }

  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }

  /// Records the first failure; returns false.
  bool fail(const char* why) {
    if (!why_) {
      why_ = why;
      fail_offset_ = offset();
    }
    return false;
  }
  /// "why at offset N" for the first failure.
  std::string failure() const {
    return std::string(why_ ? why_ : "malformed input") + " at offset " + std::to_string(fail_offset_);
  }

 private:
  template <class T>
  friend bool detail::bin::read_struct(BinaryReader&, T&);

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* why_ = nullptr;
  std::size_t fail_offset_ = 0;
};

namespace detail::bin {

template <class T>
bool decode(BinaryReader& in, T& out);

// What encode_struct and read_struct do with each field: named types, not lambdas, so that each
// is compiled once per field type rather than once per struct and field type.
struct EncodeField {
  std::string& out;
  template <class F>
  void operator()(const F& f) const {
    encode(f, out);
  }
};
struct DecodeField {
  BinaryReader& in;
  std::uint64_t fields;  // how many the record holds
  std::uint64_t i = 0;
  bool ok = true;
  template <class F>
  void operator()(F& f) {
    if (ok && i++ < fields) ok = decode(in, f);
  }
};

// Whether encode() has a way to encode T. Shallow for structs: their fields are checked where
// the struct is encoded, so that an error names the struct and the field.
template <class T>
constexpr bool has_encoding() {
  if constexpr (HasCodec<T> || std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_same_v<T, boost::uuids::uuid> ||
                std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> || Duration<T> || TimePoint<T>)
    return true;
  else if constexpr (is_instance<T, std::optional>)
    return has_encoding<typename T::value_type>();
  else if constexpr (is_instance<T, std::variant>)
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (has_encoding<std::variant_alternative_t<I, T>>() && ...);
    }(std::make_index_sequence<std::variant_size_v<T>>{});
  else if constexpr (TupleLike<T> || is_std_array<T>)
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (has_encoding<std::remove_cv_t<std::tuple_element_t<I, T>>>() && ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  else if constexpr (Container<T>)
    return has_encoding<std::remove_cv_t<typename T::value_type>>();
  else
    return detail::is_reflectable<T>;
}

// The first field of the aggregate T that encode() cannot encode, or -1; not checked for
// Hana structs and aggregates of more than visit_fields_max fields.
template <class T, class... F>
constexpr int first_field_without_encoding(field_list<F...>*) {
  int i = 0, bad = -1;
  ((bad < 0 && !has_encoding<std::remove_cv_t<F>>() ? void(bad = i) : void(), ++i), ...);
  return bad;
}
template <class T>
constexpr int first_field_without_encoding() {
  if constexpr (is_hana_struct<T> || field_count<T>() > visit_fields_max) return -1;
  else return first_field_without_encoding<T>(static_cast<decltype(field_types<field_count<T>()>(std::declval<T&>()))*>(nullptr));
}
template <std::size_t I, class... F>
using field_type = std::remove_cv_t<std::tuple_element_t<I, std::tuple<F...>>>;

// Stops compilation with one message for a type encode() cannot encode (the template arguments
// of the instantiation named in the compiler's message say which).
template <class T>
void no_encoding_for() {
  if constexpr (std::is_class_v<T> && !std::is_aggregate_v<T>)
    static_assert(always_false<T>,
                  "kvstack::BinarySerializer: T is a class but not an aggregate, so its fields cannot be "
                  "reflected: it has a user-declared constructor, private or protected data members, virtual "
                  "functions, or virtual, private or protected bases. Remove those, describe it with "
                  "BOOST_HANA_DEFINE_STRUCT, or specialize kvstack::BinaryCodec<T>");
  else
    static_assert(always_false<T>,
                  "kvstack::BinarySerializer: no encoding for T; make it an aggregate, describe it with "
                  "BOOST_HANA_DEFINE_STRUCT, or specialize kvstack::BinaryCodec<T>");
}
/// Field `Index` (counted from 0) of the struct `Struct` has type `Field`, which has no encoding.
template <class Struct, std::size_t Index, class Field>
void field_without_encoding() {
  if constexpr (std::is_class_v<Field> && !std::is_aggregate_v<Field>)
    static_assert(always_false<Field>,
                  "kvstack::BinarySerializer: field Index of Struct has the type Field, a class that is not an "
                  "aggregate: it has a user-declared constructor, private or protected data members, virtual "
                  "functions, or virtual, private or protected bases. Remove those, describe Field with "
                  "BOOST_HANA_DEFINE_STRUCT, or specialize kvstack::BinaryCodec<Field>");
  else
    static_assert(always_false<Field>,
                  "kvstack::BinarySerializer: field Index of Struct has the type Field, which has no encoding; "
                  "make it an aggregate, describe it with BOOST_HANA_DEFINE_STRUCT, or specialize "
                  "kvstack::BinaryCodec<Field>");
}
template <class T, class... F>
void report_field_without_encoding(field_list<F...>*) {
  constexpr int bad = first_field_without_encoding<T>();
  field_without_encoding<T, static_cast<std::size_t>(bad), field_type<static_cast<std::size_t>(bad), F...>>();
}

template <class T>
void encode_struct(const T& v, std::string& out) {
  put_varint(detail::field_count<T>(), out);
  std::size_t at = out.size();
  out.push_back('\0');  // the length, patched below
  detail::for_each_field(v, EncodeField{out});
  std::size_t len = out.size() - at - 1;
  if (len < 0x80) {
    out[at] = static_cast<char>(len);
  } else {
    std::string varint;
    put_varint(len, varint);
    out.replace(at, 1, varint);
  }
}

template <class T>
void encode(const T& v, std::string& out) {
  if constexpr (HasCodec<T>) {
    BinaryCodec<T>::encode(v, out);
  } else if constexpr (std::is_same_v<T, bool>) {
    out.push_back(v ? '\1' : '\0');
  } else if constexpr (std::is_arithmetic_v<T>) {
    put_raw(v, out);
  } else if constexpr (std::is_enum_v<T>) {
    put_raw(static_cast<std::underlying_type_t<T>>(v), out);
  } else if constexpr (std::is_same_v<T, boost::uuids::uuid>) {
    out.append(reinterpret_cast<const char*>(v.data), sizeof v.data);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    put_varint(v.size(), out);
    out.append(v);
  } else if constexpr (is_instance<T, std::optional>) {
    out.push_back(v ? '\1' : '\0');
    if (v) encode(*v, out);
  } else if constexpr (is_instance<T, std::variant>) {
    put_varint(v.index(), out);
    std::visit([&](const auto& alt) { encode(alt, out); }, v);
  } else if constexpr (Duration<T>) {
    encode(v.count(), out);
  } else if constexpr (TimePoint<T>) {
    encode(v.time_since_epoch(), out);
  } else if constexpr (TupleLike<T> || is_std_array<T>) {
    std::apply([&](const auto&... e) { (encode(e, out), ...); }, v);
  } else if constexpr (Container<T>) {
    put_varint(v.size(), out);
    using E = typename T::value_type;
    if constexpr (is_raw<E> && requires { v.data(); }) {
      if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(E));
    } else {
      for (const auto& e : v) encode(e, out);
    }
  } else if constexpr (detail::is_reflectable<T>) {
    if constexpr (first_field_without_encoding<T>() >= 0)
      report_field_without_encoding<T>(static_cast<decltype(field_types<field_count<T>()>(std::declval<T&>()))*>(nullptr));
    else
      encode_struct(v, out);
  } else {
    no_encoding_for<T>();
  }
}

template <class T>
bool decode(BinaryReader& in, T& out);

template <class V, std::size_t... I>
bool decode_variant(BinaryReader& in, V& out, std::uint64_t index, std::index_sequence<I...>) {
  bool ok = false;
  ((index == I ? void(ok = decode(in, out.template emplace<I>())) : void()), ...);
  return ok;
}

template <class T>
bool decode_container(BinaryReader& in, T& out) {
  using E = typename T::value_type;
  std::uint64_t n;
  if (!in.read_count(n, min_size<E>())) return false;
  if constexpr (requires { out.reserve(n); }) out.reserve(n);
  if constexpr (is_raw<E> && requires { out.data(); out.resize(n); }) {
    out.resize(n);
    return in.read_raw(out.data(), n * sizeof(E));
  } else {
    for (std::uint64_t i = 0; i < n; ++i) {
      if constexpr (MapLike<T>) {
        typename T::key_type k{};
        typename T::mapped_type v{};
        if (!decode(in, k) || !decode(in, v)) return false;
        auto r = out.emplace(std::move(k), std::move(v));
        if constexpr (requires { r.second; }) {
          if (!r.second) return in.fail("duplicate key in map");
        }
      } else {
        E e{};
        if (!decode(in, e)) return false;
        if constexpr (SetLike<T>) {
          auto r = out.insert(std::move(e));
          if constexpr (requires { r.second; }) {
            if (!r.second) return in.fail("duplicate element in set");
          }
        } else {
          out.push_back(std::move(e));
        }
      }
    }
    return true;
  }
}

template <class T>
bool decode(BinaryReader& in, T& out) {
  if constexpr (HasCodec<T>) {
    return BinaryCodec<T>::decode(in, out);
  } else if constexpr (std::is_same_v<T, bool>) {
    unsigned char b;
    if (!in.read_raw(&b, 1)) return false;
    if (b > 1) return in.fail("invalid bool");
    out = b;
    return true;
  } else if constexpr (std::is_arithmetic_v<T>) {
    if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
      return in.read_raw(&out, sizeof out);
    } else {
      unsigned char b[sizeof(T)];
      if (!in.read_raw(b, sizeof b)) return false;
      std::uint64_t u = 0;
      for (std::size_t i = 0; i < sizeof(T); ++i) u |= std::uint64_t(b[i]) << (8 * i);
      using U = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>;
      out = std::bit_cast<T>(static_cast<U>(u));
      return true;
    }
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> u;
    if (!decode(in, u)) return false;
    out = static_cast<T>(u);
    return true;
  } else if constexpr (std::is_same_v<T, boost::uuids::uuid>) {
    return in.read_raw(out.data, sizeof out.data);
  } else if constexpr (std::is_same_v<T, std::string>) {
    std::uint64_t n;
    std::string_view bytes;
    if (!in.read_varint(n) || !in.read_bytes(n, bytes)) return false;
    out.assign(bytes);
    return true;
  } else if constexpr (is_instance<T, std::optional>) {
    bool present;
    if (!decode(in, present)) return false;
    if (!present) {
      out.reset();
      return true;
    }
    return decode(in, out.emplace());
  } else if constexpr (is_instance<T, std::variant>) {
    std::uint64_t index;
    if (!in.read_varint(index)) return false;
    if (index >= std::variant_size_v<T>) return in.fail("variant index out of range");
    return decode_variant(in, out, index, std::make_index_sequence<std::variant_size_v<T>>{});
  } else if constexpr (Duration<T>) {
    typename T::rep count{};
    if (!decode(in, count)) return false;
    out = T(count);
    return true;
  } else if constexpr (TimePoint<T>) {
    typename T::duration d{};
    if (!decode(in, d)) return false;
    out = T(d);
    return true;
  } else if constexpr (TupleLike<T> || is_std_array<T>) {
    return std::apply([&](auto&... e) { return (decode(in, e) && ...); }, out);
  } else if constexpr (Container<T>) {
    return decode_container(in, out);
  } else if constexpr (detail::is_reflectable<T>) {
    if constexpr (first_field_without_encoding<T>() >= 0) {  // the same one message as encode's
      report_field_without_encoding<T>(static_cast<decltype(field_types<field_count<T>()>(std::declval<T&>()))*>(nullptr));
      return false;
    } else {
      return read_struct(in, out);
    }
  } else {
    no_encoding_for<T>();
    return false;
  }
}

// A struct is: field count, byte length, fields. Fewer fields than T has (an older record): the
// rest keep their defaults. More (a newer record): the extra bytes are skipped.
template <class T>
bool read_struct(BinaryReader& in, T& out) {
  std::uint64_t fields, length;
  if (!in.read_varint(fields) || !in.read_varint(length)) return false;
  if (length > in.remaining()) return in.fail("struct length past the end of the input");
  const char* outer_end = in.end_;
  in.end_ = in.p_ + length;
  DecodeField field{in, fields};
  detail::for_each_field(out, field);
  bool ok = field.ok;
  if (ok && fields <= detail::field_count<T>() && in.p_ != in.end_) ok = in.fail("struct length does not match its fields");
  if (ok) in.p_ = in.end_;
  in.end_ = outer_end;
  return ok;
}

}  // namespace detail::bin

template <class T>
bool BinaryReader::read(T& out) {
  return detail::bin::decode(*this, out);
}

/// Serializer for kvstack models: a format-version byte, then the value.
///
/// Layout: integers and floats little-endian at their own width; bool one byte (0 or 1);
/// strings and containers a LEB128 count then the elements; optional a 0/1 byte; variant a
/// LEB128 index; tuples, pairs and std::array their elements; chrono values their count;
/// uuids 16 bytes; structs a LEB128 field count and byte length, then the fields in order.
/// Decoding never reads past the input, never reserves more elements than the remaining bytes
/// could hold, and reports malformed input as errc::corruption with the offset.
struct BinarySerializer {
  static constexpr unsigned char format_version = 1;

  template <class T>
  static void encode(const T& value, std::string& out) {
    out.push_back(static_cast<char>(format_version));
    detail::bin::encode(value, out);
  }

  template <class T>
  static std::string encode(const T& value) {
    std::string out;
    encode(value, out);
    return out;
  }

  template <class T>
  static Result<T> decode(std::string_view in) {
    if (in.empty()) return Error{errc::corruption, "BinarySerializer: empty input"};
    auto version = static_cast<unsigned char>(in[0]);
    if (version != format_version)
      return Error{version > format_version ? errc::unsupported : errc::corruption,
                   "BinarySerializer: unknown format version " + std::to_string(version)};
    if constexpr (!std::is_default_constructible_v<T>) {
      if constexpr (detail::bin::has_encoding<T>())
        static_assert(detail::bin::always_false<T>, "kvstack::BinarySerializer: decode needs T default-constructible (it decodes into a T{})");
      else
        detail::bin::no_encoding_for<T>();  // the one message encode gives too
      return Error{errc::unsupported, "BinarySerializer: cannot decode this type"};
    } else {
      BinaryReader reader(in, 1);
      T out{};
      if (!reader.read(out)) return Error{errc::corruption, "BinarySerializer: " + reader.failure()};
      if (reader.remaining())
        return Error{errc::corruption, "BinarySerializer: " + std::to_string(reader.remaining()) + " trailing bytes"};
      return out;
    }
  }
};

}  // namespace kvstack
