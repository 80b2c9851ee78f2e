// kvstack::Digest — the SHA-256 digests a Merkle Search Tree is built from (OpenSSL's libcrypto,
// Debian `libssl-dev`; link with -lcrypto, or use the kvstack::mst target).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <openssl/sha.h>

namespace kvstack::inline v0 {

/// A SHA-256 digest. All zeros stands for "nothing" (the root of an empty tree).
struct Digest {
  static constexpr std::size_t size = 32;
  std::array<unsigned char, size> bytes{};

  /// The digest of `data`.
  static Digest of(std::string_view data) noexcept {
    Digest d;
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.bytes.data());
    return d;
  }
  /// The digest held in `raw`, which must be `size` bytes.
  static Digest from(std::string_view raw) noexcept {
    Digest d;
    for (std::size_t i = 0; i < size && i < raw.size(); ++i) d.bytes[i] = static_cast<unsigned char>(raw[i]);
    return d;
  }
  /// The raw bytes, as a string view (for keys and messages).
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(bytes.data()), size}; }
  /// Lowercase hex, for messages and logs.
  std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned char b : bytes) s.append({digits[b >> 4], digits[b & 15]});
    return s;
  }
  /// True unless all zeros.
  explicit operator bool() const noexcept { return *this != Digest{}; }
  friend auto operator<=>(const Digest&, const Digest&) = default;
};

}  // namespace kvstack
