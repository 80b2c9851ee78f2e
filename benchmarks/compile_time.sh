#!/usr/bin/env bash
# Claim: a header-only template library can compile quickly. Times (median of 3 runs, wall clock)
# compiling generated translation units with GCC and Clang at -O0:
#   reflected N   N structs of 10 fields stored and read through NamespacedRegistry<MemoryBackend, S>
#                 (BinarySerializer reflects them: no codec written)
#   hand N        the same N structs with hand-written encode / decode over MemoryBackend
#   umbrella      `#include <kvstack/kvstack.hpp>` and an empty main, against `#include <string>`
#   program       a typical one-file program (benchmarks/typical_program.cpp: two registries on
#                 Ttl<AnyBackend>), at -O0 and -O2
# for N = 1, 20, 100 (KVSTACK_COMPILE_SIZES); prints a Markdown table (and writes it to FILE when
# given). Each generated program is also linked and run once, so that what is timed is right.
# KVSTACK_INCLUDE compiles against another include/ directory (an older checkout, to compare).
#   bash benchmarks/compile_time.sh [FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
include=${KVSTACK_INCLUDE:-$root/include}
out=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compilers=(g++)
command -v clang++-16 >/dev/null && compilers+=(clang++-16)

structs() {  # N: the struct definitions S0..S(N-1)
  for ((i = 0; i < $1; ++i)); do
    cat <<EOF
struct S$i {
  std::int64_t id; std::int32_t count; double score; std::string name; std::string email;
  std::string city; bool active; std::uint16_t port; std::vector<std::int32_t> tags;
  std::optional<std::string> note;
};
EOF
  done
}

reflected() {  # N
  echo '#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <kvstack/backend/memory.hpp>
#include <kvstack/registry/namespaced_registry.hpp>'
  structs "$1"
  echo 'int main() {
  kvstack::MemoryBackend db;
  bool ok = true;'
  for ((i = 0; i < $1; ++i)); do
    echo "  { kvstack::NamespacedRegistry<kvstack::MemoryBackend, S$i> r(db, \"s$i\");
    r.put(\"k\", S$i{1, 2, 3.0, \"a\", \"b\", \"c\", true, 80, {1}, \"n\"}).value();
    ok = ok && r.get(\"k\").value()->name == \"a\"; }"
  done
  echo '  return ok ? 0 : 1;
}'
}

hand() {  # N
  echo '#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <kvstack/backend/memory.hpp>
template <class N> void put_num(std::string& o, N v) { char b[sizeof v]; std::memcpy(b, &v, sizeof v); o.append(b, sizeof v); }
inline void put_str(std::string& o, const std::string& s) { put_num(o, static_cast<std::uint32_t>(s.size())); o += s; }
struct In {
  std::string_view s; bool ok = true;
  template <class N> N num() { N v{}; if (s.size() < sizeof v) { ok = false; return v; } std::memcpy(&v, s.data(), sizeof v); s.remove_prefix(sizeof v); return v; }
  std::string str() { auto n = num<std::uint32_t>(); if (s.size() < n) { ok = false; return {}; } std::string r(s.substr(0, n)); s.remove_prefix(n); return r; }
};'
  structs "$1"
  for ((i = 0; i < $1; ++i)); do
    cat <<EOF
std::string encode(const S$i& v) {
  std::string o;
  put_num(o, v.id); put_num(o, v.count); put_num(o, v.score); put_str(o, v.name); put_str(o, v.email);
  put_str(o, v.city); put_num(o, v.active); put_num(o, v.port);
  put_num(o, static_cast<std::uint32_t>(v.tags.size())); for (auto t : v.tags) put_num(o, t);
  put_num(o, v.note.has_value()); if (v.note) put_str(o, *v.note);
  return o;
}
std::optional<S$i> decode_s$i(std::string_view bytes) {
  In in{bytes}; S$i v;
  v.id = in.num<std::int64_t>(); v.count = in.num<std::int32_t>(); v.score = in.num<double>();
  v.name = in.str(); v.email = in.str(); v.city = in.str(); v.active = in.num<bool>(); v.port = in.num<std::uint16_t>();
  for (auto n = in.num<std::uint32_t>(); n-- && in.ok;) v.tags.push_back(in.num<std::int32_t>());
  if (in.num<bool>()) v.note = in.str();
  if (!in.ok) return std::nullopt;
  return v;
}
EOF
  done
  echo 'int main() {
  kvstack::MemoryBackend db;
  bool ok = true;'
  for ((i = 0; i < $1; ++i)); do
    echo "  { db.put(\"s$i/k\", encode(S$i{1, 2, 3.0, \"a\", \"b\", \"c\", true, 80, {1}, \"n\"})).value();
    auto got = db.get(\"s$i/k\").value(); ok = ok && got && decode_s$i(*got)->name == \"a\"; }"
  done
  echo '  return ok ? 0 : 1;
}'
}

seconds() {  # COMPILER FILE [FLAGS...]: median of 3 compile times (default -O0)
  local times=() t0 t1 compiler=$1 file=$2
  shift 2
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    "$compiler" -std=c++20 "${@:--O0}" -I"$include" -c "$file" -o "$work/out.o"
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

printf '#include <string>\nint main() { return 0; }\n' >"$work/string.cpp"
printf '#include <kvstack/kvstack.hpp>\n#include <string>\nint main() { return 0; }\n' >"$work/umbrella.cpp"
engines=()
pkg-config --exists lmdb && engines+=(-llmdb)
pkg-config --exists rocksdb && engines+=(-lrocksdb)
g++ -std=c++20 -I"$include" "$root/benchmarks/typical_program.cpp" -o "$work/check" "${engines[@]}" &&
  "$work/check" >/dev/null || { echo "compile_time.sh: the typical program failed" >&2; exit 1; }
sizes=${KVSTACK_COMPILE_SIZES:-1 20 100}
for n in $sizes; do
  reflected "$n" >"$work/reflected_$n.cpp"
  hand "$n" >"$work/hand_$n.cpp"
  for kind in reflected hand; do
    g++ -std=c++20 -I"$include" "$work/${kind}_$n.cpp" -o "$work/check" && "$work/check" ||
      { echo "compile_time.sh: the generated $kind program with $n structs failed" >&2; exit 1; }
  done
done

{
  echo "| translation unit (-O0) | $(printf '%s s | ' "${compilers[@]}")ratio |"
  echo "|---|$(printf -- '---|' "${compilers[@]}")---|"
  declare -A base
  for c in "${compilers[@]}"; do base[$c]=$(seconds "$c" "$work/string.cpp"); done
  row="| \`#include <string>\` |"
  for c in "${compilers[@]}"; do row+=" ${base[$c]} |"; done
  echo "$row |"
  row="| \`#include <kvstack/kvstack.hpp>\`, over \`<string>\` |"
  for c in "${compilers[@]}"; do
    row+=" $(awk -v a="$(seconds "$c" "$work/umbrella.cpp")" -v b="${base[$c]}" 'BEGIN { printf "%.2f", a - b }') |"
  done
  echo "$row |"
  for opt in -O0 -O2; do
    row="| typical program (typical_program.cpp), $opt |"
    for c in "${compilers[@]}"; do row+=" $(seconds "$c" "$root/benchmarks/typical_program.cpp" "$opt") |"; done
    echo "$row |"
  done
  for n in $sizes; do
    rrow="| $n reflected structs through NamespacedRegistry |"
    hrow="| $n structs, hand-written codecs |"
    ratios=()
    for c in "${compilers[@]}"; do
      r=$(seconds "$c" "$work/reflected_$n.cpp")
      h=$(seconds "$c" "$work/hand_$n.cpp")
      rrow+=" $r |"
      hrow+=" $h |"
      ratios+=("$(awk -v a="$r" -v b="$h" 'BEGIN { printf "%.2f", a / b }')")
    done
    echo "$hrow |"
    echo "$rrow $(IFS=/; echo "${ratios[*]}")x |"
  done
} | tee "${out:-/dev/null}"
