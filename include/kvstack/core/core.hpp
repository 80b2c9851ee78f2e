// kvstack/core: the contracts (Backend and its concepts, Result and Error, KeyRange,
// WriteBatch, checkpoints, statistics) and the clocks.
#pragma once

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/errc.hpp>
#include <kvstack/core/get_many.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/stats.hpp>
#include <kvstack/core/write_batch.hpp>
