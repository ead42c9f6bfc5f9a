"""The ``invert3d`` command. Errors in the user's input print one line and exit with status 2; nothing heavy is
imported until a command runs, so ``--help`` is instant."""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Callable, Optional

import typer

from invert3d import __version__, console
from invert3d.cli.align import align
from invert3d.cli.app import app as serve_app
from invert3d.cli.bench import bench
from invert3d.cli.convert import convert
from invert3d.cli.demo import demo
from invert3d.cli.directions import directions
from invert3d.cli.edit import edit
from invert3d.cli.fetch import fetch_weights
from invert3d.cli.invert import invert
from invert3d.cli.metrics import metrics
from invert3d.cli.render import render
from invert3d.cli.sample import sample
from invert3d.cli.synth import synth
from invert3d.cli.train import train
from invert3d.errors import Invert3dError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings=CONTEXT,
                  help="Single-photo 3D GAN inversion (EG3D) by pseudo-multi-view optimization.")


def with_console(command: Callable) -> Callable:
    """The command with --quiet/-q and --verbose/-v added (they set ``invert3d.console``'s level); the process's
    CPU tuning is applied when it runs (not for --help, which imports no torch)."""
    extra = [inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                               default=typer.Option(False, "--quiet", "-q", help="Warnings and errors only.")),
             inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                               default=typer.Option(False, "--verbose", "-v", help="Also the debug detail."))]
    signature = inspect.signature(command)

    @functools.wraps(command)
    def run(*args, quiet: bool = False, verbose: bool = False, **kwargs):
        from invert3d.runtime import tune_runtime

        tune_runtime()
        console.configure(quiet, verbose)
        return command(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    return run


for command in (demo, align, invert, render, edit, directions, metrics, bench, sample, synth, convert, train):
    app.command()(with_console(command))
app.command("fetch-weights")(with_console(fetch_weights))
app.command("app")(with_console(serve_app))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"invert3d {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")) -> None:
    """Single-photo 3D GAN inversion (EG3D) by pseudo-multi-view optimization."""


def main() -> None:
    try:
        app()
    except Invert3dError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:  # a place that cannot be written or read (after the commands' own checks)
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted; run the same command again to resume where a long run stopped", err=True)
        sys.exit(130)
