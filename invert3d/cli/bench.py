"""``invert3d bench``: methods scored against ground truth on a suite of decorated synthetic subjects."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d.benchmark.methods import METHOD_HELP, method_config
from invert3d.benchmark.suites import SUITES
from invert3d.cli.common import (claim_out, config_option, device_option, force_option, open_generator, set_option,
                                 settings_list)
from invert3d.errors import Invert3dError

Suite = Literal[tuple(SUITES)]


def bench(
    out: Path = typer.Option(..., "--out", help="Benchmark folder (resumes: finished runs are reused)."),
    suite: Suite = typer.Option("smoke", help="The subjects and budgets (invert3d/benchmark/suites.py)."),
    methods: str = typer.Option("pti,hfgi3d", help=f"Comma-separated: {METHOD_HELP}."),
    checkpoint: Optional[Path] = typer.Option(None, help="Generator (default: the embedded model)."),
    device: str = device_option(),
    curve_every: Optional[int] = typer.Option(
        None, min=1, help="Also score the final optimization every N steps (texture-geometry trade-off curves)."),
    config_file: Optional[Path] = config_option(),
    set_: list[str] = set_option(),
    ray: bool = typer.Option(False, "--ray", help="Run the inversions on a Ray cluster, one task per subject and "
                             "method (a local one unless --ray-address); then score them here."),
    ray_address: Optional[str] = typer.Option(None, help="With --ray: the address of an existing cluster."),
    cpus_per_task: int = typer.Option(1, min=1, help="With --ray: cores (and torch threads) per inversion."),
    force: bool = force_option(),
) -> None:
    """Write results.json (one record per subject x method x view, and means), table.md and sheets/*.png
    (truth on top, then each method, at the same novel views). --suite edit scores attribute and texture edits
    of the methods' results against the true edits instead (invert3d/benchmark/edits.py): results.json,
    table.md, strips/<attribute>.png and edits/."""
    names = list(dict.fromkeys(m.strip() for m in methods.split(",") if m.strip()))  # de-duplicated, in order
    if not names:
        raise Invert3dError(f"no method given; choose from {METHOD_HELP}")
    settings = settings_list(config_file, set_)
    if any(s.split("=", 1)[0] == "method" for s in settings):
        raise Invert3dError("the benchmark takes its methods from --methods; drop 'method' from --config/--set")
    for name in names:
        try:
            method_config(suite, name, settings)
        except ValueError as exc:
            raise Invert3dError(str(exc)) from None
    if suite == "edit" and curve_every:
        raise Invert3dError("--curve-every does not apply to the edit suite")
    if ray and (curve_every or suite == "edit"):
        raise Invert3dError("--ray runs plain inversions: not with --curve-every or --suite edit")
    if ray_address is not None and not ray:
        raise Invert3dError("--ray-address needs --ray")
    from invert3d.benchmark.run import run_suite
    from invert3d.checkpoints import checkpoint_identity

    G = open_generator(checkpoint, None, device)  # fail early on a bad checkpoint
    if suite == "edit":
        from invert3d.editing.samples import is_synthetic_world_model

        if not is_synthetic_world_model(G):
            raise Invert3dError("the edit suite needs a generator of the synthetic world (the embedded model or one "
                                "trained by invert3d train): only there is the true edit known")
    claim_out(out, force, own=lambda folder: (folder / "runs").is_dir() or (folder / "subjects").is_dir(),
              inputs=[checkpoint] if checkpoint else [])
    if suite == "edit":
        from invert3d.benchmark.edits import run_edit_suite

        report = run_edit_suite(lambda: open_generator(checkpoint, None, device), names, out,
                                checkpoint_identity(checkpoint), echo=typer.echo, settings=settings)
        typer.echo((out / "table.md").read_text())
        typer.echo(f"wrote {out}/results.json, {out}/table.md, {out}/strips/, {out}/edits/ "
                   f"({len(report['rows'])} edits)")
        return
    from invert3d.runtime import resolve_device

    on_ray = (dict(checkpoint=checkpoint.resolve() if checkpoint else None, address=ray_address,
                   device=str(resolve_device(device)), cpus_per_task=cpus_per_task) if ray else None)
    report = run_suite(lambda: open_generator(checkpoint, None, device), suite, names, out,
                       checkpoint_identity(checkpoint), echo=typer.echo, curve_every=curve_every,
                       settings=settings, ray=on_ray)
    typer.echo((out / "table.md").read_text())
    typer.echo(f"wrote {out}/results.json, {out}/table.md, {out}/sheets/ ({len(report['records'])} records)")
