"""Benchmark suites: decorated synthetic subjects seen from chosen input poses, and the budget they run at."""

from __future__ import annotations

from dataclasses import dataclass, replace

from invert3d.config import InversionConfig, preset


@dataclass(frozen=True)
class Case:
    seed: int
    decal: str | None  # a procedural kind ('emblem', 'tattoo', 'paint'), text to print on the subject, or none
    yaw: float  # input view (rad)
    pitch: float = 0.0
    shift: tuple[tuple[str, float], ...] = ()  # latent coordinates moved (sd): the true result of an edit

    @property
    def name(self) -> str:
        shifted = "".join(f"_{k}{v:+g}" for k, v in self.shift)
        plain = "" if self.decal else "_plain"
        return f"s{self.seed:03d}_yaw{self.yaw:+.2f}_pitch{self.pitch:+.2f}{plain}{shifted}"

    def shifted(self, name: str, delta: float) -> "Case":
        """The same subject with latent coordinate ``name`` moved by ``delta`` sd: the true edit."""
        return replace(self, shift=((name, delta),))


SUITES: dict[str, tuple[Case, ...]] = {
    # One subject, shortened budgets: checks the whole benchmark in a few minutes.
    "smoke": (Case(3, "tattoo", 0.25),),
    # Five subjects, every decal type, frontal to three-quarter inputs (the issue-4 comparison).
    "five": (Case(1, "tattoo", 0.25), Case(2, "emblem", -0.3), Case(3, "paint", 0.0), Case(4, "INVERT", 0.45),
             Case(5, "tattoo", -0.15, 0.1)),
    # The full benchmark (under 2 h on two cores for pti, hfgi3d and the four ablation variants): six subjects,
    # every decal type, input yaw from -0.5 to +0.45 (three-quarter views both ways), three pitches.
    "default": (Case(1, "tattoo", 0.25), Case(2, "emblem", -0.3), Case(3, "paint", 0.0), Case(4, "INVERT", 0.45),
                Case(5, "tattoo", -0.15, 0.1), Case(6, "HFGI", -0.5, -0.1)),
    # The parameter sweeps: the three hardest subjects of 'default' (the emblem and both three-quarter views),
    # whose runs of plain hfgi3d are those of 'default'.
    "sweep": (Case(2, "emblem", -0.3), Case(4, "INVERT", 0.45), Case(6, "HFGI", -0.5, -0.1)),
    # The rest of 'default': the subjects no setting was swept on, where a setting chosen on 'sweep' is checked.
    "held-out": (Case(1, "tattoo", 0.25), Case(3, "paint", 0.0), Case(5, "tattoo", -0.15, 0.1)),
    # The three-quarter subject of 'five' at the paper's budgets: timings and the trade-off curves.
    "paper": (Case(4, "INVERT", 0.45),),
    # Attribute and texture edits (invert3d/benchmark/edits.py): two tattooed subjects, turned both ways.
    "edit": (Case(1, "tattoo", 0.25), Case(2, "tattoo", -0.2)),
}

SUITE_PRESET = {"smoke": "fast", "five": "fast", "default": "fast", "sweep": "fast", "held-out": "fast",
                "paper": "paper", "edit": "fast"}


def suite_config(suite: str, method: str) -> InversionConfig:
    """The inversion settings a suite runs ``method`` with (the same budgets for every method)."""
    cfg = preset(SUITE_PRESET[suite], method)
    if suite == "smoke":
        cfg = replace(cfg, coarse=replace(cfg.coarse, steps=40),
                      pseudo=replace(cfg.pseudo, occluded=replace(cfg.pseudo.occluded, steps=20)),
                      tuning=replace(cfg.tuning, steps=40), orbit_frames=24)
    if suite in ("default", "sweep", "edit"):
        cfg = replace(cfg, orbit_frames=24)  # the orbit video is not scored
    return cfg
