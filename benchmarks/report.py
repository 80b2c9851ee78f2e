#!/usr/bin/env python3
"""Writes RESULTS.md and PNG charts (gnuplot) from the benchmark runs of benchmarks/run.sh.

    python3 benchmarks/report.py benchmarks/results

Reads DIR/{dispatch,serializer,memory,scaling}.json (Google Benchmark, median aggregates) and
DIR/compile_time.md; times are CPU time per operation, medians of the repetitions.
"""
import json
import os
import platform
import subprocess
import sys
from collections import defaultdict


def load(path):
    """{(op, group, contender): {"ns": median cpu ns, counters...}} and the run's context."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            continue
        parts = b["run_name"].split("/")
        if len(parts) != 3:
            continue
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        entry = {k: v for k, v in b.items() if isinstance(v, (int, float))}
        entry["ns"] = b["cpu_time"] * scale
        out[tuple(parts)] = entry
    return out, data.get("context", {})


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def ordered(keys, first):
    return [k for k in first if k in keys] + sorted(k for k in keys if k not in first)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def bar_chart(png, title, ylabel, labels, series, logscale=False):
    """A clustered bar chart: labels on x, one bar per series (name -> values)."""
    data = png + ".dat"
    names = list(series)
    with open(data, "w") as f:
        for i, label in enumerate(labels):
            f.write('"%s" %s\n' % (label, " ".join(str(series[n][i]) for n in names)))
    plots = ", ".join(
        f"'{data}' using {j + 2}:xtic(1) title '{n}'" for j, n in enumerate(names))
    gnuplot(f"""set terminal png size 1000,420
set output '{png}'
set title '{title}'
set ylabel '{ylabel}'
set xtics rotate by -30
set bmargin 6
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set yrange [0:*]
{"set logscale y" if logscale else ""}
plot {plots}
""")
    os.remove(data)


def line_chart(png, title, ylabel, xs, series):
    """Lines over a log x axis (sizes): series name -> values (None: missing)."""
    data = png + ".dat"
    names = list(series)
    with open(data, "w") as f:
        for i, x in enumerate(xs):
            f.write(f"{x} " + " ".join("?" if series[n][i] is None else str(series[n][i]) for n in names) + "\n")
    plots = ", ".join(f"'{data}' using 1:{j + 2} with linespoints title '{n}'" for j, n in enumerate(names))
    gnuplot(f"""set terminal png size 1000,420
set output '{png}'
set title '{title}'
set ylabel '{ylabel}'
set xlabel 'keys'
set logscale x
set logscale y
set datafile missing '?'
set key outside right
plot {plots}
""")
    os.remove(data)


def dispatch(results, out_dir):
    md = ["## Zero virtual dispatch (`dispatch_bench`)\n",
          "The same workload through the engine's own API written by hand (Raw), kvstack's engine "
          "(Kvstack), a composed stack `Metered<Ttl<B>>`, and a classic abstract `KvStore` "
          "interface with virtual calls (Virtual; VirtualFinal: the implementation marked `final`, "
          "still called through the interface). Ratio to Raw; lower is better.\n"]
    contenders = ["Raw", "Kvstack", "Metered<Ttl>", "Virtual", "VirtualFinal"]
    chart = defaultdict(list)
    labels = []
    for engine in ["Memory", "Lmdb", "RocksDb"]:
        rows = []
        for op in ["Get", "Put", "Scan100"]:
            raw = results.get((op, engine, "Raw"))
            if not raw:
                continue
            row = [op]
            labels.append(f"{op} {engine}")
            for c in contenders:
                r = results.get((op, engine, c))
                row.append(f"{fmt_ns(r['ns'])} ({r['ns'] / raw['ns']:.2f}x)" if r else "–")
                chart[c].append(round(r["ns"] / raw["ns"], 3) if r else 0)
            rows.append(row)
        md.append(f"**{engine}**\n\n" + table(["op"] + contenders, rows))
    bar_chart(os.path.join(out_dir, "dispatch.png"), "time relative to the raw engine API (1 = raw)",
              "ratio to raw", labels, chart)
    md.append("![dispatch](dispatch.png)\n")
    return "\n".join(md)


def serializer(results, out_dir):
    md = ["## Serializer (`serializer_bench`)\n",
          "From the same C++ struct to bytes and back. Node: a small NodeInfo-like record; Order: "
          "a nested record (20 items with vectors, 10 tags, optionals). Ratio to the hand-written "
          "codec; lower is better.\n"]
    contenders = ["Hand", "Kvstack", "Cereal", "Protobuf", "MsgPack", "Cbor", "Json"]
    labels, chart = [], defaultdict(list)
    for shape in ["Node", "Order"]:
        rows = []
        for c in contenders:
            enc, dec = results.get(("Encode", shape, c)), results.get(("Decode", shape, c))
            if not enc or not dec:
                continue
            he, hd = results[("Encode", shape, "Hand")], results[("Decode", shape, "Hand")]
            rows.append([c, f"{fmt_ns(enc['ns'])} ({enc['ns'] / he['ns']:.2f}x)",
                         f"{fmt_ns(dec['ns'])} ({dec['ns'] / hd['ns']:.2f}x)", int(enc.get("bytes", 0))])
        md.append(f"**{shape}**\n\n" + table(["codec", "encode", "decode", "bytes"], rows))
        for op in ["Encode", "Decode"]:
            labels.append(f"{op} {shape}")
            for c in contenders:
                r = results.get((op, shape, c))
                chart[c].append(round(r["ns"], 1) if r else 0)
        k, ce = results.get(("Encode", shape, "Kvstack")), results.get(("Encode", shape, "Cereal"))
        kd, cd = results.get(("Decode", shape, "Kvstack")), results.get(("Decode", shape, "Cereal"))
        if k and ce and kd and cd:
            md.append(f"kvstack vs cereal on {shape}: encode {ce['ns'] / k['ns']:.1f}x faster, "
                      f"decode {cd['ns'] / kd['ns']:.1f}x faster.\n")
    bar_chart(os.path.join(out_dir, "serializer.png"), "serializer: ns per record (log scale)", "ns",
              labels, chart, logscale=True)
    md.append("![serializer](serializer.png)\n")
    return "\n".join(md)


def sizes_of(results):
    return sorted({int(k[2]) for k in results if k[2].isdigit()})


def memory(results, out_dir):
    md = ["## Memory backend vs containers (`memory_bench`)\n",
          "MemoryBackend (thread-safe, copy-on-write snapshots) against containers used without any "
          "lock: `boost::unordered_flat_map` is the floor for point operations, `std::map` and "
          "`absl::btree_map` for ordered scans. 12-byte keys, 100-byte values; bytes/key is heap "
          "held per key (112 bytes of key and value).\n"]
    contenders = ["Kvstack", "FlatMap", "StdMap", "AbslBtree"]
    sizes = []
    for op, base in [("Get", "FlatMap"), ("Put", "FlatMap"), ("Scan100", "StdMap"), ("Count", "StdMap")]:
        rows = []
        for n in sizes_of({k: v for k, v in results.items() if k[0] == op}):
            b = results.get((op, base, str(n)))
            row = [f"{n:,}"]
            for c in contenders:
                r = results.get((op, c, str(n)))
                if not r:
                    row.append("–")
                    continue
                ns = r["ns"] / n if op == "Count" else r["ns"]
                ratio = f" ({r['ns'] / b['ns']:.2f}x)" if b else ""
                row.append(f"{ns:.1f} ns/key{ratio}" if op == "Count" else f"{fmt_ns(ns)}{ratio}")
            rows.append(row)
            sizes.append(n)
        md.append(f"**{op}** (ratio to {base})\n\n" + table(["keys"] + contenders, rows))
    rows = []
    for c in contenders:
        per = [results.get(("Get", c, str(n)), {}).get("bytes_per_key") for n in sizes_of(results)]
        rows.append([c] + [f"{p:.0f}" if p else "–" for p in per])
    md.append("**bytes per key**\n\n" + table(["store"] + [f"{n:,}" for n in sizes_of(results)], rows))
    xs = sizes_of({k: v for k, v in results.items() if k[0] == "Get"})
    line_chart(os.path.join(out_dir, "memory_get.png"), "point get: ns by number of keys", "ns", xs,
               {c: [results.get(("Get", c, str(n)), {}).get("ns") for n in xs] for c in contenders})
    md.append("![memory get](memory_get.png)\n")
    return "\n".join(md)


def scaling(results, out_dir):
    md = ["## Scaling (`scaling_bench`)\n",
          "Each engine at growing sizes (engines without fsync); bytes/key: heap for memory, "
          "directory size for LMDB and RocksDB.\n"]
    engines = ["Memory", "Lmdb", "RocksDb"]
    xs = sizes_of(results)
    rows = []
    for e in engines:
        for op in ["Get", "Put", "Scan100"]:
            rows.append([e, op] + [fmt_ns(results[(op, e, str(n))]["ns"]) if (op, e, str(n)) in results else "–"
                                   for n in xs])
        rows.append([e, "bytes/key"] + [f"{results[('Get', e, str(n))].get('bytes_per_key', 0):.0f}"
                                        if ("Get", e, str(n)) in results else "–" for n in xs])
    md.append(table(["engine", "op"] + [f"{n:,}" for n in xs], rows))
    line_chart(os.path.join(out_dir, "scaling.png"), "get / put / scan of 100 by number of keys", "ns", xs,
               {f"{op} {e}": [results.get((op, e, str(n)), {}).get("ns") for n in xs]
                for e in engines for op in ["Get", "Put", "Scan100"]})
    md.append("![scaling](scaling.png)\n")
    return "\n".join(md)


def main():
    out_dir = sys.argv[1]
    sections, context = [], {}
    for name, fn in [("dispatch", dispatch), ("serializer", serializer), ("memory", memory), ("scaling", scaling)]:
        path = os.path.join(out_dir, name + ".json")
        if os.path.exists(path):
            results, context = load(path)
            sections.append(fn(results, out_dir))
    compile_md = os.path.join(out_dir, "compile_time.md")
    if os.path.exists(compile_md):
        with open(compile_md) as f:
            sections.append("## Compile time (`compile_time.sh`)\n\nWall-clock seconds, median of 3, "
                            "`-O0`; ratio: reflected / hand-written (GCC/Clang).\n\n" + f.read())
    cxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    head = ["# kvstack benchmark results\n",
            f"Written by `bash benchmarks/run.sh` on {context.get('date', '?')}: {context.get('host_name', '?')}, "
            f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
            f"{platform.system()} {platform.release()}, {cxx}, Release build (-O3). Times are CPU time per "
            "operation, medians of 5 repetitions; the machine is shared, so compare within a table, "
            "not across runs.\n"]
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
        f.write("\n".join(head + sections))


if __name__ == "__main__":
    main()
