"""Writes hls4ml projects' configuration files with hls4ml itself, for tests/config_hls4ml.rs.

For each case, the test model is cleaned the way hls4ml's QONNX documentation asks (qonnx's
cleanup, channels-last conversion, Gemm to MatMul), the cleaned model is saved next to the
configuration, hls4ml converts it and writes its project, and the project's `hls4ml_config.yml`
is copied unchanged. hls4ml stamps every project with a random `Stamp` and its `OutputDir`, so a
rerun differs in those two keys only.

    python3.11 -m venv /work/venvs/hls4ml
    /work/venvs/hls4ml/bin/pip install -r scripts/requirements-hls4ml.txt
    /work/venvs/hls4ml/bin/python scripts/make_hls4ml_configs.py
"""

import shutil
import sys
import tempfile
from pathlib import Path

import hls4ml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.util.cleanup import cleanup_model

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/data/hls4ml/written"


def clean(path):
    m = cleanup_model(ModelWrapper(str(path)))
    m = m.transform(ConvertToChannelsLastAndClean())
    m = m.transform(GemmToMatMul())
    return cleanup_model(m)


def case(name, model, backend, io_type, granularity, edit=None):
    m = clean(ROOT / "tests/models/onnx" / model)
    m.save(str(OUT / f"{name}.onnx"))
    cfg = hls4ml.utils.config_from_onnx_model(
        m, granularity=granularity, backend=backend, default_precision="fixed<16,6>"
    )
    if edit:
        edit(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        prj = Path(tmp) / f"{name}_prj"
        hm = hls4ml.converters.convert_from_onnx_model(
            m,
            output_dir=str(prj),
            project_name=name,
            io_type=io_type,
            backend=backend,
            part="xcvu9p-flga2104-2L-e",
            clock_period=4,
            hls_config=cfg,
        )
        hm.write()
        shutil.copy(prj / "hls4ml_config.yml", OUT / f"{name}.yml")
    for f in (f"{name}.onnx", f"{name}.yml"):
        print(f"wrote {OUT / f} ({(OUT / f).stat().st_size} bytes)")


def resource_rf4(cfg):
    cfg["Model"]["Strategy"] = "Resource"
    cfg["LayerType"]["MatMul"]["ReuseFactor"] = 4
    cfg["LayerType"]["Softmax"]["TableSize"] = 2048


def cnn_types(cfg):
    conv = cfg["LayerName"]["Conv_0"]["Precision"]
    conv["weight"] = "fixed<8,3>"
    conv["result"] = "fixed<12,4,RND,SAT>"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"hls4ml {hls4ml.__version__}", file=sys.stderr)
    case("mlp_vitis", "mlp_float.onnx", "Vitis", "io_parallel", "name")
    case("mlp_vivado_stream", "mlp_float.onnx", "Vivado", "io_stream", "type", resource_rf4)
    case("cnn_vitis_stream", "cnn_channels_last.onnx", "Vitis", "io_stream", "name", cnn_types)


if __name__ == "__main__":
    main()
