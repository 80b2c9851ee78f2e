// Order-preserving key codec: encodings compare (as unsigned bytes) like the values they encode,
// and every encoded element is self-delimiting and prefix-free, so tuples and namespaces
// concatenate without ambiguity.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/uuid/uuid.hpp>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// Key encoding of T. Specialize for your own key types with
/// `static void encode(const T&, std::string& out)` (append; order-preserving and prefix-free)
/// and `static bool decode(std::string_view& in, T& out)` (consume; false on malformed input).
///
/// Built in:
/// - unsigned integers: big-endian, fixed width; signed: the same with the sign bit flipped;
///   bool: one byte; enums: their underlying type.
/// - strings and byte strings: the bytes with 00 escaped as 00 ff, terminated by 00 01.
///   ("a" = 61 00 01 sorts before "a\0" = 61 00 ff 00 01, which sorts before "ab".)
/// - boost::uuids::uuid: its 16 bytes. std::tuple / std::pair: their elements in order.
template <class T>
struct KeyCodec;

template <std::integral T>
struct KeyCodec<T> {
  using U = typename std::conditional_t<std::is_same_v<T, bool>, std::type_identity<std::uint8_t>,
                                        std::make_unsigned<T>>::type;
  static constexpr U flip = std::is_signed_v<T> ? U(U(1) << (sizeof(T) * 8 - 1)) : U(0);
  static void encode(T v, std::string& out) {
    U u = static_cast<U>(v) ^ flip;
    char buf[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>(u >> (8 * (sizeof(T) - 1 - i)));
    out.append(buf, sizeof(T));
  }
  static bool decode(std::string_view& in, T& out) {
    if (in.size() < sizeof(T)) return false;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | static_cast<unsigned char>(in[i]));
    in.remove_prefix(sizeof(T));
    if constexpr (std::is_same_v<T, bool>) {
      if (u > 1) return false;
    }
    out = static_cast<T>(u ^ flip);
    return true;
  }
};

template <class T>
  requires std::is_enum_v<T>
struct KeyCodec<T> {
  using U = std::underlying_type_t<T>;
  static void encode(T v, std::string& out) { KeyCodec<U>::encode(static_cast<U>(v), out); }
  static bool decode(std::string_view& in, T& out) {
    U u;
    if (!KeyCodec<U>::decode(in, u)) return false;
    out = static_cast<T>(u);
    return true;
  }
};

template <>
struct KeyCodec<std::string_view> {
  static void encode(std::string_view s, std::string& out) {
    for (;;) {
      auto zero = s.find('\0');
      out.append(s.substr(0, zero));
      if (zero == std::string_view::npos) break;
      out.append("\0\xff", 2);
      s.remove_prefix(zero + 1);
    }
    out.append("\0\x01", 2);
  }
};

template <>
struct KeyCodec<std::string> {
  static void encode(std::string_view s, std::string& out) { KeyCodec<std::string_view>::encode(s, out); }
  static bool decode(std::string_view& in, std::string& out) {
    out.clear();
    for (;;) {
      auto zero = in.find('\0');
      if (zero == std::string_view::npos || zero + 1 == in.size()) return false;
      out.append(in.substr(0, zero));
      char next = in[zero + 1];
      in.remove_prefix(zero + 2);
      if (next == '\x01') return true;
      if (next != '\xff') return false;
      out.push_back('\0');
    }
  }
};

template <>
struct KeyCodec<boost::uuids::uuid> {
  static void encode(const boost::uuids::uuid& u, std::string& out) {
    out.append(reinterpret_cast<const char*>(u.data), sizeof u.data);
  }
  static bool decode(std::string_view& in, boost::uuids::uuid& out) {
    if (in.size() < sizeof out.data) return false;
    std::memcpy(out.data, in.data(), sizeof out.data);
    in.remove_prefix(sizeof out.data);
    return true;
  }
};

template <class... Ts>
struct KeyCodec<std::tuple<Ts...>> {
  static void encode(const std::tuple<Ts...>& t, std::string& out) {
    std::apply([&](const auto&... e) { (KeyCodec<std::remove_cvref_t<decltype(e)>>::encode(e, out), ...); }, t);
  }
  static bool decode(std::string_view& in, std::tuple<Ts...>& out) {
    return std::apply([&](auto&... e) { return (KeyCodec<std::remove_cvref_t<decltype(e)>>::decode(in, e) && ...); },
                      out);
  }
};

template <class A, class B>
struct KeyCodec<std::pair<A, B>> {
  static void encode(const std::pair<A, B>& p, std::string& out) {
    KeyCodec<A>::encode(p.first, out);
    KeyCodec<B>::encode(p.second, out);
  }
  static bool decode(std::string_view& in, std::pair<A, B>& out) {
    return KeyCodec<A>::decode(in, out.first) && KeyCodec<B>::decode(in, out.second);
  }
};

/// A type usable as a key (encode only).
template <class T>
concept KeyEncodable = requires(const T& v, std::string& out) { KeyCodec<T>::encode(v, out); };
/// A type usable as a registry key (encode and decode).
///
/// Laws (tests/codec/key_test.cpp, fuzz/key_decode_fuzz.cpp): encodings order as the values do;
/// they are prefix-free; decode then encode gives back exactly the bytes consumed; malformed
/// bytes fail to decode.
template <class T>
concept KeyType = KeyEncodable<T> && std::default_initializable<T> &&
                  requires(std::string_view& in, T& out) {
                    { KeyCodec<T>::decode(in, out) } -> std::same_as<bool>;
                  };

namespace detail {
template <class T>
using key_codec_for = std::conditional_t<std::is_convertible_v<const T&, std::string_view> &&
                                             !std::is_same_v<T, std::string>,
                                         KeyCodec<std::string_view>, KeyCodec<T>>;
}  // namespace detail

/// Appends the encoding of `v` to `out`. String literals and anything convertible to
/// std::string_view encode as strings.
template <class T>
void encode_key(const T& v, std::string& out) {
  detail::key_codec_for<T>::encode(v, out);
}

/// The encoding of `v`.
template <class T>
std::string encode_key(const T& v) {
  std::string out;
  encode_key(v, out);
  return out;
}

/// The encoding of a namespace name: a string element, so no namespace's encoding is a prefix
/// of another's ("node" vs "node:" vs "nod" vs "" vs "a\0b").
inline std::string encode_namespace(std::string_view ns) { return encode_key(ns); }

/// Decodes a whole key; errc::corruption if `in` is malformed or has bytes left over.
template <KeyType T>
Result<T> decode_key(std::string_view in) {
  T out{};
  std::size_t size = in.size();
  if (!KeyCodec<T>::decode(in, out))
    return Error{errc::corruption, "key codec: malformed key at offset " + std::to_string(size - in.size())};
  if (!in.empty()) return Error{errc::corruption, "key codec: " + std::to_string(in.size()) + " bytes after the key"};
  return out;
}

}  // namespace kvstack
