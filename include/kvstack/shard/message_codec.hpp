// encode_message / decode_message — a Message as bytes, for transports between processes:
// varints and length-prefixed byte strings; malformed input is errc::corruption, never a crash
// or an allocation larger than the input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>
#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0 {

/// Appends `m` to `out`.
inline void encode_message(const Message& m, std::string& out) {
  out.push_back(static_cast<char>(m.type));
  out.push_back(static_cast<char>((m.reject ? 1 : 0) | (m.done ? 2 : 0)));
  for (std::uint64_t v : {m.from, m.to, m.term, m.index, m.log_term, m.commit, m.offset, m.session, m.snapshot.index,
                          m.snapshot.term, std::uint64_t(m.entries.size())})
    detail::put_varint(v, out);
  auto bytes = [&](std::string_view s) {
    detail::put_varint(s.size(), out);
    out += s;
  };
  for (const auto& e : m.entries) {
    detail::put_varint(e.index, out);
    detail::put_varint(e.term, out);
    bytes(e.command);
  }
  bytes(m.data);
  bytes(m.snapshot.membership);
}

/// Reads a Message written by encode_message; errc::corruption if `in` is not one.
inline Result<Message> decode_message(std::string_view in) {
  auto bad = [](const char* what) { return Error{errc::corruption, std::string("message: ") + what}; };
  if (in.size() < 2) return bad("truncated header");
  Message m;
  const auto type = static_cast<unsigned char>(in[0]), flags = static_cast<unsigned char>(in[1]);
  if (type > static_cast<unsigned char>(last_message_type)) return bad("unknown type");
  if (flags > 3) return bad("unknown flags");
  m.type = static_cast<MessageType>(type);
  m.reject = flags & 1;
  m.done = flags & 2;
  in.remove_prefix(2);
  std::uint64_t count = 0;
  for (std::uint64_t* v : {&m.from, &m.to, &m.term, &m.index, &m.log_term, &m.commit, &m.offset, &m.session,
                           &m.snapshot.index, &m.snapshot.term, &count})
    if (!detail::take_varint(in, *v)) return bad("truncated field");
  if (count > in.size() / 3) return bad("more entries than bytes");  // each takes at least 3
  m.entries.resize(count);
  for (auto& e : m.entries) {
    std::string_view command;
    if (!detail::take_varint(in, e.index) || !detail::take_varint(in, e.term) || !detail::take_bytes(in, command))
      return bad("truncated entry");
    e.command = command;
  }
  std::string_view data, membership;
  if (!detail::take_bytes(in, data) || !detail::take_bytes(in, membership)) return bad("truncated payload");
  if (!in.empty()) return bad("trailing bytes");
  m.data = data;
  m.snapshot.membership = membership;
  return m;
}

}  // namespace kvstack
