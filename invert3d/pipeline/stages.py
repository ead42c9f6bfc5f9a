"""The inversion as cached stages in a result folder: an interrupted run resumes where it stopped.

Stage results live in ``DIR/stages/`` (safetensors and meshes); the two long optimizations also checkpoint
mid-stage. ``run_stages`` returns everything the outputs are made from.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from invert3d import console
from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import TriPlaneGenerator
from invert3d.geometry import Mesh, grid_points
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.progress import StageCheckpoint, StageLog
from invert3d.inversion.projection import project
from invert3d.inversion.tuning import DensityTarget, Snapshot, tune
from invert3d.pipeline.layout import ResultFolder
from invert3d.pseudo_views import (PseudoViews, VisiblePart, combine, difference_mask, pseudo_cameras,
                                   warp_photo)
from invert3d.runtime import peak_memory_mb
from invert3d.scene import Scene, density_mesh, density_volume

DENSITY_GRID = 64  # grid points per axis of the --density-reg target
STAGE_FILES = {"coarse": ("coarse.safetensors",), "geometry": ("coarse_mesh.npz", "geometry.json")}  # seedable


@dataclass
class StageResults:
    coarse: Scene  # stage 1: z_e [1, num_ws, w_dim] in a frozen copy of G as it was before tuning
    ws: torch.Tensor  # [1, num_ws, w_dim] the final latent; G is tuned in place
    coarse_mesh: Mesh | None  # stage 2 (hfgi3d only)
    pseudo: PseudoViews | None
    difference: torch.Tensor | None  # [1, 1, H, W] binarized difference map D
    seconds: dict[str, float]
    peak_memory_mb: dict[str, float | None]
    lpips_precision: str  # 'float32' or 'bfloat16': what LossConfig.lpips_precision resolved to here


class _Stages:
    """The stage cache of one result folder; ``stages/progress.json`` lists finished stages with their seconds
    and peak memory."""

    def __init__(self, folder: ResultFolder, device: torch.device, quiet: bool):
        self.dir = folder.stages
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = folder.log
        self.device, self.quiet = device, quiet
        progress = self.dir / "progress.json"
        data = json.loads(progress.read_text()) if progress.exists() else {"seconds": {}, "peak_memory_mb": {}}
        self.seconds: dict[str, float] = data["seconds"]
        self.memory: dict[str, float | None] = data["peak_memory_mb"]

    def done(self, name: str) -> bool:
        return name in self.seconds

    def start(self) -> float:
        peak_memory_mb(self.device, reset=True)
        return time.monotonic()

    def finish(self, name: str, started: float) -> None:
        self.seconds[name] = round(time.monotonic() - started, 2)
        self.memory[name] = peak_memory_mb(self.device, reset=True)
        console.debug(f"stage {name}: {self.seconds[name]} s, peak memory {self.memory[name]} MB")
        with atomic_file(self.dir / "progress.json") as tmp:
            tmp.write_text(json.dumps({"seconds": self.seconds, "peak_memory_mb": self.memory}, indent=2))

    def tensors(self, name: str) -> dict[str, torch.Tensor]:
        return load_file(str(self.dir / f"{name}.safetensors"))

    def save_tensors(self, name: str, tensors: dict[str, torch.Tensor]) -> None:
        with atomic_file(self.dir / f"{name}.safetensors") as tmp:
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))

    def log(self, stage: str, total: int, every: int) -> StageLog:
        return StageLog(self.log_path, stage, total, every=every, quiet=self.quiet)

    def checkpoint(self, stage: str) -> StageCheckpoint:
        return StageCheckpoint(self.dir / f"{stage}.ckpt")


def _save_mesh(path: Path, mesh: Mesh) -> None:
    with atomic_file(path) as tmp:
        np.savez(tmp, vertices=mesh.vertices, faces=mesh.faces)


def _load_mesh(path: Path) -> Mesh:
    with np.load(path) as data:
        return Mesh(data["vertices"], data["faces"])


def stage1_inputs(cfg: InversionConfig) -> tuple:
    """What stage 1's latent depends on besides the generator, the photo and its camera: runs whose configs give
    equal tuples share it, whatever their method or later stages."""
    return cfg.coarse, cfg.loss, cfg.seed


def seed_stages(source: ResultFolder, out: ResultFolder, stages: tuple[str, ...]) -> None:
    """Copy ``source``'s finished ``stages`` (keys of ``STAGE_FILES``) into ``out``'s stage cache, marked done
    there with the source's seconds and peak memory, so that ``run_stages`` on ``out`` starts after them and its
    summary still counts what they cost. A cache that has begun (an interrupted run of ``out``) is left as it is."""
    if (out.stages / "progress.json").is_file():
        return
    progress = json.loads((source.stages / "progress.json").read_text())
    out.stages.mkdir(parents=True, exist_ok=True)
    kept: dict[str, dict] = {"seconds": {}, "peak_memory_mb": {}}
    for stage in stages:
        if stage not in progress["seconds"]:
            continue
        for name in STAGE_FILES[stage]:
            shutil.copyfile(source.stages / name, out.stages / name)
        kept["seconds"][stage] = progress["seconds"][stage]
        kept["peak_memory_mb"][stage] = progress["peak_memory_mb"].get(stage)
    with atomic_file(out.stages / "progress.json") as tmp:
        tmp.write_text(json.dumps(kept, indent=2))


def _rebuilt_views(scene: Scene, photo: torch.Tensor, camera: torch.Tensor, cameras: torch.Tensor,
                   occluded: torch.Tensor, cfg: InversionConfig) -> PseudoViews | None:
    """Pseudo views at ``cameras`` [n, 25] rebuilt on ``scene``'s geometry (stages 2, 3 and 5 again, with the
    same occluded images [n, 3, H, W]); None when its density gives no mesh (the views in use are kept)."""
    try:
        mesh, _ = density_mesh(scene, camera, cfg.geometry.resolution, cfg.geometry.level)
    except ValueError:
        return None
    visible = warp_photo(mesh, photo, camera, cameras, cfg.pseudo.visibility_tolerance)
    return combine(cameras, visible, occluded, cfg.pseudo, cfg.no_occluded, cfg.no_visible)


def run_stages(G: TriPlaneGenerator, photo: torch.Tensor, camera: torch.Tensor, cfg: InversionConfig,
               folder: ResultFolder, quiet: bool = False, snapshot: Snapshot | None = None) -> StageResults:
    """Run (or resume) every stage of ``cfg.method`` for photo [1, 3, H, W] at camera [25]; tunes G in place.

    ``snapshot`` observes the final optimization (see ``tune``)."""
    device = photo.device
    st = _Stages(folder, device, quiet)
    loss_fn = ReconstructionLoss(cfg.loss, device)
    G_frozen = copy.deepcopy(G).requires_grad_(False)

    # 1. Coarse inversion z_e: an early-stopped projection (PTI's pivot is the same W projection).
    if not st.done("coarse"):
        t = st.start()
        torch.manual_seed(cfg.seed)
        ck = st.checkpoint("coarse")
        ws = project(G_frozen, photo, camera, cfg.coarse, loss_fn, seed=cfg.seed,
                     log=st.log("coarse", cfg.coarse.steps, cfg.log_every), checkpoint=ck)
        st.save_tensors("coarse", {"ws": ws})
        ck.clear()
        st.finish("coarse", t)
    ws_coarse = st.tensors("coarse")["ws"].to(device)
    coarse = Scene.with_lens_of(G_frozen, ws_coarse, camera)

    mesh = pseudo = difference = density = occluded_stage = None
    if cfg.method == "hfgi3d":
        # 2. Geometry: marching cubes on z_e's density.
        mesh_path = st.dir / "coarse_mesh.npz"
        if not st.done("geometry"):
            t = st.start()
            try:
                mesh, level = density_mesh(coarse, camera, cfg.geometry.resolution, cfg.geometry.level)
            except ValueError as exc:
                raise Invert3dError(f"stage 2 (geometry): {exc}; the coarse inversion found no shape to build "
                                    "pseudo views on (try --method pti)") from None
            _save_mesh(mesh_path, mesh)
            (st.dir / "geometry.json").write_text(json.dumps({"level": level, "vertices": len(mesh.vertices),
                                                              "faces": len(mesh.faces)}))
            st.finish("geometry", t)
        mesh = _load_mesh(mesh_path)

    if cfg.uses_pseudo_views:
        cameras = pseudo_cameras(coarse.rig, cfg.pseudo)
        # 3. Visible part: the photo warped through the mesh to every pseudo camera.
        if not st.done("visible"):
            t = st.start()
            vis = warp_photo(mesh, photo, camera, cameras, cfg.pseudo.visibility_tolerance)
            st.save_tensors("visible", vis.tensors())
            st.finish("visible", t)
        # 4. Occluded part: z_o fitted to the in-distribution pixels of the photo, rendered at every camera.
        if not st.done("occluded"):
            t = st.start()
            mask = difference_mask(photo, coarse.render(camera)["image"], cfg.pseudo.theta)
            torch.manual_seed(cfg.seed + 1)
            ck = st.checkpoint("occluded")
            ws_o = project(G_frozen, photo, camera, cfg.pseudo.occluded, loss_fn, mask=mask, start=ws_coarse,
                           seed=cfg.seed + 1, log=st.log("occluded", cfg.pseudo.occluded.steps, cfg.log_every),
                           checkpoint=ck)
            occluded = torch.cat([out["image"].cpu() for out in Scene(G_frozen, ws_o).renders(cameras)])
            st.save_tensors("occluded", {"ws": ws_o, "difference": mask, "images": occluded})
            ck.clear()
            st.finish("occluded", t)
        occluded_stage = st.tensors("occluded")  # z_o's ws, the difference mask, O_i
        # 5. Pseudo views: blend.
        views_path = st.dir / "pseudo_views.safetensors"
        if not st.done("pseudo_views"):
            t = st.start()
            pseudo = combine(cameras, VisiblePart(**st.tensors("visible")),
                             occluded_stage["images"], cfg.pseudo, cfg.no_occluded, cfg.no_visible)
            pseudo.save(views_path)
            st.finish("pseudo_views", t)
        pseudo = PseudoViews.load(views_path)
        difference = occluded_stage["difference"]

    if cfg.density_reg:
        if not st.done("density_target"):
            t = st.start()
            volume, half = density_volume(coarse, DENSITY_GRID)
            st.save_tensors("density_target", {"points": grid_points(DENSITY_GRID, half),
                                               "sigma": torch.from_numpy(volume.reshape(-1))})
            st.finish("density_target", t)
        data = st.tensors("density_target")
        density = DensityTarget(data["points"], data["sigma"])

    # 6. Final optimization: generator unfrozen, W+ from z_e (or from z_o: ``TuningConfig.start``).
    tuned_path = st.dir / "tuned.safetensors"
    if not st.done("tuning"):
        t = st.start()
        torch.manual_seed(cfg.seed + 2)
        ck = st.checkpoint("tuning")
        rebuild = None
        if pseudo is not None and cfg.tuning.pseudo_rebuilds:
            rebuild = lambda scene: _rebuilt_views(scene, photo, camera, pseudo.cameras,
                                                   occluded_stage["images"], cfg)
        use_occluded = cfg.tuning.start == "occluded" and occluded_stage is not None
        start = occluded_stage["ws"].to(device) if use_occluded else ws_coarse
        ws = tune(G, start, photo, camera, cfg.tuning, loss_fn, pseudo=pseudo, density=density,
                  seed=cfg.seed + 2, log=st.log("tuning", cfg.tuning.steps, cfg.log_every), checkpoint=ck,
                  snapshot=snapshot, rebuild=rebuild)
        st.save_tensors("tuned", {"ws": ws, **{f"G.{k}": v for k, v in G.state_dict().items()}})
        ck.clear()
        st.finish("tuning", t)
    tuned = load_file(str(tuned_path))
    if "G.plane_offset" in tuned:
        G.add_plane_offset()  # the triplane residual the tuning added
    G.load_state_dict({k[2:]: v for k, v in tuned.items() if k.startswith("G.")})
    return StageResults(coarse, tuned["ws"].to(device), mesh, pseudo, difference, dict(st.seconds),
                        dict(st.memory), loss_fn.precision)
