// kvstack's version.
#pragma once

#define KVSTACK_VERSION_MAJOR 0
#define KVSTACK_VERSION_MINOR 1
#define KVSTACK_VERSION_PATCH 0
#define KVSTACK_VERSION (KVSTACK_VERSION_MAJOR * 10000 + KVSTACK_VERSION_MINOR * 100 + KVSTACK_VERSION_PATCH)

namespace kvstack {
/// "major.minor.patch"
inline constexpr const char* version = "0.1.0";
}  // namespace kvstack
