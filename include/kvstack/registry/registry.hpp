// kvstack/registry: NamespacedRegistry, typed values under a name in any Backend.
#pragma once

#include <kvstack/registry/namespaced_registry.hpp>
