// kvstack's version. Everything kvstack declares lives in the inline namespace kvstack::v<major>
// (written kvstack::inline v0 in each header), so two major versions can be linked into one
// program; users write kvstack:: and never name it. The build files carry the same version
// (CMake's project(), Meson's project(); CMake checks that they agree).
#pragma once

#define KVSTACK_VERSION_MAJOR 0
#define KVSTACK_VERSION_MINOR 1
#define KVSTACK_VERSION_PATCH 0
#define KVSTACK_VERSION (KVSTACK_VERSION_MAJOR * 10000 + KVSTACK_VERSION_MINOR * 100 + KVSTACK_VERSION_PATCH)

namespace kvstack::inline v0 {
/// "major.minor.patch"
inline constexpr const char* version = "0.1.0";
}  // namespace kvstack
