#!/usr/bin/env bash
# Peer benchmark (issue 16): numpy (SVML) and onnxruntime (MLAS) on one thread, beside actkern.
#
# Usage, from the repository root:
#   bash scripts/peers.sh [--sizes 4K,16K,64K] [--min-time-ms 200] [--json] [--actkern PATH [--fast]]
# e.g.
#   cargo build --release -p actkern-cli
#   bash scripts/peers.sh --actkern target/release/actkern --fast > peers.md
#
# Makes (if missing) a scratch venv at target/peers-venv, pip-installs numpy, onnxruntime and
# onnx into it (never the crate's dependencies; needs PyPI the first time), prints the CPU model
# and the versions, then runs scripts/peers.py with that venv's python on one thread
# (OMP_NUM_THREADS=1), OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command alone.
# The arguments go to scripts/peers.py; see its docstring for what is measured and how.
# With --json the header goes to stderr, so stdout stays one JSON document.
set -euo pipefail

venv=target/peers-venv
py=$venv/bin/python
if [[ ! -x $py ]]; then
    python3 -m venv "$venv"
fi
if ! "$py" -c 'import numpy, onnxruntime, onnx' 2>/dev/null; then
    "$py" -m pip install --quiet --disable-pip-version-check numpy onnxruntime onnx
fi

header() {
    local flags
    flags=$(grep -m1 '^flags' /proc/cpuinfo | grep -ow 'avx2\|avx512f\|avx512bw' | tr '\n' ' ')
    echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
        "($(nproc) CPUs; ${flags% })"
    "$py" -c 'import platform, numpy, onnxruntime, onnx
print(f"Python {platform.python_version()}, numpy {numpy.__version__}, "
      f"onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__}")'
}
if [[ " $* " == *" --json "* ]]; then
    header >&2
else
    header
    echo
fi

exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \
    "$py" -u scripts/peers.py "$@"
