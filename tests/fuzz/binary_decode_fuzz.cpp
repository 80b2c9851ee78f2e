// libFuzzer target for BinarySerializer::decode<T>: the first byte picks the type (a flat struct
// or a nested one with containers, optionals and variants), the rest is decoded. Beyond "no crash,
// no sanitizer report, no unbounded allocation": what decodes re-encodes to bytes that decode to
// the same encoding again (decoding is a function of the bytes, and encoding of the value).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <kvstack/codec/binary.hpp>

#include "fuzz/fuzz_types.hpp"

namespace {
template <class T>
void check(std::string_view bytes) {
  using kvstack::BinarySerializer;
  auto value = BinarySerializer::decode<T>(bytes);
  if (!value) return;
  const std::string once = BinarySerializer::encode(value.value());
  auto again = BinarySerializer::decode<T>(once);
  if (!again || BinarySerializer::encode(again.value()) != once) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) check<kvstack::test::fuzz::Flat>(bytes);
  else check<kvstack::test::fuzz::Nested>(bytes);
  return 0;
}
