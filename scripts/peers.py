#!/usr/bin/env python3
"""Peer benchmark (issue 16): numpy (SVML) and onnxruntime (MLAS) on one thread, beside actkern.

Usage (normally through scripts/peers.sh, which makes the venv and pins the environment):
    python3 scripts/peers.py [--sizes 4K,16K,64K] [--min-time-ms 200] [--json] [--actkern PATH [--fast]]

Measured, on one thread, forward y = f(x) over float32 buffers of each size (K = 1024, M = 1024²,
the syntax of `actkern bench --sizes`), inputs uniform in [-8, 8) with a fixed seed, outputs
preallocated:
  numpy        np.tanh(x, out=y) and np.exp(x, out=y) (a reference row; actkern has no exp):
               only functions that are one ufunc, so no composed sigmoid.
  onnxruntime  a one-node model per function and size (CPU EP, intra/inter-op threads 1,
               ORT_SEQUENTIAL, all graph optimizations), run through IO binding onto OrtValues
               that share x's and y's memory, so nothing is allocated per call. Tanh, Sigmoid,
               Gelu (opset 20, approximate none/tanh), com.microsoft QuickGelu(alpha=1) for silu,
               Elu(alpha=1), Softplus, Mish (opset 18), Relu.
Every output is checked against the formula in float64 (max relative error, denominators floored
at 1e-6; a warning above 1e-3) before it is timed, so a wrong op is not measured silently.
Timing: after a warm-up, a batch repeats the call for at least --min-time-ms; the best of 5
batches gives ns per call, reported as Gelem/s = n / ns. Python's per-call overhead (and
onnxruntime's Run) is included, which dominates at small sizes.
A note says when onnxruntime's optimized graph is not the one op (Mish → Softplus + Tanh + Mul).
--actkern PATH also runs `PATH bench --json --threads 1` (same specs, sizes and --min-time-ms)
and adds its forward Gelem/s and the ratio actkern / best peer (actkern bench reports the median
of 5 batches that share its --min-time-ms); with --fast also its fast tier (`bench --fast`), as
actkern-fast. --json prints a list of records
{peer, version, activation, n, gelem_per_s} instead of the table.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def softplus64(x):
    return np.logaddexp(0.0, x)


# actkern spec → (float64 reference, ONNX op, its domain, op version, attributes); op None: numpy
# only. The default domain is imported at opset 20 (Gelu-20, Mish-18, the latest of the others).
FUNCTIONS = {
    "tanh": (np.tanh, "Tanh", "", 13, {}),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), "Sigmoid", "", 13, {}),
    "gelu": (lambda x: 0.5 * x * _erfc(-x / math.sqrt(2.0)).astype(np.float64),
             "Gelu", "", 20, {"approximate": "none"}),
    "gelu(approximate=tanh)": (
        lambda x: 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3))),
        "Gelu", "", 20, {"approximate": "tanh"}),
    "silu": (lambda x: x / (1.0 + np.exp(-x)), "QuickGelu", "com.microsoft", 1, {"alpha": 1.0}),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(x)), "Elu", "", 6, {"alpha": 1.0}),
    "softplus": (softplus64, "Softplus", "", 1, {}),
    "mish": (lambda x: x * np.tanh(softplus64(x)), "Mish", "", 18, {}),
    "relu": (lambda x: np.maximum(x, 0.0), "Relu", "", 14, {}),
    "exp": (np.exp, None, None, None, None),
}
NUMPY_UFUNCS = {"tanh": np.tanh, "exp": np.exp}
NOTED = {}  # spec → the size at which a note on its ORT graph was printed


def parse_sizes(s):
    """`4K,64K,1M,1000` → element counts, as `actkern bench --sizes` reads them."""
    out = []
    for part in s.split(","):
        part = part.strip()
        scale = {"k": 1 << 10, "m": 1 << 20}.get(part[-1:].lower(), 1)
        digits = part[:-1] if scale > 1 else part
        if not digits.isdigit() or not 0 < int(digits) * scale <= 1 << 30:
            sys.exit(f"--sizes: `{part}` is not a size; expected e.g. 4096, 64K or 4M")
        out.append(int(digits) * scale)
    return out


def size_label(n):
    if n % (1 << 20) == 0:
        return f"{n >> 20}M"
    return f"{n >> 10}K" if n % (1 << 10) == 0 else str(n)


def best_seconds_per_call(call, min_time):
    """Best of 5 batches, each repeating `call` for at least `min_time` seconds."""
    for _ in range(3):
        call()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < min_time / 20:
        call()
        calls += 1
    once = (time.perf_counter() - start) / calls
    reps = max(1, math.ceil(min_time / once))
    best = math.inf
    for _ in range(5):
        while True:
            start = time.perf_counter()
            for _ in range(reps):
                call()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
            reps = math.ceil(reps * min_time / elapsed * 1.05)
        best = min(best, elapsed / reps)
    return best


def check(peer, spec, x, y):
    """Warns when y is not f(x): max |y − ref| / max(|ref|, 1e-6), ref in float64."""
    ref = FUNCTIONS[spec][0](x.astype(np.float64))
    rel = np.abs(y - ref) / np.maximum(np.abs(ref), 1e-6)
    i = int(np.argmax(rel))
    if not rel[i] <= 1e-3:
        print(f"WARNING: {peer} {spec} n={x.size}: max relative error {rel[i]:.3g} > 1e-3, at "
              f"x = {x[i]:.6g}: {y[i]:.6g} for {ref[i]:.6g}", file=sys.stderr)


def ort_session(spec, n):
    """A one-node model y = op(x) on float32[n], or None (with a note) where ORT lacks the op."""
    import onnx
    from onnx import TensorProto, helper

    _, op, domain, version, attrs = FUNCTIONS[spec]
    node = helper.make_node(op, ["x"], ["y"], domain=domain, **attrs)
    graph = helper.make_graph(
        [node], spec, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])])
    opsets = [helper.make_opsetid("", 20)]
    if domain:
        opsets.append(helper.make_opsetid(domain, version))
    model = helper.make_model(graph, opset_imports=opsets, ir_version=9)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    with tempfile.TemporaryDirectory() as tmp:
        so.optimized_model_filepath = os.path.join(tmp, "optimized.onnx")
        try:
            sess = ort.InferenceSession(model.SerializeToString(), so,
                                        providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - any load failure means: skip this op
            print(f"note: onnxruntime has no CPU {domain or 'ai.onnx'}::{op}: skipped "
                  f"({str(e).splitlines()[0][:120]})", file=sys.stderr)
            return None
        ran = [n.op_type for n in onnx.load(so.optimized_model_filepath).graph.node]
    if ran != [op] and n == NOTED.setdefault(spec, n):  # once per function
        print(f"note: onnxruntime runs {op} as {' + '.join(ran)}", file=sys.stderr)
    return sess


def measure_peers(sizes, min_time):
    records = []
    rng = np.random.default_rng(16)
    for n in sizes:
        x = rng.uniform(-8.0, 8.0, n).astype(np.float32)
        y = np.ones(n, np.float32)
        for spec, ufunc in NUMPY_UFUNCS.items():
            ufunc(x, out=y)
            check("numpy", spec, x, y)
            t = best_seconds_per_call(lambda: ufunc(x, out=y), min_time)
            records.append(("numpy", np.__version__, spec, n, n / t / 1e9))
        for spec, (_, op, *_rest) in FUNCTIONS.items():
            if op is None or (sess := ort_session(spec, n)) is None:
                continue
            binding = sess.io_binding()
            binding.bind_ortvalue_input("x", ort.OrtValue.ortvalue_from_numpy(x))
            binding.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_numpy(y))
            y.fill(np.nan)
            sess.run_with_iobinding(binding)
            if np.isnan(y).all():  # ORT wrote elsewhere: say so rather than check stale data
                print(f"WARNING: onnxruntime {spec}: output not written into the bound buffer",
                      file=sys.stderr)
                y[:] = binding.copy_outputs_to_cpu()[0]
            check("onnxruntime", spec, x, y)
            run = sess.run_with_iobinding
            t = best_seconds_per_call(lambda: run(binding), min_time)
            records.append(("onnxruntime", ort.__version__, spec, n, n / t / 1e9))
    return records


def measure_actkern(path, sizes_arg, min_time_ms, specs, fast=False):
    """Forward records of `PATH bench --json` at one thread (with `--fast`: the fast tier,
    peer name "actkern-fast"), as peer tuples."""
    version = subprocess.run([path, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    cmd = [path, "bench", "--json", "--sizes", sizes_arg, "--threads", "1",
           "--min-time-ms", str(max(1, round(min_time_ms)))] + (["--fast"] if fast else [])
    for spec in specs:
        cmd += ["--activation", spec]
    doc = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    peer = "actkern-fast" if fast else "actkern"
    return [(peer, f"{version} ({doc['backend']})", r["activation"], r["size"],
             r["gelem_per_s"]) for r in doc["results"] if r["function"] == "forward"]


def table(records, sizes, ours):
    """One row per function; per size the peers, then each of `ours` with its ratio to the
    faster peer."""
    g = {(p, a, n): v for p, _, a, n, v in records}
    peers = ["numpy", "onnxruntime"]
    head = []
    for n in sizes:
        head += [f"{p} {size_label(n)}" for p in peers]
        head += [h for o in ours for h in (f"{o} {size_label(n)}", "×")]
    lines = ["| activation | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    for spec in FUNCTIONS:
        if not any(a == spec for _, _, a, _, _ in records):
            continue
        cells = []
        for n in sizes:
            vals = [g.get((p, spec, n)) for p in peers]
            cells += [fmt(v) for v in vals]
            best = max((v for v in vals if v is not None), default=None)
            for o in ours:
                v = g.get((o, spec, n))
                cells += [fmt(v), f"{v / best:.2f}×" if best is not None and v is not None else "–"]
        lines.append(f"| {spec} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="4K,16K,64K")
    ap.add_argument("--min-time-ms", type=float, default=200.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--actkern", metavar="PATH", help="actkern CLI binary to run beside")
    ap.add_argument("--fast", action="store_true",
                    help="with --actkern: also its fast tier (`bench --fast`), as actkern-fast")
    args = ap.parse_args()
    sizes = parse_sizes(args.sizes)
    records = measure_peers(sizes, args.min_time_ms / 1e3)
    ours = []
    if args.actkern:
        specs = [s for s, f in FUNCTIONS.items() if f[1] is not None]
        records += measure_actkern(args.actkern, args.sizes, args.min_time_ms, specs)
        ours.append("actkern")
        if args.fast:
            records += measure_actkern(args.actkern, args.sizes, args.min_time_ms, specs, True)
            ours.append("actkern-fast")
    if args.json:
        keys = ("peer", "version", "activation", "n", "gelem_per_s")
        print(json.dumps([dict(zip(keys, r)) for r in records], indent=1))
        return
    print("Gelem/s (elements per ns), one thread, forward; best of 5 batches of "
          f"≥ {args.min_time_ms:g} ms each (actkern: its bench's median)")
    print(f"numpy {np.__version__}, onnxruntime {ort.__version__}"
          + ("".join(f", actkern {r[1]}" for r in records[-1:] if r[0].startswith("actkern"))))
    if ours:
        print("× = the column before it / the faster of numpy and onnxruntime at that size")
    print()
    print(table(records, sizes, ours))


if __name__ == "__main__":
    main()
