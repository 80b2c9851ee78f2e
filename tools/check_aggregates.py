#!/usr/bin/env python3
"""Checks that each public folder's aggregate header (include/kvstack/F/F.hpp) reaches every
header of its folder through kvstack's own includes (the engines' headers may come through
engines.hpp, under their #if), and that <kvstack/kvstack.hpp> reaches every folder but backend (of which it holds MemoryBackend
and copying; the engines and AnyBackend come with their own headers), redis, net and server (Asio).
detail/ is private and has no aggregate."""
import pathlib
import re
import sys

INCLUDE = pathlib.Path(__file__).resolve().parent.parent / "include"
OWN_INCLUDE = re.compile(r"^\s*#\s*include\s*<(kvstack/[^>]+)>", re.M)


def reached(header, seen=None):
    seen = set() if seen is None else seen
    if header not in seen:
        seen.add(header)
        for child in OWN_INCLUDE.findall((INCLUDE / header).read_text()):
            reached(child, seen)
    return seen


problems = []
folders = sorted(p.name for p in (INCLUDE / "kvstack").iterdir() if p.is_dir() and p.name != "detail")
for folder in folders:
    aggregate = f"kvstack/{folder}/{folder}.hpp"
    if not (INCLUDE / aggregate).is_file():
        problems.append(f"{aggregate} is missing")
        continue
    have = reached(aggregate)
    for header in sorted((INCLUDE / "kvstack" / folder).glob("*.hpp")):
        name = header.relative_to(INCLUDE).as_posix()
        if name not in have:
            problems.append(f"{aggregate} does not include {name}")
umbrella = reached("kvstack/kvstack.hpp")
for folder in folders:
    if folder not in ("backend", "redis", "net", "server") and f"kvstack/{folder}/{folder}.hpp" not in umbrella:
        problems.append(f"kvstack/kvstack.hpp does not include kvstack/{folder}/{folder}.hpp")
for header in ("kvstack/backend/memory.hpp", "kvstack/backend/copy.hpp"):
    if header not in umbrella:
        problems.append(f"kvstack/kvstack.hpp does not include {header}")
for heavy in ("kvstack/backend/engines.hpp", "kvstack/redis/redis.hpp", "kvstack/net/net.hpp"):
    if heavy in umbrella:
        problems.append(f"kvstack/kvstack.hpp must not include {heavy} (compile time: it has a header of its own)")
for p in problems:
    print("check_aggregates.py:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"aggregate headers complete: {', '.join(folders)}")
