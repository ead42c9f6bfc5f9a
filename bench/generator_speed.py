"""Generator speed: forward and forward+backward (w.r.t. ws) seconds for the FFHQ 512, small and synthhead
configs, and the generator's share of one pseudo-multi-view tuning step (weights unfrozen, the photo's and one
pseudo camera rendered from one backbone pass, backward of a plain sum: the loss itself excluded).

Prints one JSON line (and writes it to --out if given). Batch 1, noise 'const', random sampling, the
generator frozen as in latent optimization. Uses CUDA when present. The allocator tuning that the ``invert3d``
command applies is applied here too (``--no-tuning`` measures without it).

    python bench/generator_speed.py [--repeats 5] [--out bench/results/generator_speed.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from report import cpu_name, emit

from invert3d.cameras import pose_label
from invert3d.generator import TriPlaneGenerator, preset
from invert3d.runtime import resolve_device, tune_runtime


def _time(fn, repeats: int, device: torch.device) -> dict[str, float]:
    fn()  # warm-up: first-touch allocations, oneDNN kernel selection
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"median": round(statistics.median(times), 4), "min": round(min(times), 4)}


def measure(name: str, repeats: int, device: torch.device) -> dict[str, dict[str, float]]:
    torch.manual_seed(0)
    G = TriPlaneGenerator(preset(name)).to(device).requires_grad_(False)
    c = pose_label(0.0, 0.0)[None].to(device)
    ws = G.mapping(torch.randn(1, G.z_dim, device=device), c, truncation_psi=0.7)

    def forward():
        with torch.no_grad():
            G.synthesis(ws, c)

    def forward_backward():
        w = ws.detach().requires_grad_(True)
        out = G.synthesis(w, c)
        out["image"].square().mean().backward()

    cams = torch.cat([c, pose_label(0.4, 0.1)[None].to(device)])

    def tuning_step():
        G.requires_grad_(True)
        w = ws.detach().requires_grad_(True)
        G.render_planes(G.planes(w), w, cams)["image"].sum().backward()
        G.requires_grad_(False)
        G.zero_grad(set_to_none=True)

    return {"forward_s": _time(forward, repeats, device), "forward_backward_s": _time(forward_backward, repeats, device),
            "tuning_step_s": _time(tuning_step, repeats, device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", default="ffhq512,small,synthhead")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-tuning", action="store_true", help="skip invert3d.runtime.tune_runtime()")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tuned = False if args.no_tuning else tune_runtime()
    device = resolve_device(args.device)
    result = {
        "bench": "generator_speed", "device": str(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "cpu": cpu_name(),
        "allocator_tuned": tuned, "repeats": args.repeats,
    }
    for name in args.configs.split(","):
        result[name] = measure(name, args.repeats, device)
    emit(result, args.out)


if __name__ == "__main__":
    main()
