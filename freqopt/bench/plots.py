"""PNG figures of a benchmark result.

Per noise level: the share of models within 2 % (and 5 %) regret against
experiments per model, one line per strategy with its 95 % band; and the
distribution of regret over models and seeds at a few fixed budgets.
Figures are drawn with matplotlib's object API on an Agg canvas, so no global
backend is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from freqopt.bench.runner import BenchmarkResult

__all__ = ["plot_regret", "plot_share", "write_plots"]

#: Regret below this is drawn on a linear scale, above it logarithmically.
_REGRET_LINEAR_BELOW = 0.02


def _figure(width: float = 7.0, height: float = 4.5) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _noise_label(noise: float) -> str:
    return "fleet noise" if not np.isfinite(noise) else f"noise {noise:g}"


def _noise_tag(noise: float) -> str:
    return "own" if not np.isfinite(noise) else f"{noise:g}"


def plot_share(
    result: BenchmarkResult, noise: float, threshold: str, path: Path
) -> Path:
    """Share of models within a regret threshold against experiments per model.

    Args:
        result: Benchmark result.
        noise: Noise level to plot.
        threshold: ``"2pct"`` or ``"5pct"``.
        path: PNG file to write.

    Returns:
        The path written.
    """
    from matplotlib import colormaps

    figure = _figure()
    axes = figure.add_subplot()
    palette = colormaps["tab10"]
    names = list(result.settings["strategies"])
    for s in result.summaries:
        if not np.isclose(s.noise, noise, equal_nan=True):
            continue
        color = palette(names.index(s.strategy) % 10)
        mean, low, high = getattr(s, f"share_within_{threshold}")
        shown = np.isfinite(mean)
        if _runs_no_experiment(s):
            # A zero-experiment reference: one level for every budget.
            label = f"{s.strategy} (no own experiment)"
            axes.axhline(mean[0], ls="--", lw=1.2, color=color, label=label)
            axes.axhspan(low[0], high[0], alpha=0.08, color=color)
            continue
        axes.plot(
            s.k[shown], mean[shown], marker="o", ms=3, color=color, label=s.strategy
        )
        axes.fill_between(s.k[shown], low[shown], high[shown], alpha=0.15, color=color)

    percent = threshold.removesuffix("pct")
    axes.set_xlabel("experiments per model (fleet average)")
    axes.set_ylabel(f"share of models within {percent} % regret")
    axes.set_ylim(0.0, 1.02)
    axes.set_title(f"Share of models near their ROI optimum ({_noise_label(noise)})")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.savefig(path)
    return path


def _runs_no_experiment(summary: Any) -> bool:
    """Whether a strategy never runs an experiment (a cold-start reference)."""
    used = summary.experiments_per_model[0]
    return bool(np.all(np.nan_to_num(used, nan=0.0) == 0))


def plot_regret(
    result: BenchmarkResult, noise: float, k: float, path: Path
) -> Path | None:
    """Box plot of regret over models and seeds at ``k`` experiments per model.

    Args:
        result: Benchmark result.
        noise: Noise level to plot.
        k: Experiments per model.
        path: PNG file to write.

    Returns:
        The path written, or None when no strategy was scored at ``k``.
    """
    labels, data = [], []
    for name in result.settings["strategies"]:
        values = []
        for run in result.runs:
            m = run.metrics
            if m.strategy != name or not np.isclose(run.noise, noise, equal_nan=True):
                continue
            column = np.flatnonzero(np.isclose(m.k, k))
            if column.size and np.all(np.isfinite(m.regret[column[0]])):
                values.append(m.regret[column[0]])
        if values:
            labels.append(name)
            data.append(np.concatenate(values))
    if not data:
        return None

    figure = _figure(width=max(6.0, 1.1 * len(labels) + 2))
    axes = figure.add_subplot()
    axes.boxplot(data, showfliers=True, flierprops={"markersize": 2, "alpha": 0.4})
    axes.set_xticks(np.arange(1, len(labels) + 1), labels, rotation=20)
    axes.set_yscale("symlog", linthresh=_REGRET_LINEAR_BELOW)
    axes.set_ylim(bottom=0.0)
    axes.axhline(0.02, color="grey", lw=0.8, ls="--")
    axes.axhline(0.05, color="grey", lw=0.8, ls=":")
    axes.set_ylabel("normalized regret (0 = optimum, 1 = median interval)")
    axes.set_title(f"Regret at {k:g} experiments per model ({_noise_label(noise)})")
    axes.grid(alpha=0.3, axis="y")
    figure.savefig(path)
    return path


def write_plots(result: BenchmarkResult, out_dir: Path) -> tuple[Path, ...]:
    """Write every figure of a result into ``out_dir``.

    Args:
        result: Benchmark result.
        out_dir: Existing directory.

    Returns:
        The PNG files written.
    """
    files: list[Path] = []
    budget = float(result.settings["budget_per_model"])
    for noise in sorted({s.noise for s in result.summaries}):
        tag = _noise_tag(noise)
        for threshold in ("2pct", "5pct"):
            path = out_dir / f"share_within_{threshold}_noise_{tag}.png"
            files.append(plot_share(result, noise, threshold, path))
        for k in sorted({2.0, min(3.0, budget), budget}):
            path = out_dir / f"regret_k{k:g}_noise_{tag}.png"
            written = plot_regret(result, noise, k, path)
            if written is not None:
                files.append(written)
    return tuple(files)
