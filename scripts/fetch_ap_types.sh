#!/usr/bin/env bash
# Fetches Xilinx's open-source ap_types headers (Apache-2.0) at test time; they are never committed.
# They travel inside the hls4ml wheel on PyPI under hls4ml/templates/vivado/ap_types.
# Usage: scripts/fetch_ap_types.sh [DEST]   (default: target/ap_types; prints DEST on success)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/target/ap_types}
if [ -f "$dest/ap_fixed.h" ]; then echo "$dest"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" hls4ml==1.3.0 >&2
python3 - "$tmp"/hls4ml-1.3.0-*.whl "$tmp/x" <<'PY'
import sys, zipfile
prefix = "hls4ml/templates/vivado/ap_types/"
with zipfile.ZipFile(sys.argv[1]) as z:
    members = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not members:
        sys.exit("hls4ml wheel carries no ap_types headers")
    z.extractall(sys.argv[2], members)
PY
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/x/hls4ml/templates/vivado/ap_types" "$dest"
echo "$dest"
