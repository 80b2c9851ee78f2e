#!/usr/bin/env bash
# One compile-fail test and its compiling twin (fmt's pattern): FILE must fail to compile with
# KVSTACK_COMPILE_FAIL defined, with exactly one error, the compiler's output matching each of
# the file's `// expect: REGEX` lines (extended regexes), and must compile without it.
#   run.sh COMPILER FILE [FLAGS...]
set -euo pipefail
compiler=$1 file=$2
shift 2
mapfile -t expect < <(sed -n 's|^// expect: ||p' "$file")
[[ ${#expect[@]} -gt 0 ]] || { echo "$file: no '// expect:' line"; exit 1; }
if out=$("$compiler" -std=c++20 -fsyntax-only "$@" -DKVSTACK_COMPILE_FAIL "$file" 2>&1); then
  echo "FAIL: $file compiled with KVSTACK_COMPILE_FAIL"
  exit 1
fi
errors=$(grep -c 'error:' <<< "$out" || true)
for regex in "${expect[@]}"; do
  if [[ $errors != 1 ]] || ! grep -Eq "$regex" <<< "$out"; then
    echo "$out" | head -40
    echo "FAIL: $file: want exactly one error, with output matching: $regex (got $errors errors)"
    exit 1
  fi
done
"$compiler" -std=c++20 -fsyntax-only "$@" "$file" || { echo "FAIL: the compiling twin of $file does not compile"; exit 1; }
echo "PASS: $file: one error, as expected; its twin compiles"
