#!/usr/bin/env bash
# Times hls-gen and hls4ml on the same models in one run and prints the ratios.
#
#   scripts/bench_vs_hls4ml.sh [PYTHON]
#
# PYTHON is an interpreter with hls4ml 1.3, onnx, qonnx and numpy (default: $HLS4ML_PYTHON, else
# python3); `pip install hls4ml==1.3.0 onnx onnxruntime qonnx` makes one. Without hls4ml the script
# says so and times hls-gen alone. RUNS (default 5) sets the timed runs of each command; each figure
# is the median wall time of those runs after one warm-up, and the peak resident memory of the last.
# HLS_GEN names an hls-gen binary to time (default: target/release/hls-gen, built first).
#
# Measured, whole process: `hls-gen compile` against hls4ml's ONNX convert + write of the same
# model (qonnx clean-up, config_from_onnx_model at ap_fixed<16,6>, convert_from_onnx_model, write),
# both for io_parallel on xcvu9p, on the 16-64-32-32-5 jet MLP (tests/models/onnx/mlp_float.onnx)
# and the 64-256-256-128-10 MLP (mlp_big.onnx); `hls-gen compile` of a 1.6M-parameter MLP
# (784-1024-768-10, seeded, made here); `hls-gen sim` of 200,000 samples of both MLPs (read .npy,
# simulate, write .npy). Not run in CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=${1:-${HLS4ML_PYTHON:-python3}}
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${HLS_GEN:-}" ]; then
    hlsgen=$HLS_GEN
else
    hlsgen=$root/target/release/hls-gen
    (cd "$root" && cargo build --release --quiet)
fi

have_numpy=0
"$py" -c 'import numpy, onnx' 2>/dev/null && have_numpy=1
have_hls4ml=0
"$py" -c 'import hls4ml, qonnx' 2>/dev/null && have_hls4ml=1
if [ "$have_hls4ml" = 0 ]; then
    echo "hls4ml is not installed for $py (pip install hls4ml==1.3.0 onnx onnxruntime qonnx, or give"
    echo "an interpreter that has it as the first argument): timing hls-gen alone."
fi

# Median wall seconds of `runs` runs after a warm-up; peak RSS (MiB) of the last run.
time_cmd() {
    local times=() t0 t1 rss=0
    "$@" >/dev/null 2>&1
    for _ in $(seq "$runs"); do
        t0=$(date +%s%N)
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1
        else
            "$@" >/dev/null 2>&1
        fi
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000)))
    done
    [ -f "$work/rss" ] && rss=$(($(cat "$work/rss") / 1024))
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$median $rss"
}

seconds() { awk -v us="$1" 'BEGIN {printf "%.3f", us / 1e6}'; }

jet=$root/tests/models/onnx/mlp_float.onnx
wide=$root/tests/models/onnx/mlp_big.onnx

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $runs runs each"

compile_hlsgen=("$hlsgen" compile -q --force --part xcvu9p -o "$work/hg")

if [ "$have_hls4ml" = 1 ]; then
    cat >"$work/h4.py" <<'EOF'
import sys
import hls4ml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.util.cleanup import cleanup_model

model = cleanup_model(ModelWrapper(sys.argv[1]))
model = cleanup_model(model.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
config = hls4ml.utils.config_from_onnx_model(
    model, granularity="name", backend="Vitis", default_precision="fixed<16,6>"
)
hls_model = hls4ml.converters.convert_from_onnx_model(
    model, output_dir=sys.argv[2], io_type="io_parallel", backend="Vitis",
    part="xcvu9p-flga2104-2L-e", hls_config=config,
)
hls_model.write()
EOF
    printf '%-34s %10s %10s %10s %9s %9s\n' "compile (whole process)" "hls-gen s" "hls4ml s" "ratio" "hg MiB" "h4 MiB"
    for m in jet wide; do
        model=${!m}
        read -r hg hg_rss < <(time_cmd "${compile_hlsgen[@]}" "$model")
        read -r h4 h4_rss < <(time_cmd "$py" "$work/h4.py" "$model" "$work/h4")
        printf '%-34s %10s %10s %9.1fx %9s %9s\n' "$(basename "$model")" "$(seconds "$hg")" "$(seconds "$h4")" \
            "$(awk -v a="$h4" -v b="$hg" 'BEGIN {print a / b}')" "$hg_rss" "$h4_rss"
    done
else
    printf '%-34s %10s %9s\n' "compile (whole process)" "hls-gen s" "MiB"
    for m in jet wide; do
        read -r hg hg_rss < <(time_cmd "${compile_hlsgen[@]}" "${!m}")
        printf '%-34s %10s %9s\n' "$(basename "${!m}")" "$(seconds "$hg")" "$hg_rss"
    done
fi

if [ "$have_numpy" = 0 ]; then
    echo "numpy and onnx are not installed for $py: skipping the 1.6M-parameter MLP and sim timings."
    exit 0
fi

"$py" - "$work" <<'EOF'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

work = sys.argv[1]
rng = np.random.default_rng(7)
np.save(f"{work}/jet_x.npy", rng.uniform(-1.5, 1.5, (200_000, 16)).astype(np.float32))
np.save(f"{work}/wide_x.npy", rng.uniform(-1.5, 1.5, (200_000, 64)).astype(np.float32))
sizes = [784, 1024, 768, 10]
nodes, inits, prev = [], [], "x"
for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
    inits.append(numpy_helper.from_array((rng.uniform(-1, 1, (b, a)) / np.sqrt(a)).astype(np.float32), f"w{i}"))
    inits.append(numpy_helper.from_array(rng.uniform(-0.1, 0.1, (b,)).astype(np.float32), f"b{i}"))
    nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"h{i}"], transB=1, name=f"dense{i}"))
    last = i == len(sizes) - 2
    attrs = {"axis": 1} if last else {}
    nodes.append(helper.make_node("Softmax" if last else "Relu", [f"h{i}"], [f"a{i}"], name=f"act{i}", **attrs))
    prev = f"a{i}"
graph = helper.make_graph(
    nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, sizes[0]])],
    [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, sizes[-1]])], inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, f"{work}/mlp_1m6.onnx")
EOF

read -r hg hg_rss < <(time_cmd "${compile_hlsgen[@]}" "$work/mlp_1m6.onnx")
printf '%-34s %10s %10s %10s %9s\n' "mlp_1m6.onnx (1,598,730 params)" "$(seconds "$hg")" "" "" "$hg_rss"

printf '\n%-34s %10s %12s %9s\n' "sim, 200,000 samples (whole process)" "hls-gen s" "samples/s" "MiB"
for m in jet wide; do
    read -r hg hg_rss < <(time_cmd "$hlsgen" sim -q "${!m}" --input "$work/${m}_x.npy" --output "$work/y.npy")
    printf '%-34s %10s %12s %9s\n' "$(basename "${!m}")" "$(seconds "$hg")" \
        "$(awk -v us="$hg" 'BEGIN {printf "%.2f M", 200000 / us}')" "$hg_rss"
done
