"""The ``invert3d`` command. Errors in the user's input print one line and exit with status 2."""

from __future__ import annotations

import sys

import typer

from invert3d.cli.align import align
from invert3d.cli.bench import bench
from invert3d.cli.convert import convert
from invert3d.cli.demo import demo
from invert3d.cli.invert import invert
from invert3d.cli.metrics import metrics
from invert3d.cli.render import render
from invert3d.cli.sample import sample
from invert3d.cli.synth import synth
from invert3d.cli.train import train
from invert3d.errors import Invert3dError
from invert3d.runtime import tune_runtime

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Single-photo 3D GAN inversion (EG3D) by pseudo-multi-view optimization.")
app.command()(align)
app.command()(bench)
app.command()(demo)
app.command()(invert)
app.command()(render)
app.command()(metrics)
app.command()(sample)
app.command()(convert)
app.command()(synth)
app.command()(train)


def main() -> None:
    tune_runtime()
    try:
        app()
    except Invert3dError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
