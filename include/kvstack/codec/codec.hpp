// kvstack/codec: the serializers: BinarySerializer for values, the key codec, and
// field reflection.
#pragma once

#include <kvstack/codec/binary.hpp>
#include <kvstack/codec/key.hpp>
#include <kvstack/codec/reflect.hpp>
