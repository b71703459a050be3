#!/usr/bin/env bash
# Throughput of `actkern apply` on a large raw f32 file next to `cp` of the same file, and the
# peak memory of each (GNU time's maximum resident set size).
#
# Usage: scripts/bench_apply_vs_cp.sh [SIZE_MIB] [RUNS] [SPEC...]
#   SIZE_MIB  file size (default 1024)        RUNS  repetitions, best kept (default 5)
#   SPEC      activations to apply (default: relu tanh)
# Env: WORK_DIR (default: a new directory under target/), KEEP=1 keeps the input file.
#
# Both commands read a file that is in the page cache (it was just written, and each command
# reads it once before timing starts) and write a new file that is deleted after each run, so
# the comparison is of the work each does, not of the disk. A second table includes `sync`, the
# time for the output to reach the disk as well.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-5}
shift $(( $# >= 2 ? 2 : $# ))
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(relu tanh)

cargo build --release --quiet --bin actkern
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/actkern")
gnu_time=/usr/bin/time
[ -x "$gnu_time" ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

work=${WORK_DIR:-$(mktemp -d "${CARGO_TARGET_DIR:-target}/bench-apply.XXXXXX")}
mkdir -p "$work"
input=$work/input.f32
trap '[ "${KEEP:-0}" = 1 ] || rm -f "$input"; rm -f "$work"/out.f32 "$work"/time.txt' EXIT

if [ ! -f "$input" ] || [ "$(stat -c %s "$input")" != $((size_mib << 20)) ]; then
    echo "writing $size_mib MiB of float32 data to $input" >&2
    # Values from the binary itself would need another command; urandom bits are any floats
    # (NaN, inf, subnormals included) - a worst case for the kernels, not a best case.
    head -c $((size_mib << 20)) /dev/urandom > "$input"
fi
cat "$input" > /dev/null # into the page cache

# Runs "$@" RUNS times; prints the best wall time in seconds and the largest max RSS in KiB.
measure() {
    local best="" rss=0
    for _ in $(seq "$runs"); do
        rm -f "$work/out.f32"
        sync
        "$gnu_time" -f "%e %M" -o "$work/time.txt" "$@" > /dev/null
        read -r secs kib < "$work/time.txt"
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
        if [ "$kib" -gt "$rss" ]; then rss=$kib; fi
    done
    rm -f "$work/out.f32"
    echo "$best $rss"
}

report() { # label seconds rss_kib cp_seconds
    awk -v l="$1" -v s="$2" -v k="$3" -v c="$4" -v m="$size_mib" 'BEGIN {
        if (s <= 0) s = 0.005
        printf "%-34s %8.3f s %9.2f GB/s %8.2fx cp %8.1f MiB peak\n",
            l, s, m * 1048576 / s / 1e9, c / s, k / 1024 }'
}

echo "file: $size_mib MiB, best of $runs runs, $(nproc) CPUs, backend $("$bin" bench --sizes 16 -a relu --min-time-ms 1 --json | sed -n 's/.*"backend": "\([a-z0-9]*\)".*/\1/p')"
echo "-- page cache (no sync) --"
read -r cp_s cp_k < <(measure cp "$input" "$work/out.f32")
report "cp" "$cp_s" "$cp_k" "$cp_s"
for spec in "${specs[@]}"; do
    read -r s k < <(measure "$bin" apply "$spec" "$input" "$work/out.f32")
    report "actkern apply $spec" "$s" "$k" "$cp_s"
done
echo "-- including sync to disk --"
read -r cp_s cp_k < <(measure sh -c 'cp "$1" "$2" && sync "$2"' sh "$input" "$work/out.f32")
report "cp + sync" "$cp_s" "$cp_k" "$cp_s"
for spec in "${specs[@]}"; do
    read -r s k < <(measure sh -c '"$0" apply "$1" "$2" "$3" && sync "$3"' "$bin" "$spec" "$input" "$work/out.f32")
    report "actkern apply $spec + sync" "$s" "$k" "$cp_s"
done
