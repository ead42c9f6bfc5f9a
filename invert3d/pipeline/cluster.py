"""Many photos over a Ray cluster (``invert3d invert PHOTOS/ --ray``): one task per photo, the sequential run's
result folders.

Each task does what ``jobs.run_jobs`` does for one photo, in its own worker: it reads the photo (aligning it
when no camera label lies beside it), loads the generator and inverts into the photo's folder. A folder holding
the same finished run is skipped; an unfinished one resumes from its stage cache, which is also what a task
retried after its worker died does. A photo that fails (no face, unreadable, another run in its folder) fails
alone; the others finish. A task takes ``cpus_per_task`` cores and runs torch on that many threads, or one GPU
when the device is CUDA; with the same thread count as a sequential run its result is the same to the byte.

Per photo: the generator's load (the embedded model: 0.1 s; an FFHQ pickle: a few seconds) and the inversion;
shared: nothing but the files, so N machines give N x (cores / ``cpus_per_task``) photos at a time.
"""

from __future__ import annotations

from pathlib import Path

from invert3d import console
from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError

RETRIES = 2  # times a task is run again after its worker died


def _invert_one(photo: Path, out: Path, settings: dict, checkpoint: Path | None, camera: Path | None,
                no_align: bool, device: str, threads: int) -> dict:
    """One photo's task: its summary, or {"error": one line} for a photo that cannot be inverted."""
    import torch

    from invert3d.checkpoints import checkpoint_identity, load_generator
    from invert3d.pipeline.invert import prepare_folder, run_config
    from invert3d.pipeline.jobs import read_input, run_job
    from invert3d.pipeline.layout import ResultFolder
    from invert3d.runtime import tune_runtime

    tune_runtime()
    torch.set_num_threads(threads)
    try:
        G = load_generator(checkpoint, device)
        job = read_input(photo, out, G, camera, no_align, warn=lambda _: None, notice=lambda _: None)
        cfg = InversionConfig.from_dict(settings)
        identity = checkpoint_identity(checkpoint)
        config = run_config(cfg, job.source, job.camera, identity, G)
        folder = ResultFolder(out)
        if folder.config.exists() and prepare_folder(folder, config):
            return {**folder.read_summary(), "skipped": True}
        return run_job(job, G, cfg, identity, quiet=True, config=config)
    except Invert3dError as exc:
        return {"error": str(exc)}


def run_on_ray(photos: list[Path], outs: list[Path], cfg: InversionConfig, checkpoint: Path | None,
               camera: Path | None = None, no_align: bool = False, device: str = "cpu", address: str | None = None,
               cpus_per_task: int = 1, echo=print) -> list[dict]:
    """Invert ``photos`` into ``outs`` on a Ray cluster (``address``; None: a local one on this machine's cores);
    returns each photo's summary or {"error": ...}, in order."""
    try:
        import ray
    except ImportError:
        raise Invert3dError("--ray needs Ray, an optional extra: pip install 'invert3d[ray]'") from None
    gpu = str(device).startswith("cuda")
    ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(_invert_one).options(num_cpus=cpus_per_task, num_gpus=1 if gpu else 0,
                                               max_retries=RETRIES)
        settings = cfg.to_dict()
        task_device = "cuda" if gpu else str(device)  # a task sees only the GPU Ray gives it, as cuda:0
        pending = {task.remote(p, o, settings, checkpoint, camera, no_align, task_device, cpus_per_task): k
                   for k, (p, o) in enumerate(zip(photos, outs))}
        results: list[dict | None] = [None] * len(photos)
        with console.progress(total=len(photos), desc="photos", unit="photo") as bar:
            while pending:
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                k = pending.pop(ready)
                try:
                    results[k] = ray.get(ready)
                except ray.exceptions.RayError as exc:  # its worker died more than RETRIES times, or a bug
                    last = (str(exc).strip().splitlines() or [""])[-1]
                    results[k] = {"error": f"the task failed: {type(exc).__name__}: {last}"}
                _report(echo, photos[k], outs[k], results[k])
                bar.update()
        return results
    finally:
        ray.shutdown()


def _report(echo, photo: Path, out: Path, summary: dict) -> None:
    if "error" in summary:
        echo(f"{photo.name}: FAILED: {summary['error']}")
    elif summary.get("skipped"):
        echo(f"{photo.name}: already done ({out}/), skipping")
    else:
        m = summary["input_view"]
        echo(f"{photo.name}: {out}/  input view PSNR {m['psnr']:.2f} dB, LPIPS {m['lpips_alex']:.3f}; "
             f"{summary['seconds_total']:.0f} s")
