"""What to optimize and within which bounds: the policy.

A policy is a TOML file under ``policies/`` (every key is documented in
``policies/default.toml``) loaded into one validated, frozen :class:`Policy`.
Validation happens once, here; the core trusts a :class:`Policy`.

Example:
    >>> from freqopt.policy import load_policy
    >>> load_policy(None).objective
    'net_value'
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from freqopt.errors import NotFoundError, PolicyError

__all__ = ["OBJECTIVES", "Guardrail", "Policy", "load_policy"]

#: Objectives a policy may name.
OBJECTIVES: tuple[str, ...] = ("efficiency", "net_value")

#: Where per-interval compute cost comes from.
COST_SOURCES: tuple[str, ...] = ("metadata", "observed")

#: Two allowed intervals closer than this ratio count as duplicates.
_MIN_INTERVAL_RATIO = 1.01

_GUARDRAIL_KEYS = ("name", "min_change_pct", "max_change_pct")


@dataclass(frozen=True)
class Guardrail:
    """Bounds on one guardrail metric, in percent change against baseline.

    An interval whose measured values of the metric are likely outside the
    bounds is ruled out for that model.

    Attributes:
        name: Guardrail metric name as it appears in results.
        min_change_pct: Lowest acceptable change in percent (e.g. -0.5 means
            "must not drop more than 0.5 %"), or None for no lower bound.
        max_change_pct: Highest acceptable change in percent, or None.
    """

    name: str
    min_change_pct: float | None = None
    max_change_pct: float | None = None

    def __post_init__(self) -> None:
        _check_guardrail(self, "Guardrail", "guardrails")


@dataclass(frozen=True)
class Policy:
    """A validated policy: objective, costs, bounds, guardrails and stopping.

    Attributes:
        intervals_hours: Allowed retraining intervals in hours, stored
            ascending; positive, finite, and at least 1 % apart.
        objective: ``"net_value"`` (maximize value x gain - compute price x
            cost per day) or ``"efficiency"`` (cheapest interval whose
            expected gain is within ``epsilon`` of the best expected gain).
        epsilon: Relative tolerance in (0, 1). For ``efficiency``, the gain
            tolerance as a fraction of the best gain; for stopping, how close
            to the optimum (as a fraction of the model's ROI scale) counts as
            "at the optimum".
        compute_price: Money per unit of cost (e.g. per GPU-hour), >= 0.
        cost_source: ``"metadata"`` (cost per retrain x retrains per day plus
            ``fixed_overhead_per_day``) or ``"observed"`` (cost measured by
            trials, falling back to metadata where none was measured).
        fixed_overhead_per_day: Cost per day paid at every interval, >= 0,
            in cost units per day.
        min_interval_hours: Shortest interval allowed, or None.
        max_interval_hours: Longest interval allowed (freshness SLA), or None.
        guardrails: Bounds on guardrail metrics.
        stop_ei_fraction: A model is settled when its largest expected ROI
            improvement is below this fraction of its ROI scale, >= 0 (0
            turns this rule off).
        stop_delta: A model is settled when the posterior probability that
            its recommended interval is within ``epsilon`` of the optimum
            exceeds ``1 - stop_delta``; in [0, 1) (0 turns this rule off).
        min_trials_to_settle: Results a model needs of its own before it can
            be settled, >= 0.
        max_trials_per_model: A model with this many results is settled
            whatever the stopping rules say (a cap on the experiments spent
            on one noisy model), >= 1.
        batch_size: Proposals per call to next-trial, >= 1.
        seed: Seed for everything random (posterior sampling), >= 0.
    """

    intervals_hours: tuple[float, ...] = (
        0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 72, 168, 336,
    )  # fmt: skip
    objective: str = "net_value"
    epsilon: float = 0.02
    compute_price: float = 1.0
    cost_source: str = "metadata"
    fixed_overhead_per_day: float = 0.0
    min_interval_hours: float | None = None
    max_interval_hours: float | None = None
    guardrails: tuple[Guardrail, ...] = ()
    stop_ei_fraction: float = 0.01
    stop_delta: float = 0.05
    min_trials_to_settle: int = 1
    max_trials_per_model: int = 24
    batch_size: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        checked = _check_values(values, "Policy")
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def load_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """Load and validate a policy file.

    Args:
        path: A TOML policy file, or None for the default policy.

    Returns:
        The validated policy; keys absent from the file keep their defaults.

    Raises:
        NotFoundError: The file does not exist.
        PolicyError: The file is not valid TOML, names an unknown key, or a
            value is out of range; the message names the file, the key, the
            value received and what is allowed.
    """
    if path is None:
        return Policy()

    file = Path(path)
    source = f"policy file '{file}'"
    if not file.is_file():
        raise NotFoundError(
            f"{source} does not exist; pass an existing TOML file "
            "(see policies/default.toml) or omit it for the defaults"
        )

    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{source} is not valid TOML: {exc}") from exc

    return Policy(**_check_values(raw, source))


def _check_values(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Validate raw policy values and return them normalized.

    Args:
        raw: Key to value, as read from TOML or given to :class:`Policy`.
        source: What to name in error messages (file or class).

    Returns:
        The values, normalized (intervals sorted, numbers as float).

    Raises:
        PolicyError: An unknown key or an invalid value.
    """
    known = [f.name for f in fields(Policy)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise PolicyError(
            f"{source}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(sorted(known))}"
        )

    out = dict(raw)
    if "intervals_hours" in raw:
        out["intervals_hours"] = _check_intervals(raw["intervals_hours"], source)
    if "objective" in raw:
        _check_choice(raw["objective"], "objective", OBJECTIVES, source)
    if "cost_source" in raw:
        _check_choice(raw["cost_source"], "cost_source", COST_SOURCES, source)
    if "guardrails" in raw:
        out["guardrails"] = _check_guardrails(raw["guardrails"], source)

    numbers = {
        "epsilon": (0.0, 1.0, False, False, "a number in (0, 1), e.g. 0.02"),
        "compute_price": (0.0, math.inf, True, False, "a number >= 0"),
        "fixed_overhead_per_day": (0.0, math.inf, True, False, "a number >= 0"),
        "min_interval_hours": (0.0, math.inf, False, False, "a number > 0"),
        "max_interval_hours": (0.0, math.inf, False, False, "a number > 0"),
        "stop_ei_fraction": (0.0, math.inf, True, False, "a number >= 0"),
        "stop_delta": (0.0, 1.0, True, False, "a number in [0, 1), e.g. 0.05"),
    }
    for key, (low, high, low_ok, high_ok, allowed) in numbers.items():
        if key in raw and raw[key] is not None:
            out[key] = _check_number(
                raw[key], key, source, low, high, low_ok, high_ok, allowed
            )

    integers = {
        "min_trials_to_settle": 0,
        "max_trials_per_model": 1,
        "batch_size": 1,
        "seed": 0,
    }
    for key, low in integers.items():
        if key in raw:
            out[key] = _check_int(raw[key], key, source, low)

    _check_bounds(out, source)
    return out


def _fail(source: str, key: str, value: Any, allowed: str) -> PolicyError:
    """Build the one shape of policy error: thing, value, allowed, fix."""
    return PolicyError(
        f"{source}: key '{key}' got {value!r}; allowed: {allowed}. "
        f"Fix '{key}' in the policy"
    )


def _is_number(value: Any) -> bool:
    """Whether value is an int or float (bool excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_choice(value: Any, key: str, choices: tuple[str, ...], source: str) -> None:
    """Raise unless value is one of choices."""
    if value not in choices:
        raise _fail(source, key, value, ", ".join(map(repr, choices)))


def _check_number(
    value: Any,
    key: str,
    source: str,
    low: float,
    high: float,
    low_ok: bool,
    high_ok: bool,
    allowed: str,
) -> float:
    """Return value as a float if finite and within the bounds, else raise."""
    if not _is_number(value) or not math.isfinite(value):
        raise _fail(source, key, value, allowed)
    above = value >= low if low_ok else value > low
    below = value <= high if high_ok else value < high
    if not (above and below):
        raise _fail(source, key, value, allowed)
    return float(value)


def _check_int(value: Any, key: str, source: str, low: int) -> int:
    """Return value if it is an int >= low, else raise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _fail(source, key, value, f"an integer >= {low}")
    return value


def _check_intervals(value: Any, source: str) -> tuple[float, ...]:
    """Validate allowed intervals and return them ascending as floats."""
    allowed = "a non-empty list of positive, finite, distinct hours"
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise _fail(source, "intervals_hours", value, allowed)

    items = list(value)
    bad = [v for v in items if not _is_number(v) or not math.isfinite(v) or v <= 0]
    if not items or bad:
        shown = bad[0] if bad else value
        raise _fail(source, "intervals_hours", shown, allowed)

    ordered = sorted(float(v) for v in items)
    for short, long in zip(ordered, ordered[1:], strict=False):
        if long < short * _MIN_INTERVAL_RATIO:
            raise _fail(
                source,
                "intervals_hours",
                value,
                f"{allowed}; {short:g} and {long:g} are (near-)duplicates "
                "(intervals must differ by more than 1 %)",
            )
    return tuple(ordered)


def _check_guardrails(value: Any, source: str) -> tuple[Guardrail, ...]:
    """Validate guardrails given as tables (TOML) or Guardrail objects."""
    allowed = "a list of [[guardrails]] tables with name, min/max_change_pct"
    if isinstance(value, str | Mapping) or not hasattr(value, "__iter__"):
        raise _fail(source, "guardrails", value, allowed)

    out: list[Guardrail] = []
    for item in value:
        if isinstance(item, Guardrail):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            raise _fail(source, "guardrails", item, allowed)
        unknown = sorted(set(item) - set(_GUARDRAIL_KEYS))
        if unknown:
            raise PolicyError(
                f"{source}: unknown key(s) {', '.join(map(repr, unknown))} in "
                f"a guardrail; known keys: {', '.join(_GUARDRAIL_KEYS)}"
            )
        if "name" not in item:
            raise _fail(source, "guardrails", dict(item), "each needs a 'name'")
        out.append(_build_guardrail(item, source))

    names = [g.name for g in out]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise _fail(source, "guardrails", duplicated, "each name at most once")
    return tuple(out)


def _build_guardrail(item: Mapping[str, Any], source: str) -> Guardrail:
    """Build one guardrail from a table, naming the source on error."""
    name = item["name"]
    key = f"guardrails.{name}"
    candidate = {k: item.get(k) for k in _GUARDRAIL_KEYS}
    probe = _UncheckedGuardrail(**candidate)
    _check_guardrail(probe, source, key)
    return Guardrail(str(name), item.get("min_change_pct"), item.get("max_change_pct"))


@dataclass(frozen=True)
class _UncheckedGuardrail:
    """Field holder used to validate a guardrail before building it."""

    name: Any
    min_change_pct: Any = None
    max_change_pct: Any = None


def _check_guardrail(
    guardrail: Guardrail | _UncheckedGuardrail, source: str, key: str = ""
) -> None:
    """Raise unless the guardrail has a name and at least one sane bound."""
    key = key or f"guardrails.{guardrail.name}"
    if not isinstance(guardrail.name, str) or not guardrail.name.strip():
        raise _fail(source, "guardrails.name", guardrail.name, "a non-empty string")

    bounds = (guardrail.min_change_pct, guardrail.max_change_pct)
    names = ("min_change_pct", "max_change_pct")
    for bound_name, bound in zip(names, bounds, strict=True):
        if bound is not None and (not _is_number(bound) or not math.isfinite(bound)):
            raise _fail(source, f"{key}.{bound_name}", bound, "a finite number")

    low, high = bounds
    if low is None and high is None:
        raise _fail(
            source, key, "no bounds", "at least one of min_change_pct, max_change_pct"
        )
    if low is not None and high is not None and low > high:
        raise _fail(
            source,
            f"{key}.min_change_pct",
            low,
            f"a number <= max_change_pct ({high})",
        )


def _check_bounds(values: Mapping[str, Any], source: str) -> None:
    """Raise if the interval bounds exclude every allowed interval."""
    low = values.get("min_interval_hours")
    high = values.get("max_interval_hours")
    if low is not None and high is not None and low > high:
        raise _fail(
            source,
            "min_interval_hours",
            low,
            f"a number <= max_interval_hours ({high})",
        )

    intervals = values.get("intervals_hours", Policy.intervals_hours)
    inside = [
        t
        for t in intervals
        if (low is None or t >= low) and (high is None or t <= high)
    ]
    if not inside:
        raise PolicyError(
            f"{source}: min_interval_hours={low!r} and max_interval_hours="
            f"{high!r} exclude every allowed interval "
            f"({', '.join(f'{t:g}' for t in intervals)}); widen the bounds"
        )
