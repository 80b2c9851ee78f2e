// kvstack/layer: the layers that wrap any Backend: Ttl, Watch, Atomic, Lease and Metrics, and
// PassThrough, which hands on what a layer does not change.
#pragma once

#include <kvstack/layer/atomic.hpp>
#include <kvstack/layer/lease.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/pass_through.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>
