// How many seeds a simulation test runs in this build.
#pragma once

#include <cstdint>

namespace kvstack::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif
#else
inline constexpr bool sanitized_build = false;
#endif

/// `n` in a plain build; a fifth of it under ASan or TSan, where the unoptimized, instrumented
/// simulation runs 10 to 50 times slower. The sanitizers look for memory and thread errors, which
/// the first seeds reach as the rest do; the optimized build runs all `n`, tools/soak.sh thousands.
constexpr std::uint64_t sim_seeds(std::uint64_t n) { return sanitized_build ? n / 5 : n; }

}  // namespace kvstack::test
