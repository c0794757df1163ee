"""Write ``examples/fleet.csv``: a made-up fleet of 300 production models.

The models come from six families (feed click-through, search ranking,
video multi-task, conversion, retrieval, notifications). Each family has its
own architecture, goal, surface, feature groups and size range, blurred with
noise and a few off-family choices, so the fleet clusters into sensible but
imperfect groups. Seeded: the same seed writes the same file.

Run ``python examples/make_fleet.py`` from the repository root, or pass
``--out`` and ``--seed``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

N_MODELS = 300
SEED = 7
INTERVALS_HOURS = (1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0, 168.0)


@dataclass(frozen=True)
class Family:
    """How one family of models tends to look.

    Attributes:
        name: Family name (not written to the file).
        weight: Relative share of the fleet.
        architecture: Architecture to probability.
        goal: Optimization goal to probability.
        surface: Product surface to probability.
        feature_groups: Feature groups every member has.
        optional_groups: Feature groups a member has with probability 0.3.
        log10_parameters: Mean of log10 of the parameter count.
        log10_flops_per_parameter: Mean of log10 of FLOPs per example per
            parameter.
        log10_examples_per_day: Mean of log10 of training examples per day.
        revenue_share: Beta distribution (a, b) of the revenue share.
        freshness_lag_hours: Typical feature freshness lag in hours.
        log10_value: Mean of log10 of money per gain point per day.
        interval_hours: Typical current retraining interval in hours.
    """

    name: str
    weight: float
    architecture: dict[str, float]
    goal: dict[str, float]
    surface: dict[str, float]
    feature_groups: tuple[str, ...]
    optional_groups: tuple[str, ...]
    log10_parameters: float
    log10_flops_per_parameter: float
    log10_examples_per_day: float
    revenue_share: tuple[float, float]
    freshness_lag_hours: float
    log10_value: float
    interval_hours: float


FAMILIES = (
    Family(
        name="feed_ctr",
        weight=0.25,
        architecture={"dlrm": 0.8, "dcn": 0.2},
        goal={"ctr": 0.95, "ranking": 0.05},
        surface={"feed": 0.85, "explore": 0.15},
        feature_groups=("user", "ad", "context", "sequence"),
        optional_groups=("creative",),
        log10_parameters=9.6,
        log10_flops_per_parameter=0.3,
        log10_examples_per_day=9.3,
        revenue_share=(2.0, 20.0),
        freshness_lag_hours=1.0,
        log10_value=4.3,
        interval_hours=6.0,
    ),
    Family(
        name="search_ranking",
        weight=0.2,
        architecture={"gbdt": 0.75, "dnn": 0.25},
        goal={"ranking": 1.0},
        surface={"search": 0.9, "marketplace": 0.1},
        feature_groups=("query", "document"),
        optional_groups=("context", "user"),
        log10_parameters=5.8,
        log10_flops_per_parameter=1.2,
        log10_examples_per_day=8.0,
        revenue_share=(1.5, 30.0),
        freshness_lag_hours=12.0,
        log10_value=3.3,
        interval_hours=24.0,
    ),
    Family(
        name="video_multi_task",
        weight=0.15,
        architecture={"mmoe": 0.85, "dlrm": 0.15},
        goal={"multi_task": 1.0},
        surface={"video": 0.8, "reels": 0.2},
        feature_groups=("user", "video", "context", "sequence"),
        optional_groups=("creator",),
        log10_parameters=8.7,
        log10_flops_per_parameter=0.6,
        log10_examples_per_day=9.0,
        revenue_share=(2.0, 25.0),
        freshness_lag_hours=2.0,
        log10_value=3.9,
        interval_hours=12.0,
    ),
    Family(
        name="conversion",
        weight=0.15,
        architecture={"dcn": 0.65, "dnn": 0.35},
        goal={"cvr": 0.95, "ctr": 0.05},
        surface={"feed": 0.5, "marketplace": 0.5},
        feature_groups=("user", "ad", "conversion"),
        optional_groups=("context",),
        log10_parameters=7.4,
        log10_flops_per_parameter=0.5,
        log10_examples_per_day=7.4,
        revenue_share=(1.0, 40.0),
        freshness_lag_hours=24.0,
        log10_value=3.6,
        interval_hours=48.0,
    ),
    Family(
        name="retrieval",
        weight=0.15,
        architecture={"two_tower": 1.0},
        goal={"ranking": 0.6, "ctr": 0.4},
        surface={"search": 0.4, "feed": 0.3, "video": 0.3},
        feature_groups=("user", "item"),
        optional_groups=("context", "sequence"),
        log10_parameters=8.2,
        log10_flops_per_parameter=-0.2,
        log10_examples_per_day=9.6,
        revenue_share=(1.0, 60.0),
        freshness_lag_hours=6.0,
        log10_value=2.9,
        interval_hours=24.0,
    ),
    Family(
        name="notifications",
        weight=0.1,
        architecture={"dnn": 0.6, "gbdt": 0.4},
        goal={"ctr": 1.0},
        surface={"notifications": 0.7, "email": 0.3},
        feature_groups=("user", "context"),
        optional_groups=("item",),
        log10_parameters=6.5,
        log10_flops_per_parameter=0.8,
        log10_examples_per_day=7.9,
        revenue_share=(1.0, 80.0),
        freshness_lag_hours=48.0,
        log10_value=2.5,
        interval_hours=168.0,
    ),
)


def make_fleet(
    n_models: int = N_MODELS, seed: int = SEED
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw a fleet's metadata and the family each model came from.

    Args:
        n_models: Models to draw.
        seed: Seed of the random generator.

    Returns:
        The metadata, one row per model with the columns of
        ``examples/fleet.csv``, and each model's family index, int array
        (n_models,).
    """
    rng = np.random.default_rng(seed)
    shares = np.array([family.weight for family in FAMILIES])
    family_of = rng.choice(len(FAMILIES), size=n_models, p=shares / shares.sum())
    rows = [_draw_model(rng, i, FAMILIES[f]) for i, f in enumerate(family_of)]
    return pd.DataFrame(rows), family_of.astype(np.int64)


def _draw_model(rng: np.random.Generator, i: int, family: Family) -> dict:
    n_parameters = 10 ** rng.normal(family.log10_parameters, 0.3)
    flops = n_parameters * 10 ** rng.normal(family.log10_flops_per_parameter, 0.15)
    examples_per_day = 10 ** rng.normal(family.log10_examples_per_day, 0.25)

    # Money per retrain follows compute: FLOPs over a day of examples.
    compute = 6 * flops * examples_per_day
    cost_per_retrain = compute / 1e17 * 10 ** rng.normal(0.0, 0.1)

    groups = set(family.feature_groups)
    groups |= {g for g in family.optional_groups if rng.random() < 0.3}
    lag = family.freshness_lag_hours * 10 ** rng.normal(0.0, 0.15)
    current = (
        family.interval_hours if rng.random() < 0.7 else rng.choice(INTERVALS_HOURS)
    )
    return {
        "model_id": f"m{i:04d}",
        "n_parameters": int(round(n_parameters)),
        "flops_per_example": float(f"{flops:.4g}"),
        "examples_per_day": int(round(examples_per_day)),
        "cost_per_retrain": float(f"{cost_per_retrain:.4g}"),
        "architecture": _pick(rng, family.architecture),
        "goal": _pick(rng, family.goal),
        "surface": _pick(rng, family.surface),
        "feature_groups": ";".join(sorted(groups)),
        "revenue_share": round(float(rng.beta(*family.revenue_share)), 4),
        "feature_freshness_lag_hours": (
            None if rng.random() < 0.05 else round(float(lag), 2)
        ),
        "value": round(float(10 ** rng.normal(family.log10_value, 0.3)), 2),
        "current_interval_hours": None if rng.random() < 0.15 else float(current),
    }


def _pick(rng: np.random.Generator, choices: dict[str, float]) -> str:
    names = list(choices)
    weights = np.array([choices[name] for name in names])
    return str(names[rng.choice(len(names), p=weights / weights.sum())])


def main() -> None:
    """Write the fleet file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--out", type=Path, default=here / "fleet.csv")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n-models", type=int, default=N_MODELS)
    args = parser.parse_args()

    frame, _ = make_fleet(args.n_models, args.seed)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame)} models to {args.out}")


if __name__ == "__main__":
    main()
