"""Benchmark figures (matplotlib, headless): the texture-geometry trade-off and parameter sweeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invert3d.benchmark.methods import ABLATIONS, FIXED_VARIANTS, SHORTHANDS, method_config
from invert3d.files import atomic_file


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> None:
    """Lay out, write atomically as PNG, and free the figure."""
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def mean_curves(curves: dict[str, dict[str, list[dict]]]) -> dict[str, dict[str, np.ndarray]]:
    """{subject: {method: [records]}} -> {method: {'step', 'input_psnr', 'novel_psnr': [S]}}, averaged over the
    subjects at the steps every subject has (a method whose curves share no step is left out)."""
    by_method: dict[str, list[list[dict]]] = {}
    for per_method in curves.values():
        for method, records in per_method.items():
            by_method.setdefault(method, []).append(records)
    means = {}
    for method, runs in by_method.items():
        steps = sorted(set.intersection(*({r["step"] for r in run} for run in runs)))
        if not steps:
            continue
        rows = [[next(r for r in run if r["step"] == s) for s in steps] for run in runs]
        means[method] = {"step": np.array(steps)}
        for key in ("input_psnr", "novel_psnr"):
            means[method][key] = np.mean([[r[key] for r in run] for run in rows], axis=0)
    return means


def tradeoff_plot(curves: dict[str, dict[str, list[dict]]], path: Path) -> None:
    """Figure 2 / 7 of the paper from measured curves: PSNR of the input view and of the novel views (vs. the
    truth) along the final optimization (left), and novel- against input-view PSNR (right)."""
    plt = _pyplot()
    means = mean_curves(curves)
    fig, (ax_steps, ax_trade) = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, (method, m) in enumerate(means.items()):
        colour = f"C{k}"
        ax_steps.plot(m["step"], m["input_psnr"], "-", color=colour, label=f"{method}: input view")
        ax_steps.plot(m["step"], m["novel_psnr"], "--", color=colour, label=f"{method}: novel views")
        ax_trade.plot(m["input_psnr"], m["novel_psnr"], "o-", color=colour, markersize=3, label=method)
        ax_trade.annotate(f"{m['step'][-1]}", (m["input_psnr"][-1], m["novel_psnr"][-1]), fontsize=8,
                          textcoords="offset points", xytext=(4, 4))
    ax_steps.set(xlabel="final-optimization step", ylabel="PSNR (dB)", title="Fidelity along the optimization")
    ax_trade.set(xlabel="input-view PSNR (dB)", ylabel="novel-view PSNR vs. truth (dB)",
                 title="Texture-geometry trade-off (points every N steps)")
    for ax in (ax_steps, ax_trade):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    names = list(curves)
    fig.suptitle(f"means over {len(names)} subject(s): " + (names[0] if len(names) == 1 else
                                                              f"{names[0]} ... {names[-1]}"), fontsize=9)
    _save(plt, fig, path)


def _family(name: str) -> str | None:
    """The setting a method name sweeps ('theta', 'views', 'pseudo.blend', 'loss.lpips', ...: the shorthand or
    the key of its one variant), or None (no variant, several, or an ablation)."""
    parts = name.split("/")[1:]
    if len(parts) != 1 or parts[0] in ABLATIONS:
        return None
    if parts[0] in FIXED_VARIANTS:
        return FIXED_VARIANTS[parts[0]][0].split("=")[0]
    return parts[0].split("=")[0] if "=" in parts[0] else None


def _lookup(cfg, key: str):
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _setting(family: str, name: str) -> tuple[float, str]:
    """The swept setting of a method: (sort key, label), e.g. ('views', 'hfgi3d') -> (30, '10x3'); settings that
    are not numbers sort the default first."""
    cfg = method_config("default", name)
    keys = SHORTHANDS.get(family, (family,))
    values = [_lookup(cfg, key) for key in keys]
    label = "x".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        key = float(values[0] * values[1]) if family == "views" else float(values[0])
    else:
        key = float(values != [_lookup(method_config("default", "hfgi3d"), k) for k in keys])
    return key, label


def _sweep_points(methods: list[str]) -> dict[str, list[str]]:
    """{swept parameter: method names by setting}, each with plain 'hfgi3d' (the defaults) as one point."""
    if "hfgi3d" not in methods:
        return {}
    families: dict[str, list[str]] = {}
    for name in methods:
        family = _family(name)
        if family is not None:
            families.setdefault(family, ["hfgi3d"]).append(name)
    return {family: sorted(names, key=lambda n: _setting(family, n)[0]) for family, names in families.items()}


def sweep_plot(means: dict[str, dict[str, float]], path: Path) -> bool:
    """One panel per swept parameter (theta, views, ...): hfgi3d's input- and novel-view PSNR at each setting,
    as the difference from the defaults (plain 'hfgi3d', drawn at 0). Returns False (and writes nothing) when
    ``means`` holds no sweep."""
    families = _sweep_points(list(means))
    if not families:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(families), figsize=(3.6 * len(families), 3.6), squeeze=False, sharey=True)
    for ax, (family, points) in zip(axes[0], families.items()):
        labels = [name.partition("/")[2] or f"default ({_setting(family, name)[1]})" for name in points]
        x = np.arange(len(points))
        for key, style in (("input_psnr", "o-"), ("novel_psnr", "s--")):
            ax.plot(x, [means[name][key] - means["hfgi3d"][key] for name in points], style,
                    label=key.replace("_", " "))
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(x, labels, rotation=20, fontsize=8)
        ax.set(title=family)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("PSNR − default's (dB)")
    axes[0][0].legend(fontsize=8)
    _save(plt, fig, path)
    return True
