"""Policy loading and validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from freqopt.errors import NotFoundError, PolicyError
from freqopt.policy import Guardrail, Policy, load_policy

POLICIES = Path(__file__).resolve().parents[1] / "policies"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_default_toml_loads_to_exactly_the_default_policy() -> None:
    assert load_policy(POLICIES / "default.toml") == Policy()


def test_no_path_gives_the_default_policy() -> None:
    assert load_policy(None) == Policy()


def test_efficiency_toml_uses_the_efficiency_objective() -> None:
    policy = load_policy(POLICIES / "efficiency.toml")
    assert policy.objective == "efficiency"
    assert policy.max_interval_hours == 168


def test_default_toml_documents_every_policy_key() -> None:
    text = (POLICIES / "default.toml").read_text()
    for field in dataclasses.fields(Policy):
        assert field.name in text, field.name


def test_missing_keys_keep_their_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "compute_price = 2.5\n"))
    assert policy == dataclasses.replace(Policy(), compute_price=2.5)


def test_intervals_are_stored_ascending_as_floats(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "intervals_hours = [24, 1, 4]\n"))
    assert policy.intervals_hours == (1.0, 4.0, 24.0)


def test_guardrail_tables_become_guardrails(tmp_path: Path) -> None:
    text = '[[guardrails]]\nname = "fill_rate"\nmin_change_pct = -0.5\n'
    policy = load_policy(write(tmp_path, text))
    assert policy.guardrails == (Guardrail("fill_rate", min_change_pct=-0.5),)


def test_unknown_key_is_rejected_with_the_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "objectiv = 'net_value'\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert "objectiv" in message
    assert "known keys" in message and "objective" in message
    assert str(path) in message


def test_bad_objective_names_key_value_and_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, "objective = 'budget_max'\n"))
    message = str(caught.value)
    assert "'objective'" in message and "budget_max" in message
    assert "'net_value'" in message and "'efficiency'" in message


@pytest.mark.parametrize("bad", ["0", "-4", "nan", "inf"])
def test_non_positive_or_non_finite_interval_is_rejected(
    tmp_path: Path, bad: str
) -> None:
    with pytest.raises(PolicyError, match="intervals_hours") as caught:
        load_policy(write(tmp_path, f"intervals_hours = [1, {bad}, 24]\n"))
    assert "positive" in str(caught.value)


@pytest.mark.parametrize("intervals", ["[1, 24, 24]", "[1, 24, 24.1]"])
def test_duplicate_and_near_duplicate_intervals_are_rejected(
    tmp_path: Path, intervals: str
) -> None:
    with pytest.raises(PolicyError, match="duplicate"):
        load_policy(write(tmp_path, f"intervals_hours = {intervals}\n"))


def test_empty_interval_list_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="non-empty"):
        load_policy(write(tmp_path, "intervals_hours = []\n"))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("epsilon = 0", "epsilon"),
        ("epsilon = 1.5", "epsilon"),
        ("compute_price = -1", "compute_price"),
        ("stop_delta = 1", "stop_delta"),
        ("batch_size = 0", "batch_size"),
        ("batch_size = 2.5", "batch_size"),
        ("seed = true", "seed"),
        ("cost_source = 'guess'", "cost_source"),
        ("max_trials_per_model = 0", "max_trials_per_model"),
    ],
)
def test_out_of_range_values_name_their_key(
    tmp_path: Path, line: str, key: str
) -> None:
    with pytest.raises(PolicyError, match=f"'{key}'"):
        load_policy(write(tmp_path, line + "\n"))


def test_bounds_that_exclude_every_interval_are_rejected(tmp_path: Path) -> None:
    text = "intervals_hours = [1, 2]\nmin_interval_hours = 4\n"
    with pytest.raises(PolicyError, match="exclude every allowed interval"):
        load_policy(write(tmp_path, text))


def test_min_interval_above_max_interval_is_rejected(tmp_path: Path) -> None:
    text = "min_interval_hours = 48\nmax_interval_hours = 24\n"
    with pytest.raises(PolicyError, match="min_interval_hours"):
        load_policy(write(tmp_path, text))


def test_guardrail_without_bounds_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="min_change_pct"):
        load_policy(write(tmp_path, '[[guardrails]]\nname = "fill_rate"\n'))


def test_guardrail_with_unknown_key_is_rejected(tmp_path: Path) -> None:
    text = '[[guardrails]]\nname = "fill_rate"\nmin_pct = -1\n'
    with pytest.raises(PolicyError, match="min_pct"):
        load_policy(write(tmp_path, text))


def test_duplicate_guardrail_names_are_rejected(tmp_path: Path) -> None:
    one = '[[guardrails]]\nname = "a"\nmax_change_pct = 1\n'
    with pytest.raises(PolicyError, match="at most once"):
        load_policy(write(tmp_path, one + one))


def test_invalid_toml_is_a_policy_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "objective = \n")
    with pytest.raises(PolicyError, match="not valid TOML") as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_policy(tmp_path / "absent.toml")


def test_policy_built_in_code_is_validated_too() -> None:
    with pytest.raises(PolicyError, match="objective"):
        Policy(objective="fastest")
    with pytest.raises(PolicyError, match="intervals_hours"):
        Policy(intervals_hours=(1.0, -2.0))
