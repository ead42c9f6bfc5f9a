"""``invert3d app``: a local browser app for one photo (pip install 'invert3d[app]')."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional

import typer

from invert3d.cli.common import (config_option, device_option, inversion_settings, open_generator, set_option,
                                 settings_list)
from invert3d.errors import Invert3dError

MAX_UPLOAD = "60mb"


def app(
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder (default: the "
                                              "embedded model)."),
    port: int = typer.Option(7860, min=1, max=65535, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    workdir: Path = typer.Option(Path("invert3d-app"), help="Folder for the results (ordinary result folders)."),
    config_file: Optional[Path] = config_option(),
    set_: list[str] = set_option(),
    device: str = device_option(),
) -> None:
    """Serve the app: upload a photo, see its crop and camera, invert it, look at it from any view, download the
    mesh and the result folder, edit it."""
    if importlib.util.find_spec("gradio") is None:
        raise Invert3dError("the app needs Gradio, an optional extra: pip install 'invert3d[app]'")
    from invert3d.app.ui import build_app
    from invert3d.config import METHODS, PRESETS

    settings = settings_list(config_file, set_)  # applied over the preset the page picks
    for preset_name in PRESETS:
        for method in METHODS:
            inversion_settings(preset_name, method, settings)  # a bad setting fails now, not in the page
    G = open_generator(checkpoint, None, device)
    page = build_app(G, checkpoint, workdir.resolve(), settings)
    typer.echo(f"invert3d app on http://{host}:{port} (results in {workdir}/); Ctrl+C stops it")
    page.queue().launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD, show_error=False,
                        allowed_paths=[str(workdir.resolve())], quiet=True)
