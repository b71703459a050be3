#!/usr/bin/env python3
"""Turns criterion's results for benches/activations.rs into BENCHMARKS.md tables.

Usage: python3 scripts/bench_table.py [TARGET_DIR] > tables.md
Reads TARGET_DIR/criterion/{forward,backward,baseline}/*/*/new/{benchmark,estimates}.json
(TARGET_DIR defaults to ./target) and prints, per direction, one row per activation: Gelem/s of
actkern on each backend in cache, the ratios the goals ask for, and the large-buffer ratios to
the copy/stream limits. Every number is the mean of criterion's estimate for that benchmark.
"""
import json
import os
import sys
from collections import defaultdict

root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target", "criterion")
# results[(group, function)][n] = elements per second
results = defaultdict(dict)
for dirpath, _dirs, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        mean_ns = json.load(f)["mean"]["point_estimate"]
    n = int(bench["value_str"])
    results[(bench["group_id"], bench["function_id"])][n] = n / mean_ns  # Gelem/s


def g(group, function, n):
    return results.get((group, function), {}).get(n)


def fmt(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


backends = ["avx512", "avx2", "portable", "scalar"]
sizes = sorted({n for series in results.values() for n in series})
small = sizes[0] if sizes else 4096
large_sizes = [n for n in sizes if n != small]


def best_at(grp, n):
    """actkern's widest backend with a result at n."""
    return next((b for b in backends if g(grp, b, n) is not None), None)


for direction, limit in [("forward", "copy"), ("backward", "stream")]:
    names = sorted({grp.split("/", 1)[1] for grp, _ in results if grp.startswith(direction + "/")})
    print(f"### {direction}\n")
    print(f"Gelem/s (higher is better) at {small} elements on one thread (in cache), by backend; "
          f"`×` columns are ratios of the widest backend to the peer. "
          + (f"Then {', '.join(map(str, large_sizes))} elements on both cores. " if large_sizes else "")
          + f"`{limit}` is {'a copy' if limit == 'copy' else 'the stream dx = dy·x'} of the same buffers, the memory-bandwidth limit.\n")
    head = [f"{b}" for b in backends] + ["rten-vecmath", "× rten", "std loop", "× std", f"× {limit}"]
    for n in large_sizes:
        head += [f"best {n}", f"rten {n}", f"× {limit} {n}"]
    print("| activation | " + " | ".join(head) + " |")
    print("|---|" + "---|" * len(head))
    for name in names:
        grp = f"{direction}/{name}"
        best = best_at(grp, small)
        top = g(grp, best, small) if best else None
        row = [fmt(g(grp, b, small)) for b in backends]
        row += [fmt(g(grp, "rten-vecmath", small)), fmt(ratio(top, g(grp, "rten-vecmath", small))),
                fmt(g(grp, "std", small)), fmt(ratio(top, g(grp, "std", small))),
                fmt(ratio(top, g("baseline", limit, small)))]
        for n in large_sizes:
            b = best_at(grp, n)
            v = g(grp, b, n) if b else None
            row += [fmt(v), fmt(g(grp, "rten-vecmath", n)), fmt(ratio(v, g("baseline", limit, n)))]
        print(f"| {name} | " + " | ".join(row) + " |")
    print()
print("### limits\n")
print("| benchmark | " + " | ".join(str(n) for n in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for function in ("copy", "stream"):
    print(f"| {function} | " + " | ".join(fmt(g("baseline", function, n)) for n in sizes) + " |")
