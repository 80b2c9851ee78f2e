// kvstack::redis::Meta — a key's metadata record (type, expiry, a collection's version, size
// and head, a string's value), and its encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <kvstack/redis/layout.hpp>

namespace kvstack::inline v0::redis {

/// A key's metadata record, decoded.
struct Meta {
  std::string key;
  std::uint32_t db = 0;  ///< physical database id
  Type type = Type::string;
  std::int64_t expiry = 0;  ///< deadline in ms since the clock's epoch; 0: none
  std::uint64_t version = 0;
  std::int64_t size = 0;
  std::int64_t head = 0;  ///< list: the number of its first chunk (list_chunk.hpp)
  std::int64_t tail = 0;  ///< list: the number of its last chunk (head..tail are all there)
  std::string value;      ///< string: the value
  std::int64_t stored_expiry = 0;

  bool is_collection() const noexcept { return type != Type::string; }

  std::string encode() const {
    std::string out;
    out.reserve(type == Type::string ? 10 + value.size() : 42);
    out.push_back(static_cast<char>(detail::format_of(type)));
    out.push_back(static_cast<char>(type));
    detail::put_int<std::int64_t>(out, expiry);
    if (type == Type::string) {
      out += value;
    } else {
      detail::put_int<std::uint64_t>(out, version);
      detail::put_int<std::int64_t>(out, size);
      detail::put_int<std::int64_t>(out, head);
      if (type == Type::list) detail::put_int<std::int64_t>(out, tail);
    }
    return out;
  }
  /// What create() and the like need of a record, read without copying its key or value.
  struct Header {
    Type type;
    std::int64_t expiry;
    std::uint64_t version;  ///< 0 for a string
  };
  static std::optional<Header> decode_header(std::string_view bytes) {
    if (bytes.size() < 10) return std::nullopt;
    auto t = static_cast<std::uint8_t>(bytes[1]);
    if (t < 1 || t > 5 || static_cast<std::uint8_t>(bytes[0]) != detail::format_of(static_cast<Type>(t))) return std::nullopt;
    Header h{static_cast<Type>(t), detail::get_int<std::int64_t>(bytes, 2), 0};
    if (h.type != Type::string) {
      if (bytes.size() != (h.type == Type::list ? 42u : 34u)) return std::nullopt;
      h.version = detail::get_int<std::uint64_t>(bytes, 10);
    }
    return h;
  }
  static std::optional<Meta> decode(std::uint32_t db, std::string_view key, std::string_view bytes) {
    auto h = decode_header(bytes);
    if (!h) return std::nullopt;
    Meta m;
    m.key = key;
    m.db = db;
    m.type = h->type;
    m.stored_expiry = m.expiry = h->expiry;
    m.version = h->version;
    if (m.type == Type::string) {
      m.value = bytes.substr(10);
    } else {
      m.size = detail::get_int<std::int64_t>(bytes, 18);
      m.head = detail::get_int<std::int64_t>(bytes, 26);
      if (m.type == Type::list) m.tail = detail::get_int<std::int64_t>(bytes, 34);
    }
    return m;
  }
};

}  // namespace kvstack::redis
