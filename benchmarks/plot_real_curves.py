"""Plot the true gain and ROI curves of a few real-data models.

Usage: python benchmarks/plot_real_curves.py [--out docs/real_curves.png]

Builds (or loads from the cache) the real-data replay fleet and draws, for
six models from different data sets, the true gain (percent loss reduction
against the model's baseline schedule) and the true ROI over the allowed
intervals, with the ROI optimum marked.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHOWN = (
    "flights-delay-logistic-weather-28d",
    "elec-demand-ridge-temperature-28d",
    "calls-ridge-lags-14d",
    "chicago-ridge-calendar-365d",
    "births-ridge-calendar-365d-tx",
    "calls-ridge-calendar-7d",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/real_curves.png"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from freqopt.replay import build_real_fleet

    truth = build_real_fleet(n_jobs=args.jobs).truth
    rows = {m: i for i, m in enumerate(truth.model_ids)}
    figure = Figure(figsize=(13, 7), layout="constrained")
    axes = figure.subplots(2, 3).ravel()
    for axis, model_id in zip(axes, SHOWN, strict=True):
        i = rows[model_id]
        ok = truth.allowed[i]
        hours = truth.intervals_hours[ok]
        axis.plot(hours, truth.true_gain[i, ok], "o-", color="tab:blue", label="gain")
        axis.set_xscale("log")
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("retraining interval (hours)")
        axis.set_ylabel("gain (% loss reduction)", color="tab:blue")
        money = axis.twinx()
        roi = truth.true_roi[i, ok]
        money.plot(hours, roi, "s--", color="tab:green", label="ROI")
        best = int(np.argmax(roi))
        money.axvline(hours[best], color="black", linestyle=":", linewidth=1)
        money.set_ylabel("ROI (money / day)", color="tab:green")
        axis.set_title(f"{model_id}\noptimum {hours[best]:g} h", fontsize=9)
    figure.suptitle(
        "True gain and ROI curves of six real-data models (exhaustive replay)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
