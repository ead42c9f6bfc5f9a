"""Max absolute error of each output against NVIDIA's reference outputs, as one JSON line.

    python bench/parity_report.py [--shared ../shared]

Covers the FFHQ 512 and small configurations (weights loaded from the fixture safetensors) and the small
configuration loaded from the checkpoint in NVIDIA's pickle format. ``planes0`` of FFHQ is stored in float16
(values up to 7.6, where one float16 step is 0.0039), so its error is float16 storage rounding.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from invert3d.checkpoints import load_generator
from invert3d.generator import GeneratorConfig, TriPlaneGenerator


def _errors(G: TriPlaneGenerator, io: dict[str, torch.Tensor]) -> dict[str, float]:
    def err(a, b):
        return float((a.float() - b.float()).abs().max())

    with torch.no_grad():
        ws = G.mapping(io["z"], io["c"], truncation_psi=0.7, truncation_cutoff=14)
        planes = G.planes(io["ws"][:1])
        out = G.synthesis(io["ws"], io["c"], deterministic=True)
        probe = G.sample_mixed(io["probe_coordinates"], None, io["ws"][:1])
        ws_nontrunc = G.mapping(io["z"], io["c"])
    result = {"ws": err(ws, io["ws"]), "ws_nontrunc": err(ws_nontrunc, io["ws_nontrunc"]),
              "planes0": err(planes, io["planes0"])}
    result.update({k: err(out[k], io[k]) for k in ("image_raw", "image_depth", "image")})
    result.update(probe_sigma=err(probe["sigma"], io["probe_sigma"]), probe_rgb=err(probe["rgb"], io["probe_rgb"]))
    return {k: float(f"{v:.3g}") for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    root = parser.parse_args().shared / "fixtures" / "eg3d"
    report = {}
    for name in ("ffhq512", "small"):
        spec = json.loads((root / f"eg3d_{name}_spec.json").read_text())
        G = TriPlaneGenerator(GeneratorConfig.from_nvidia(spec["init_kwargs"], spec["neural_rendering_resolution"]))
        G.load_state_dict({k: v.float() for k, v in load_file(root / f"eg3d_{name}_weights.safetensors").items()})
        report[name] = _errors(G, load_file(root / f"eg3d_{name}_io.safetensors"))
    report["small_from_nvidia_pkl"] = _errors(load_generator(root / "eg3d_small_nvidia_format.pkl"),
                                              load_file(root / "eg3d_small_io.safetensors"))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
