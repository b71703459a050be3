#!/usr/bin/env python3
"""The gated and bias tables of BENCHMARKS.md from criterion results (groups gated/* and bias/*).

Usage: python3 scripts/fused_table.py [TARGET_DIR]   (after cargo bench --bench activations -- 'gated/|bias/')
"""
import json, os, sys
from collections import defaultdict
root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target", "criterion")
res = defaultdict(dict)
for d, _, files in os.walk(root):
    if os.path.basename(d) != "new" or "benchmark.json" not in files: continue
    b = json.load(open(os.path.join(d, "benchmark.json")))
    m = json.load(open(os.path.join(d, "estimates.json")))["mean"]["point_estimate"]
    n = int(b["value_str"]); res[(b["group_id"], b["function_id"])][n] = n / m
def g(grp, f, n): return res.get((grp, f), {}).get(n)
def f2(v): return "–" if v is None else f"{v:.2f}"
def r(a, b): return None if a is None or b is None else a / b
sizes = [4096, 65536, 64 << 20]
print("| gated | fused 4Ki | ×two-pass | ×rten | fused 64Ki | ×two-pass | ×rten | fused 64Mi | ×two-pass |")
print("|---|---|---|---|---|---|---|---|---|")
for gname in ["glu", "swiglu", "geglu", "geglu(approximate=tanh)", "reglu"]:
    grp = f"gated/{gname}"
    row = [gname]
    for n in sizes:
        fu = g(grp, "fused", n); row.append(f2(fu)); row.append(f2(r(fu, g(grp, "two-pass", n))))
        if n < 1 << 20: row.append(f2(r(fu, g(grp, "rten-vecmath", n))))
    print("| " + " | ".join(row) + " |")
print()
print("| bias + | fused 4Ki | ×add-then-forward | fused 64Ki | ×add-then-forward | fused 64Mi | ×add-then-forward |")
print("|---|---|---|---|---|---|---|")
for a in ["relu", "gelu", "silu"]:
    grp = f"bias/{a}"
    row = [a]
    for n in sizes:
        fu = g(grp, "fused", n); row.append(f2(fu)); row.append(f2(r(fu, g(grp, "add-then-forward", n))))
    print("| " + " | ".join(row) + " |")
