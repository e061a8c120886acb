#!/usr/bin/env bash
# Compiles every model under tests/models and ../shared/models (when present) with two hls-gen
# binaries and compares the emitted projects byte for byte (`diff -r`), for a change that must not
# alter any output.
#
#   scripts/compare_projects.sh OLD_BINARY NEW_BINARY [WORKDIR]
#
# Each model is compiled at the default precision and at ap_fixed<8,3> (Vitis HLS, io_parallel),
# the small MLPs and autoencoders also with --backend rtl, and the CNNs with --io-type io_stream.
# A model one binary rejects must be rejected by the other with the same message and exit status.
# Prints one line per difference and a summary; exits 1 when anything differs. Not run in CI.
set -uo pipefail

old=${1:?usage: compare_projects.sh OLD_BINARY NEW_BINARY [WORKDIR]}
new=${2:?usage: compare_projects.sh OLD_BINARY NEW_BINARY [WORKDIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"

models=()
for dir in "$root/tests/models" "$root/../shared/models"; do
    [ -d "$dir" ] || continue
    while IFS= read -r m; do
        models+=("$m")
    done < <(find "$dir" -type f \( -name '*.onnx' -o -name '*.h5' -o -name '*.json' -o -name '*.keras' \) \
        -not -path '*/bad*' -not -name '*_weights.h5' | sort)
done

# The options each model is compiled with, one set a line.
variants() {
    echo ""
    echo "--precision ap_fixed<8,3>"
    case "$(basename "$1")" in
        mlp_float.onnx | mlp_qonnx.onnx | mlp_qdq.onnx | ae_plain.onnx | ae_mse.onnx | keras_mlp.*)
            echo "--backend rtl"
            ;;
        cnn1d.onnx | cnn2d.onnx | conv1d_small_keras.onnx | conv2d_small_keras.onnx)
            echo "--io-type io_stream"
            ;;
    esac
}

same=0
differ=0
k=0
seen=" "
for m in "${models[@]}"; do
    # The same file reached through two roots is compiled once.
    real=$(realpath "$m")
    case "$seen" in *" $real "*) continue ;; esac
    seen="$seen$real "
    while IFS= read -r opts; do
        k=$((k + 1))
        # shellcheck disable=SC2086
        read -r -a args <<<"$opts"
        for side in old new; do
            bin=${!side}
            out="$work/$k.$side"
            rm -rf "$out"
            "$bin" compile -q --force --part xcvu9p "${args[@]}" -o "$out" "$m" >"$out.log" 2>&1
            echo "exit $?" >>"$out.log"
        done
        if ! cmp -s "$work/$k.old.log" "$work/$k.new.log"; then
            echo "DIFFERENT messages: $m $opts"
            differ=$((differ + 1))
        elif [ -d "$work/$k.old" ] && ! diff -r -q "$work/$k.old" "$work/$k.new" >/dev/null; then
            echo "DIFFERENT project: $m $opts"
            diff -r -q "$work/$k.old" "$work/$k.new" | head -5
            differ=$((differ + 1))
        else
            same=$((same + 1))
            rm -rf "$work/$k.old" "$work/$k.new"
        fi
    done < <(variants "$m")
done
echo "$same compiles identical, $differ different (work directory $work)"
[ "$differ" = 0 ]
