#!/usr/bin/env python3
"""Pack the interaction network's recorded inputs (scripts/make_gnn_models.py) into the two `.npz`
forms numpy writes, for the tests of `.npz` inputs keyed by model input name (tests/gnn.rs).

Run from the repository root with the environment of scripts/requirements-onnx.txt, after
make_gnn_models.py:

    python scripts/make_npz_inputs.py

Writes, from tests/data/gnn/gnn_in_28_56/{x,e,edge_index}.npy:
    tests/data/gnn/gnn_in_28_56/inputs.npz             np.savez (stored members)
    tests/data/gnn/gnn_in_28_56/inputs_compressed.npz  np.savez_compressed (deflated members)

Each holds the members x.npy, e.npy and edge_index.npy (edge_index stays int64). numpy dates
every member 1980-01-01, so the archives are byte-identical on every run.
"""

import zipfile
from pathlib import Path

import numpy as np

DIR = Path("tests/data/gnn/gnn_in_28_56")
KEYS = ("x", "e", "edge_index")


def check(path, arrays, compression):
    """Whether `path` holds exactly `arrays`, in members written with `compression`."""
    with zipfile.ZipFile(path) as z:
        if any(i.compress_type != compression for i in z.infolist()):
            return False
    with np.load(path) as f:
        return sorted(f.files) == sorted(arrays) and all(
            f[k].dtype == v.dtype and np.array_equal(f[k], v) for k, v in arrays.items()
        )


def main():
    arrays = {k: np.load(DIR / f"{k}.npy") for k in KEYS}
    assert arrays["edge_index"].dtype == np.int64, arrays["edge_index"].dtype
    for name, save, compression in (
        ("inputs.npz", np.savez, zipfile.ZIP_STORED),
        ("inputs_compressed.npz", np.savez_compressed, zipfile.ZIP_DEFLATED),
    ):
        path = DIR / name
        save(path, **arrays)
        assert check(path, arrays, compression), path
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
