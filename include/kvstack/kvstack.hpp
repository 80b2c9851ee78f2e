// kvstack — the umbrella header: every part of the library that needs no optional engine.
#pragma once

#include <kvstack/version.hpp>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/errc.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/config.hpp>
#include <kvstack/backend/copy.hpp>
#include <kvstack/backend/memory.hpp>

#include <kvstack/registry/namespaced_registry.hpp>
