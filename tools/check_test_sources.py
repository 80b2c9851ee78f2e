#!/usr/bin/env python3
"""Checks that meson.build and tests/CMakeLists.txt build the test suite (kvstack_tests,
kvstack_tests_no_engines and kvstack_alloc_failure_tests) from the same source files, so that the Meson build, which CI
configures but does not compile the suite with, runs every test the CMake build runs. The
runner, tests/main.cpp, is left out: CMake links it from a library of its own. Also checks that no
test name holds a semicolon: CTest splits its list of discovered tests there, and runs halves."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = re.compile(r"[\w/]+\.cpp")


def block(text, start, end):
    """The text from `start` to the first `end` after it."""
    i = text.index(start)
    return text[i:text.index(end, i)]


cmake_text = (ROOT / "tests" / "CMakeLists.txt").read_text()
meson_text = (ROOT / "meson.build").read_text()
cmake = {
    "kvstack_tests": block(cmake_text, "add_executable(kvstack_tests\n", "catch_discover_tests(kvstack_tests "),
    "kvstack_tests_no_engines": block(cmake_text, "add_executable(kvstack_tests_no_engines", ")"),
    "kvstack_alloc_failure_tests": block(cmake_text, "add_executable(kvstack_alloc_failure_tests", ")"),
}
meson = {
    "kvstack_tests": block(meson_text, "tests = executable('kvstack_tests'", "include_directories"),
    "kvstack_tests_no_engines": block(meson_text, "no_engines = executable('kvstack_tests_no_engines'", "cpp_args"),
    "kvstack_alloc_failure_tests": block(meson_text, "alloc_failure = executable('kvstack_alloc_failure_tests'", "cpp_args"),
}
problems = []
for target in cmake:
    in_cmake = {"tests/" + s for s in SOURCE.findall(cmake[target])} - {"tests/main.cpp"}
    in_meson = set(SOURCE.findall(meson[target])) - {"tests/main.cpp"}
    for s in sorted(in_cmake - in_meson):
        problems.append(f"{target}: {s} is in tests/CMakeLists.txt, not in meson.build")
    for s in sorted(in_meson - in_cmake):
        problems.append(f"{target}: {s} is in meson.build, not in tests/CMakeLists.txt")
    if not in_cmake:
        problems.append(f"{target}: no sources found")
TEST_NAME = re.compile(r'TEST_CASE\w*\(\s*"((?:[^"\\]|\\.)*)"')
for source in sorted((ROOT / "tests").rglob("*.cpp")):
    for name in TEST_NAME.findall(source.read_text()):
        if ";" in name:
            problems.append(f"{source.relative_to(ROOT)}: the test name \"{name}\" holds a semicolon (CTest splits names there)")
for p in problems:
    print("check_test_sources.py:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print("meson.build and tests/CMakeLists.txt list the same test sources")
