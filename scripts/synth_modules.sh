#!/usr/bin/env bash
# Per-module Yosys counts of an RTL-backend project: every layer module (rtl/TOP__*.v) synthesized
# alone with the options `hls-gen synth` uses (synth_xilinx -family F -flatten -noiopad -noclkbuf
# -run :check), so that the cost of each layer shows before the whole design is flattened.
# Counts: LUT = LUT1..LUT6 and LUT6_2 (as `hls-gen synth`), CARRY = CARRY4/CARRY8, MUXF = MUXF7/8,
# FF = FD*. A module alone is not optimized across its ports, so the sum differs a little from
# `hls-gen synth DIR` of the whole design.
# Usage: scripts/synth_modules.sh DIR [FAMILY]   (FAMILY: Yosys family, default xcup)
# Writes DIR/synth/modules/MODULE.log and prints one line per module, then the sum.
set -euo pipefail
dir=${1:?usage: scripts/synth_modules.sh DIR [FAMILY]}
family=${2:-xcup}
if [ ! -d "$dir/rtl" ]; then
    echo "error: $dir/rtl does not exist (compile with --backend rtl first)" >&2
    exit 1
fi
command -v yosys >/dev/null || { echo "error: yosys is not installed" >&2; exit 1; }
out="$dir/synth/modules"
mkdir -p "$out"
shopt -s nullglob
files=("$dir"/rtl/*__*.v)
if [ ${#files[@]} -eq 0 ]; then
    echo "error: no layer modules (rtl/TOP__*.v) in $dir" >&2
    exit 1
fi
printf '%-40s %8s %8s %8s %8s\n' module LUT CARRY MUXF FF
total=(0 0 0 0)
for f in "${files[@]}"; do
    m=$(basename "$f" .v)
    log="$out/$m.log"
    if ! yosys -p "read_verilog -sv $f; synth_xilinx -family $family -top $m -flatten -noiopad -noclkbuf -run :check; stat" \
        >"$log" 2>&1; then
        echo "error: yosys failed on $m (see $log)" >&2
        exit 1
    fi
    # The last `stat` of the log: "     CELLTYPE     COUNT" lines.
    read -r lut carry muxf ff < <(awk '
        /Number of cells:/ { lut = 0; carry = 0; muxf = 0; ff = 0 }
        $1 ~ /^LUT([1-6]|6_2)$/ { lut += $2 }
        $1 ~ /^CARRY[48]$/ { carry += $2 }
        $1 ~ /^MUXF[78]$/ { muxf += $2 }
        $1 ~ /^FD/ { ff += $2 }
        END { print lut + 0, carry + 0, muxf + 0, ff + 0 }' "$log")
    printf '%-40s %8d %8d %8d %8d\n' "$m" "$lut" "$carry" "$muxf" "$ff"
    total=($((total[0] + lut)) $((total[1] + carry)) $((total[2] + muxf)) $((total[3] + ff)))
done
printf '%-40s %8d %8d %8d %8d\n' "sum of modules" "${total[@]}"
