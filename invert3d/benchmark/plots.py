"""Benchmark figures (matplotlib, headless): the texture-geometry trade-off and parameter sweeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invert3d.files import atomic_file


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def mean_curves(curves: dict[str, dict[str, list[dict]]]) -> dict[str, dict[str, np.ndarray]]:
    """{subject: {method: [records]}} -> {method: {'step', 'input_psnr', 'novel_psnr': [S]}}, averaged over the
    subjects at the steps every subject has."""
    by_method: dict[str, list[list[dict]]] = {}
    for per_method in curves.values():
        for method, records in per_method.items():
            by_method.setdefault(method, []).append(records)
    means = {}
    for method, runs in by_method.items():
        steps = sorted(set.intersection(*({r["step"] for r in run} for run in runs)))
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
    subjects = ", ".join(curves)
    fig.suptitle(f"means over: {subjects}", fontsize=9)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
